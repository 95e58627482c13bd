import type { SessionSummary } from '../admin/session-registry.js';
import { fileSink, type LogSink, scrubText } from './logger.js';

/**
 * The LogFormat variables an access log (ProFTPD's ExtendedLog + LogFormat) may use. One line is
 * written per session, when it ends (ExtendedLog writes per command class; ftpx's per-command
 * detail is in the JSON log and the TransferLog).
 */
const VARIABLES: Record<string, (entry: AccessEntry) => string> = {
  a: (e) => hostOf(e.session.client),
  h: (e) => hostOf(e.session.client),
  u: (e) => e.session.user ?? '-',
  t: (e) => clfTime(e.endedAt),
  T: (e) => (e.durationMs / 1000).toFixed(3),
  I: (e) => String(e.session.bytesIn),
  O: (e) => String(e.session.bytesOut),
  V: (e) => e.session.listener,
  '{iso8601}': (e) => e.endedAt.toISOString(),
  '{protocol}': (e) => e.session.protocol,
  '{pool}': (e) => e.session.pool,
  '{session}': (e) => e.session.id,
  '{note:mod_proxy.backend-ip}': (e) => e.session.backendAddress ?? '-',
  '{note:mod_proxy.backend-port}': (e) => String(e.session.backendPort ?? 0),
  '{note:mod_proxy.backend-url}': (e) => e.session.backend ?? '-',
  '%': () => '%',
};

/** The variables an access-log format may use, for config validation and docs. */
export const ACCESS_LOG_VARIABLES = Object.keys(VARIABLES).map((name) => `%${name}`);

export interface AccessEntry {
  session: SessionSummary & { backendAddress?: string; backendPort?: number };
  endedAt: Date;
  durationMs: number;
}

/** `%h %u ...` → its variables in order; unknown ones listed in `unknown`. */
export function parseLogFormat(format: string): {
  parts: (string | ((e: AccessEntry) => string))[];
  unknown: string[];
} {
  const parts: (string | ((e: AccessEntry) => string))[] = [];
  const unknown: string[] = [];
  const pattern = /%(\{[^}]*\}|.)/g;
  let last = 0;
  for (const match of format.matchAll(pattern)) {
    parts.push(format.slice(last, match.index));
    const name = match[1] ?? '';
    const variable = VARIABLES[name];
    if (variable) parts.push(variable);
    else unknown.push(`%${name}`);
    last = (match.index ?? 0) + match[0].length;
  }
  parts.push(format.slice(last));
  return { parts, unknown };
}

/** One access log file with its format. */
export class AccessLog {
  private readonly parts: (string | ((e: AccessEntry) => string))[];
  private readonly sink: LogSink;

  constructor(file: string, format: string, sink?: LogSink) {
    this.parts = parseLogFormat(format).parts;
    this.sink = sink ?? fileSink(file);
  }

  write(entry: AccessEntry): void {
    const line = this.parts.map((part) => (typeof part === 'string' ? part : part(entry))).join('');
    // User names and backends come from clients and configs: no line breaks, no credentials.
    this.sink.write(`${scrubText(line.replace(/[\r\n]/g, ' '))}\n`);
  }

  close(): Promise<void> {
    return this.sink.close?.() ?? Promise.resolve();
  }
}

function hostOf(client: string): string {
  const colon = client.lastIndexOf(':');
  const host = colon < 0 ? client : client.slice(0, colon);
  return host.replace(/^\[|\]$/g, '');
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Common Log Format time, in UTC: `[21/Nov/2026:08:59:38 +0000]`. */
function clfTime(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `[${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000]`;
}
