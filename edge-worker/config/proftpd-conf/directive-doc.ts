import { PROXY_SFTP_OPTIONS, UNSUPPORTED_OPTIONS } from '../sftp-schema.js';
import { BACKEND_OPTIONS, FRONTEND_OPTIONS } from './build-tls.js';
import type { DirectiveRow } from './directive-row.js';
import { PROXY_OPTIONS_DOC } from './directives/proxy.js';
import { DIRECTIVE_MODULES } from './directives.js';

/**
 * The directive table of docs/configuration.md, generated from the importer's own rows (directives.ts)
 * and option tables, so it cannot drift from what `--proftpd-conf` does: every directive with what
 * ftpx does with it (applied, accepted with a warning, refused) and why.
 */

export interface DirectiveDocRow {
  directive: string;
  module: string;
  status: 'applied' | 'warning' | 'refused';
  /** Where it goes (YAML key or section), or the reason it is not applied. */
  note: string;
}

/** Where the directives without a key of their own go, by name. */
const DESTINATIONS: Array<[RegExp, string]> = [
  [/^ProxyTLS/, '`pools[].tls` (Backend FTPS)'],
  [/^ProxySFTP/, '`pools[].sftp` (SFTP pools)'],
  [/^SFTP/, '`listeners[].sftp` (SFTP listeners)'],
  [/^TLSStapling|^TLSSessionCache/, '`tlsCache` (Shared TLS caches)'],
  [/^TLS/, '`listeners[].tls` (Listener FTPS)'],
];

/** What the generic rules cannot tell: handled rows that map onto no single key, or only warn. */
const NOTES: Record<string, Pick<DirectiveDocRow, 'note'> & { status?: DirectiveDocRow['status'] }> = {
  ProxyEngine: { note: 'a server with `ProxyEngine on` becomes a pool (`pools[]`) and its listeners' },
  ProxyRole: { note: '`pools[].role`' },
  ProxyForwardMethod: { note: '`pools[].forward.method`' },
  ProxyForwardTo: { note: '`pools[].forward.to`' },
  ProxyOptions: { note: 'each option as in the options table below' },
  ProxyDatastore: {
    status: 'warning',
    note: '`SQLite` and `Redis <prefix>` load with a warning: ftpx keeps that state in its own store (`store`, `dataDir`)',
  },
  AuthOrder: {
    note: '`mod_auth_file.c` is what proxy authentication reads (`authUserFile`, `authGroupFile`); other modules are named in a warning',
  },
  TransferRate: {
    note: '`listeners[].transferRate`, with its `user`, `group` and `class` conditions (reverse pools; `group` needs proxy authentication)',
  },
  ProxyReverseServers: {
    note: '`pools[].backends` (ftp://, ftps://, sftp://, +srv/+txt, `file:` with `%U`/`%g`); `sql:` is refused: ftpx has no mod_sql',
  },
  ProxySFTPHostKey: {
    note: '`pools[].sftp.hostKeys`; `agent:` is refused: ssh2 signs synchronously, an ssh-agent cannot answer in time',
  },
};

/** The YAML keys each directive maps to, from the key reference (reference.ts passes its table). */
export function directiveDocRows(keysByDirective: ReadonlyMap<string, string[]>): DirectiveDocRow[] {
  const rows: DirectiveDocRow[] = [];
  for (const { module, rows: moduleRows } of DIRECTIVE_MODULES) {
    for (const row of moduleRows) rows.push(docRow(row, module, keysByDirective));
  }
  return rows.sort((a, b) => a.directive.localeCompare(b.directive));
}

function docRow(
  row: DirectiveRow,
  module: string,
  keysByDirective: ReadonlyMap<string, string[]>,
): DirectiveDocRow {
  const base = { directive: row.name, module };
  if (row.kind === 'ignored') return { ...base, status: 'warning', note: row.reason };
  if (row.kind === 'unsupported') return { ...base, status: 'refused', note: row.reason };
  const override = NOTES[row.name];
  if (override) return { ...base, status: override.status ?? 'applied', note: override.note };
  const keys = keysByDirective.get(row.name);
  const destination = DESTINATIONS.find(([pattern]) => pattern.test(row.name))?.[1];
  const note = keys ? keys.map((key) => `\`${key}\``).join(', ') : (destination ?? 'see the sections above');
  return { ...base, status: 'applied', note };
}

/** The options of ProxyOptions, ProxyTLSOptions, ProxySFTPOptions and TLSOptions. */
export function optionDocRows(): Array<{
  directive: string;
  option: string;
  status: DirectiveDocRow['status'];
  note: string;
}> {
  return [
    ...PROXY_OPTIONS_DOC.map(({ option, applies }) => ({
      directive: 'ProxyOptions',
      option,
      status: 'applied' as const,
      note: applies,
    })),
    ...Object.entries(BACKEND_OPTIONS).map(([option, field]) => ({
      directive: 'ProxyTLSOptions',
      option,
      status: 'applied' as const,
      note: `\`pools[].tls.${field}\``,
    })),
    ...PROXY_SFTP_OPTIONS.map((option) => ({
      directive: 'ProxySFTPOptions',
      option,
      status: 'applied' as const,
      note: '`pools[].sftp.options`',
    })),
    ...Object.entries(UNSUPPORTED_OPTIONS).map(([option, why]) => ({
      directive: 'ProxySFTPOptions',
      option,
      status: 'refused' as const,
      note: `cannot be applied: ${why}`,
    })),
    ...[...FRONTEND_OPTIONS].map((option) => ({
      directive: 'TLSOptions',
      option,
      status: 'applied' as const,
      note: '`listeners[].tls`',
    })),
    {
      directive: 'TLSOptions',
      option: 'any other (e.g. StdEnvVars)',
      status: 'warning' as const,
      note: 'ignored with a warning: ftpx exports no environment and has no per-option switch for it',
    },
  ];
}

const STATUS_TEXT: Record<DirectiveDocRow['status'], string> = {
  applied: 'applied',
  warning: 'accepted, not applied (warning)',
  refused: 'refused (error)',
};

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The markdown of both tables. */
export function renderDirectiveTable(keysByDirective: ReadonlyMap<string, string[]>): string {
  return [
    '| directive | module | ftpx | where it goes, or why not |',
    '|---|---|---|---|',
    ...directiveDocRows(keysByDirective).map(
      (row) =>
        `| \`${row.directive}\` | ${cell(row.module)} | ${STATUS_TEXT[row.status]} | ${cell(row.note)} |`,
    ),
    '',
    '| directive | option | ftpx | where it goes, or why not |',
    '|---|---|---|---|',
    ...optionDocRows().map(
      (row) =>
        `| \`${row.directive}\` | \`${row.option}\` | ${STATUS_TEXT[row.status]} | ${cell(row.note)} |`,
    ),
    '',
  ].join('\n');
}
