import type { BackendUrl } from '../backend-url.js';
import { checkFtp, type FtpCheckOptions } from './checks/ftp-check.js';
import { checkSftp } from './checks/sftp-check.js';
import type { CheckResult } from './health-state.js';

export type ActiveCheckOptions = FtpCheckOptions;

export const DEFAULT_ACTIVE_CHECK_OPTIONS: ActiveCheckOptions = {
  timeoutMs: 5000,
  check: 'banner',
  allowUntrustedCertificates: false,
  certificateExpiryWarningDays: 14,
};

/** One backend's active check, by its protocol: FTP, FTPS (AUTH TLS or implicit) or SFTP (SSH). */
export function checkBackend(url: BackendUrl, options: ActiveCheckOptions): Promise<CheckResult> {
  if (url.protocol === 'sftp') {
    return checkSftp(url, { timeoutMs: options.timeoutMs, ...(options.now ? { now: options.now } : {}) });
  }
  return checkFtp(url, options);
}
