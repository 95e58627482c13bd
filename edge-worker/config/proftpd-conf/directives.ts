import type { DirectiveRow } from './directive-row.js';
import { CLASS_ROWS } from './directives/class.js';
import { CORE_ROWS } from './directives/core.js';
import { LIMIT_ROWS } from './directives/limits.js';
import { LOGGING_ROWS } from './directives/logging.js';
import { PROXY_ROWS } from './directives/proxy.js';
import { SFTP_ROWS } from './directives/sftp.js';
import { TLS_ROWS } from './directives/tls.js';
import { TLS_CACHE_ROWS } from './directives/tls-cache.js';
import { TRANSFER_ROWS } from './directives/transfer.js';

/**
 * The directive table: every directive ftpx knows, one row each, from the module files in directives/.
 * The walk (walk.ts) looks each line up here; the names it suggests for a typo and the warnings for
 * ignored directives come from these rows, so adding a directive means adding its row.
 */
/** The module files, with the ProFTPD module (or part of it) each covers, for the generated docs. */
export const DIRECTIVE_MODULES: ReadonlyArray<{ module: string; rows: readonly DirectiveRow[] }> = [
  { module: 'mod_proxy', rows: PROXY_ROWS },
  { module: 'core', rows: CORE_ROWS },
  { module: 'limits and mod_ban', rows: LIMIT_ROWS },
  { module: '<Class>', rows: CLASS_ROWS },
  { module: 'mod_tls caches', rows: TLS_CACHE_ROWS },
  { module: 'transfers', rows: TRANSFER_ROWS },
  { module: 'logs', rows: LOGGING_ROWS },
  { module: 'mod_sftp, ProxySFTP*', rows: SFTP_ROWS },
  { module: 'mod_tls, ProxyTLS*', rows: TLS_ROWS },
];

const MODULES: readonly (readonly DirectiveRow[])[] = DIRECTIVE_MODULES.map((entry) => entry.rows);

/**
 * The rows in the order a misspelt name is matched against them (the first of equally close names is
 * suggested): the directives ftpx applies before the ones it ignores, then by module as above.
 */
function buildTable(): Map<string, DirectiveRow> {
  const table = new Map<string, DirectiveRow>();
  const rows = MODULES.flat();
  for (const row of [
    ...rows.filter((row) => row.kind !== 'ignored'),
    ...rows.filter((row) => row.kind === 'ignored'),
  ]) {
    const key = row.name.toLowerCase();
    if (table.has(key)) throw new Error(`directive ${row.name} is listed twice`);
    table.set(key, row);
  }
  return table;
}

/** Every directive ftpx knows, keyed by its lower-case name. */
export const DIRECTIVES: ReadonlyMap<string, DirectiveRow> = buildTable();

export function findDirective(name: string): DirectiveRow | undefined {
  return DIRECTIVES.get(name.toLowerCase());
}
