import { parseLogFormat } from '../../log/access-log.js';
import type { ConfigInput } from '../schema.js';
import { processWide } from './process-wide.js';
import type { ImportState, Settings } from './state.js';

/**
 * The process's logs: `log` (ProxyLog of the main server or <Global>, TraceLog, Trace, ExtendedLog) and
 * `transferLog`. A <VirtualHost>'s own ProxyLog went to its listeners (build-listeners.ts).
 */
export function buildLogs(state: ImportState): {
  log?: NonNullable<ConfigInput['log']>;
  transferLog?: string;
  /** The directives to name for problems in `log` and `transferLog`. */
  origins: { log?: Settings['ProxyLog']; transferLog?: Settings['TransferLog'] };
} {
  const proxyLog = state.main.settings.ProxyLog ?? state.global.settings.ProxyLog;
  const transferLog = processWide(state, 'TransferLog');
  let log: NonNullable<ConfigInput['log']> | undefined;
  // `ProxyLog none` turns the log off (file: false); without ProxyLog ftpx logs to standard error.
  if (proxyLog) log = { file: proxyLog.value ?? false };
  const traceLog = state.main.settings.TraceLog ?? state.global.settings.TraceLog;
  const scopes = [state.main, state.global, ...state.vhosts];
  const traces = scopes.map((scope) => scope.settings.Trace).filter((setting) => setting !== undefined);
  if (traceLog) log = { ...log, traceFile: traceLog.value };
  if (traces.length > 0)
    log = { ...log, traces: Object.assign({}, ...traces.map((setting) => setting.value)) };
  const access = accessLogs(state);
  if (access.length > 0) log = { ...log, access };
  return {
    ...(log ? { log } : {}),
    ...(transferLog?.value ? { transferLog: transferLog.value } : {}),
    origins: { ...(proxyLog ? { log: proxyLog } : {}), ...(transferLog ? { transferLog } : {}) },
  };
}

/**
 * ExtendedLog + LogFormat → log.access (process-wide, wherever written): one line per session in
 * the named format. Variables ftpx does not have become "-", with a warning naming them.
 */
function accessLogs(state: ImportState): { file: string; format: string }[] {
  const scopes = [state.main, state.global, ...state.vhosts];
  const formats: Record<string, string> = {
    default: '%h %l %u %t "%r" %s %b',
    ...Object.assign({}, ...scopes.map((s) => s.settings.LogFormat?.value ?? {})),
  };
  const logs: { file: string; format: string }[] = [];
  for (const scope of scopes) {
    for (const log of scope.settings.ExtendedLog?.value ?? []) {
      const format = formats[log.format];
      if (format === undefined) {
        state.issues.error(log.loc, 'ExtendedLog', `no LogFormat named "${log.format}"`);
        continue;
      }
      const { unknown } = parseLogFormat(format);
      let native = format;
      for (const variable of new Set(unknown)) native = native.split(variable).join('-');
      const notes = [
        'one line per session when it ends (ProFTPD writes one per command)',
        ...(log.classes.toUpperCase() !== 'ALL' ? [`command classes "${log.classes}" do not apply`] : []),
        ...(unknown.length > 0
          ? [`${[...new Set(unknown)].join(' ')} written as "-" (not known to ftpx)`]
          : []),
      ];
      state.issues.warn(log.loc, 'ExtendedLog', `carried over as log.access: ${notes.join('; ')}`);
      logs.push({ file: log.file, format: native });
    }
  }
  return logs;
}
