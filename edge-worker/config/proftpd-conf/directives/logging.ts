import { isAbsolute } from 'node:path';
import { type DirectiveRow, handled, ignored, setting } from '../directive-row.js';
import { absolutePath, logFile } from './arguments.js';

/**
 * The logs: mod_proxy's ProxyLog, mod_log's LogFormat and ExtendedLog, and Trace / TraceLog
 * (http://www.proftpd.org/docs/howto/Tracing.html). They are process-wide in ftpx (build-logs.ts),
 * except a `<VirtualHost>`'s own ProxyLog. TransferLog is in transfer.ts; the other modules' own logs,
 * which ftpx does not write, are here too.
 */

const OWN_LOG = 'ftpx logs only to ProxyLog (or standard error)';

export const LOGGING_ROWS: DirectiveRow[] = [
  setting('ProxyLog', logFile),
  setting('TraceLog', absolutePath),
  handled({
    name: 'Trace',
    // `Trace proxy:20 proxy.ftp.ctrl:1-20`: a range keeps its upper end (what gets written). ProFTPD
    // takes any level (its channels log at up to 30 and more), so no upper bound here either.
    parse: (line) => {
      const channels: Record<string, number> = {};
      for (const arg of line.node.args) {
        const match = /^([A-Za-z0-9_.*-]+):(?:\d+-)?(\d+)$/.exec(arg);
        const level = Number(match?.[2]);
        if (!match?.[1] || !Number.isSafeInteger(level)) {
          line.fail(`expects CHANNEL:LEVEL pairs (a level of 0 or more), got "${arg}"`);
          return undefined;
        }
        channels[match[1].toLowerCase() === 'default' ? '*' : match[1].toLowerCase()] = level;
      }
      return channels;
    },
    apply: ({ node, scope }, channels) => {
      const previous = scope.settings.Trace;
      scope.settings.Trace = {
        value: { ...previous?.value, ...channels },
        loc: previous?.loc ?? node.loc,
        name: node.name,
      };
    },
  }),
  handled({
    name: 'LogFormat',
    parse: (line) => {
      const [name, format, ...rest] = line.node.args;
      if (name !== undefined && format !== undefined && rest.length === 0) return { name, format };
      line.fail('expects a name and a format string');
      return undefined;
    },
    apply: ({ node, scope }, { name, format }) => {
      const previous = scope.settings.LogFormat;
      scope.settings.LogFormat = {
        value: { ...previous?.value, [name]: format },
        loc: previous?.loc ?? node.loc,
        name: node.name,
      };
    },
  }),
  handled({
    name: 'ExtendedLog',
    parse: (line) => {
      const [file, classes = 'ALL', format = 'default', ...rest] = line.node.args;
      if (file === undefined || rest.length > 0) {
        line.fail('expects a path, then optionally command classes and a LogFormat name');
        return undefined;
      }
      if (!isAbsolute(file)) {
        line.fail(`must be an absolute path, got "${file}"`);
        return undefined;
      }
      return { file, format, classes, loc: line.node.loc };
    },
    apply: ({ node, scope }, log) => {
      const previous = scope.settings.ExtendedLog;
      scope.settings.ExtendedLog = {
        value: [...(previous?.value ?? []), log],
        loc: previous?.loc ?? node.loc,
        name: node.name,
      };
    },
  }),
  ...ignored(['SystemLog', 'WtmpLog', 'AllowLogSymlinks', 'ServerLog'], OWN_LOG),
  ...ignored(['TLSLog'], 'not applied by ftpx yet'),
  ...ignored(['SFTPLog'], OWN_LOG),
];
