import { parseCidrList } from '../net/index.js';
import { type ActiveCheckOptions, DEFAULT_ACTIVE_CHECK_OPTIONS } from './check-backend.js';

/**
 * Active check options from a function's environment (Lambda): FTPX_HEALTH_CHECK_TIMEOUT_MS,
 * FTPX_HEALTH_CHECK_FTP (banner, noop or login), FTPX_HEALTH_CHECK_USER and _PASSWORD (the
 * health-check account), FTPX_HEALTH_CHECK_ALLOW_UNTRUSTED (on/off) and
 * FTPX_HEALTH_CHECK_CERT_WARNING_DAYS; FTPX_HEALTH_CHECK_ALLOW_NETWORKS (comma-separated CIDRs):
 * the allowDestinationNetworks of every pool whose list the caller does not pass, for registered and
 * discovered targets (unset: only public addresses are checked, as on an edge without the key).
 */
export function activeCheckOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): ActiveCheckOptions {
  const options: ActiveCheckOptions = { ...DEFAULT_ACTIVE_CHECK_OPTIONS };
  const whole = (name: string) => {
    const text = env[name];
    if (text === undefined || text === '') return undefined;
    if (!/^\d+$/.test(text)) throw new Error(`${name}: "${text}" is not a whole number`);
    return Number(text);
  };
  const timeout = whole('FTPX_HEALTH_CHECK_TIMEOUT_MS');
  if (timeout !== undefined) options.timeoutMs = timeout;
  const days = whole('FTPX_HEALTH_CHECK_CERT_WARNING_DAYS');
  if (days !== undefined) options.certificateExpiryWarningDays = days;
  const check = env.FTPX_HEALTH_CHECK_FTP;
  if (check !== undefined && check !== '') {
    if (check !== 'banner' && check !== 'noop' && check !== 'login') {
      throw new Error(`FTPX_HEALTH_CHECK_FTP: "${check}" is not banner, noop or login`);
    }
    options.check = check;
  }
  if (env.FTPX_HEALTH_CHECK_USER) options.user = env.FTPX_HEALTH_CHECK_USER;
  if (env.FTPX_HEALTH_CHECK_PASSWORD !== undefined) options.password = env.FTPX_HEALTH_CHECK_PASSWORD;
  if (options.check === 'login' && options.user === undefined) {
    throw new Error('FTPX_HEALTH_CHECK_FTP=login needs FTPX_HEALTH_CHECK_USER');
  }
  const untrusted = env.FTPX_HEALTH_CHECK_ALLOW_UNTRUSTED;
  if (untrusted !== undefined && untrusted !== '') {
    if (untrusted !== 'on' && untrusted !== 'off') {
      throw new Error(`FTPX_HEALTH_CHECK_ALLOW_UNTRUSTED: "${untrusted}" is not on or off`);
    }
    options.allowUntrustedCertificates = untrusted === 'on';
  }
  const networks = env.FTPX_HEALTH_CHECK_ALLOW_NETWORKS;
  if (networks !== undefined && networks.trim() !== '') {
    const texts = networks.split(',').map((text) => text.trim());
    const parsed = parseCidrList(texts);
    if (!parsed.ok) throw new Error(`FTPX_HEALTH_CHECK_ALLOW_NETWORKS: ${parsed.error}`);
    options.allowDestinationNetworks = texts;
  }
  return options;
}
