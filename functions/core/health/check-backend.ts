import type { BackendUrl } from '../backend-url.js';
import { checkFtp, type FtpCheckOptions } from './checks/ftp-check.js';
import { checkSftp } from './checks/sftp-check.js';
import type { CheckResult } from './health-state.js';

export type ActiveCheckOptions = FtpCheckOptions & {
  /**
   * For pools whose allowDestinationNetworks the caller does not pass (the Lambda, `control-plane
   * serve`): the networks registered and discovered targets may be in besides public ones.
   */
  allowDestinationNetworks?: readonly string[];
};

export const DEFAULT_ACTIVE_CHECK_OPTIONS: ActiveCheckOptions = {
  timeoutMs: 5000,
  check: 'banner',
  allowUntrustedCertificates: false,
  certificateExpiryWarningDays: 14,
};

/**
 * One backend's active check, by its protocol: FTP, FTPS (AUTH TLS or implicit) or SFTP (SSH).
 * `address`: connect there instead of resolving `url.host` again (the address the destination
 * policy judged); TLS still names `url.host`.
 */
export function checkBackend(
  url: BackendUrl,
  options: ActiveCheckOptions,
  address?: string,
): Promise<CheckResult> {
  if (url.protocol === 'sftp') {
    return checkSftp(
      url,
      { timeoutMs: options.timeoutMs, ...(options.now ? { now: options.now } : {}) },
      address,
    );
  }
  return checkFtp(url, options, address);
}
