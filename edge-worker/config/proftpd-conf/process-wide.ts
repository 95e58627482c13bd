import { at, describeScope, type ImportState, type Settings } from './state.js';

/** The settings ftpx has one of for the whole process. */
export type ProcessWideKey =
  | 'ProxyLog'
  | 'TransferLog'
  | 'TLSSessionCache'
  | 'TLSStaplingCache'
  | 'TLSStapling'
  | 'TLSStaplingOptions'
  | 'TLSStaplingResponder'
  | 'TLSStaplingTimeout';

/**
 * ftpx writes one log (and one transfer log, and has one TLS cache configuration) for the whole
 * process: the main server's, else <Global>'s, else the first <VirtualHost>'s. One inside a
 * <VirtualHost> gets a warning saying so.
 */
export function processWide<K extends ProcessWideKey>(
  state: ImportState,
  key: K,
  what = 'writes one log',
): Settings[K] {
  const chosen =
    state.main.settings[key] ??
    state.global.settings[key] ??
    state.vhosts.map((vhost) => vhost.settings[key]).find((log) => log !== undefined);
  for (const vhost of state.vhosts) {
    const log = vhost.settings[key];
    if (!log || !chosen) continue;
    if (log === chosen) {
      state.issues.warn(
        log.loc,
        log.name,
        `applies to the whole ftpx process, not only to ${describeScope(vhost)}`,
      );
    } else {
      state.issues.warn(
        log.loc,
        log.name,
        `ignored: ftpx ${what} for the whole process, set at ${at(chosen.loc)}`,
      );
    }
  }
  return chosen;
}
