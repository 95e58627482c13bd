import type { ConfigInput } from '../schema.js';
import type { KeyPath } from '../zod-issues.js';
import { buildLogs } from './build-logs.js';
import { buildServers } from './build-servers.js';
import { buildTlsCache } from './build-tls-cache.js';
import { type ImportState, type Origin, originOf } from './state.js';

export interface BuiltConfig {
  /** The native configuration (before validation). */
  input: ConfigInput;
  /** The directive behind a path of the native configuration, e.g. `['pools', 0, 'retryCount']`. */
  locate(path: KeyPath): Origin;
}

/** Builds the native configuration from what the walk read: pools and listeners, classes, data dir, logs, TLS caches. */
/** mod_ban is one per process in ftpx (its ban list is shared by every worker): the main server's, else <Global>'s. */
function buildBans(state: ImportState): ConfigInput['bans'] | undefined {
  const pick = <K extends 'BanEngine' | 'BanMessage' | 'BanOnEvent'>(key: K) =>
    state.main.settings[key] ?? state.global.settings[key];
  const engine = pick('BanEngine');
  const message = pick('BanMessage');
  const rules = pick('BanOnEvent');
  if (!engine && !message && !rules) return undefined;
  return {
    ...(engine ? { engine: engine.value } : {}),
    ...(message ? { message: message.value } : {}),
    ...(rules ? { rules: rules.value as NonNullable<ConfigInput['bans']>['rules'] } : {}),
  };
}

export function buildConfig(state: ImportState): BuiltConfig {
  const { file } = state;
  const { pools, poolOrigins, listeners: built } = buildServers(state);
  const input: ConfigInput = { listeners: built.listeners, pools };
  if (state.classes.length > 0) {
    input.classes = state.classes.map(({ name, from, forwardEnabled }) => ({
      name,
      from,
      ...(forwardEnabled === undefined ? {} : { forwardEnabled }),
    }));
  }
  const tables = state.main.settings.ProxyTables;
  if (tables) input.dataDir = tables.value;
  else if (pools.length > 0) {
    state.issues.warn({ file }, 'ProxyTables', 'not set: ftpx keeps its data in "data" next to this file');
  }
  const logs = buildLogs(state);
  if (logs.transferLog) input.transferLog = logs.transferLog;
  // Keys in the order the YAML export has always written them: log before tlsCache only with ProxyLog.
  if (logs.log?.file !== undefined) input.log = logs.log;
  const tlsCache = buildTlsCache(state);
  if (tlsCache.input) input.tlsCache = tlsCache.input;
  if (logs.log) input.log = logs.log;
  const bans = buildBans(state);
  if (bans) input.bans = bans;

  const { log, transferLog } = logs.origins;
  return {
    input,
    locate: (path) => {
      const [head, index, field, item] = path;
      if (head === 'dataDir' && tables) return originOf(tables);
      if (head === 'log' && log) return originOf(log);
      if (head === 'transferLog' && transferLog) return originOf(transferLog);
      if (head === 'classes' && typeof index === 'number') {
        const found = state.classes[index];
        return found ? { ...found.loc, key: `<Class ${found.name}>` } : { file };
      }
      if (head === 'tlsCache') return tlsCache.origin ?? { file };
      if (head === 'pools' && typeof index === 'number') {
        const origin = poolOrigins[index];
        if (!origin) return { file };
        if (field === 'backends' && typeof item === 'number') return origin.backends[item] ?? origin.server;
        if (field === 'sftp' && typeof item === 'string' && origin.sftp?.[item]) return origin.sftp[item];
        return (typeof field === 'string' ? origin.fields[field] : undefined) ?? origin.server;
      }
      if (head === 'listeners' && typeof index === 'number') {
        const origin = built.origins[index];
        if (!origin) return { file };
        if (field === 'port') return origin.port;
        if (field === 'sftp' && typeof item === 'string' && origin.sftp?.[item]) return origin.sftp[item];
        return (typeof field === 'string' ? origin.fields[field] : undefined) ?? origin.address;
      }
      return { file };
    },
  };
}
