import type { z } from 'zod';
import { renderDirectiveTable } from './proftpd-conf/directive-doc.js';
import { findDirective } from './proftpd-conf/directives.js';
import { configSchema } from './schema.js';

/**
 * `ftpx config-reference`: every key of the native configuration, read from the schema itself (so it
 * cannot drift), with its type, its default and the mod_proxy / ProFTPD directive it replaces.
 * docs/configuration.md embeds the markdown output (test/unit/edge-worker/config/config-reference.test.ts checks it;
 * `npm run docs:config-reference` rewrites it).
 */

/** The directive (or command-line option) behind a key; keys absent here have no ProFTPD equivalent. */
const DIRECTIVES: Record<string, string> = {
  dataDir: 'ProxyTables',
  'log.file': 'ProxyLog',
  'log.traces': 'Trace',
  'log.traceFile': 'TraceLog',
  'log.access[].file': 'ExtendedLog',
  'log.access[].format': 'LogFormat',
  transferLog: 'TransferLog',
  'store.endpoint': 'ProxyDatastore (SQLite → embedded)',
  'listeners[].address': 'DefaultAddress, <VirtualHost addr>',
  'listeners[].port': 'Port',
  'listeners[].pool': 'ServerName',
  'listeners[].passivePorts': 'PassivePorts',
  'listeners[].backlog': 'TCPBackLog',
  'listeners[].masqueradeAddress': 'MasqueradeAddress',
  'listeners[].allowForeignAddress': 'AllowForeignAddress',
  'listeners[].timeouts.login': 'TimeoutLogin',
  'listeners[].timeouts.idle': 'TimeoutIdle',
  'listeners[].timeouts.noTransfer': 'TimeoutNoTransfer',
  'listeners[].timeouts.stalled': 'TimeoutStalled',
  'listeners[].maxLoginAttempts': 'MaxLoginAttempts',
  'listeners[].transferRate': 'TransferRate',
  'listeners[].limits': '<Limit>',
  'listeners[].logFile': 'ProxyLog (per <VirtualHost>)',
  'listeners[].poolRules': '<IfClass>, <IfUser>, <IfGroup> (mod_ifsession)',
  'listeners[].hostPools': '<VirtualHost> on a shared address and port (name-based, HOST)',
  'pools[].hostNames': 'ServerAlias',
  'classes[].from': 'From (in <Class>)',
  'classes[].forwardEnabled': 'ProxyForwardEnabled',
  'pools[].name': 'ServerName',
  'pools[].connectPolicy': 'ProxyReverseConnectPolicy',
  'pools[].proxyAuth': 'ProxyOptions UseReverseProxyAuth',
  'pools[].authUserFile': 'AuthUserFile',
  'pools[].authGroupFile': 'AuthGroupFile',
  'pools[].backends': 'ProxyReverseServers',
  'pools[].perUserFallback': '– (mod_proxy issue #139)',
  'pools[].ignoreConfigPerms': 'ProxyOptions IgnoreConfigPerms',
  'pools[].retryCount': 'ProxyRetryCount',
  'pools[].connectTimeout': 'ProxyTimeoutConnect',
  'pools[].tls.engine': 'ProxyTLSEngine',
  'pools[].dataTransferPolicy': 'ProxyDataTransferPolicy',
  'pools[].sourceAddress': 'ProxySourceAddress',
  'pools[].foreignDataAddress': 'ProxyOptions AllowForeignAddress / IgnoreForeignAddress',
  'pools[].lingerTimeout': 'ProxyTimeoutLinger',
  'pools[].directoryListPolicy': 'ProxyDirectoryListPolicy',
  'pools[].useSlink': 'ProxyDirectoryListPolicy LIST UseSlink',
  'pools[].directDataTransfers': 'ProxyOptions UseDirectDataTransfers',
  'pools[].showFeatures': 'ProxyOptions ShowFeatures',
  'pools[].sendProxyProtocol': 'ProxyOptions UseProxyProtocolV1 / V2 / V2TLVs',
  'admin.listen': '--admin-listen',
  'admin.token': 'FTPX_ADMIN_TOKEN',
  'lifecycle.workers': '--workers',
  'lifecycle.drainTimeout': '--drain-timeout',
  'controlPlane.url': '--control-plane-url',
  'controlPlane.token': '--control-plane-token, FTPX_CONTROL_PLANE_TOKEN',
  'controlPlane.ca': '--control-plane-ca, FTPX_CONTROL_PLANE_CA',
  'controlPlane.insecureHttp': '--insecure-control-plane-http',
};

export interface ReferenceEntry {
  key: string;
  type: string;
  default: string;
  replaces: string;
}

type AnySchema = z.core.$ZodType;
interface Def {
  type: string;
  innerType?: AnySchema;
  in?: AnySchema;
  out?: AnySchema;
  shape?: Record<string, AnySchema>;
  element?: AnySchema;
  options?: AnySchema[];
  entries?: Record<string, string>;
  values?: unknown[];
  valueType?: AnySchema;
  defaultValue?: unknown;
}
const defOf = (schema: AnySchema) => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** Walks the schema; objects (and arrays of objects) are opened, everything else is one entry. */
export function configReference(): ReferenceEntry[] {
  const entries: ReferenceEntry[] = [];
  const visit = (schema: AnySchema, key: string, fallback: unknown, required: boolean) => {
    const def = defOf(schema);
    switch (def.type) {
      case 'default':
        return visit(def.innerType as AnySchema, key, def.defaultValue, true);
      case 'optional':
        return visit(def.innerType as AnySchema, key, fallback, false);
      case 'object':
        for (const [name, child] of Object.entries(def.shape ?? {})) {
          visit(child, key === '' ? name : `${key}.${name}`, undefined, true);
        }
        return;
      case 'array': {
        const element = defOf(def.element as AnySchema);
        if (element.type === 'object') return visit(def.element as AnySchema, `${key}[]`, undefined, true);
        break;
      }
    }
    const type = typeName(schema);
    entries.push({
      key,
      type,
      default:
        fallback === undefined
          ? required
            ? 'required'
            : '–'
          : type === 'duration' && typeof fallback === 'number'
            ? formatMs(fallback)
            : JSON.stringify(fallback),
      replaces: directiveFor(key),
    });
  };
  visit(configSchema as unknown as AnySchema, '', undefined, true);
  return entries;
}

/** The key's directive, else its nearest parent's (`listeners[].passivePorts.min` → PassivePorts). */
function directiveFor(key: string): string {
  for (let path = key; path !== ''; path = path.replace(/(\[\]|\.[^.[\]]+)$/, '')) {
    const directive = DIRECTIVES[path];
    if (directive !== undefined) return directive;
    if (!/(\[\]|\.[^.[\]]+)$/.test(path)) break;
  }
  return '–';
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

function typeName(schema: AnySchema): string {
  const def = defOf(schema);
  switch (def.type) {
    case 'default':
    case 'optional':
      return typeName(def.innerType as AnySchema);
    case 'pipe': {
      const input = defOf(def.in as AnySchema);
      const kinds = (input.options ?? []).map((option) => defOf(option).type).sort();
      if (kinds.join() === 'number,string') return 'duration';
      return typeName(def.in as AnySchema);
    }
    case 'enum':
      return Object.values(def.entries ?? {})
        .map((value) => JSON.stringify(value))
        .join(' | ');
    case 'literal':
      return (def.values ?? []).map((value) => JSON.stringify(value)).join(' | ');
    case 'union':
      return (def.options ?? []).map(typeName).join(' | ');
    case 'array': {
      const element = typeName(def.element as AnySchema);
      return element.includes(' | ') ? `(${element})[]` : `${element}[]`;
    }
    case 'record':
      return `map of ${typeName(def.valueType as AnySchema)}`;
    case 'object':
      return `{ ${Object.keys(def.shape ?? {}).join(', ')} }`;
    default:
      return def.type;
  }
}

export function renderConfigReference(format: 'markdown' | 'text'): string {
  const entries = configReference();
  if (format === 'text') {
    const width = Math.max(...entries.map((entry) => entry.key.length));
    return `${entries
      .map(
        (entry) =>
          `${entry.key.padEnd(width)}  ${entry.type}  default ${entry.default}  replaces ${entry.replaces}`,
      )
      .join('\n')}\n`;
  }
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  return [
    '| key | type | default | replaces |',
    '|---|---|---|---|',
    ...entries.map(
      (entry) =>
        `| \`${entry.key}\` | ${cell(entry.type)} | ${cell(entry.default)} | ${cell(entry.replaces)} |`,
    ),
    '',
  ].join('\n');
}

export const REFERENCE_START =
  '<!-- config-reference:start (generated by `ftpx config-reference`; do not edit) -->';
export const REFERENCE_END = '<!-- config-reference:end -->';

export const DIRECTIVE_TABLE_START =
  '<!-- directive-table:start (generated by `ftpx config-reference`; do not edit) -->';
export const DIRECTIVE_TABLE_END = '<!-- directive-table:end -->';

/**
 * The native keys behind each directive, from the table above (ProxyOptions is left out: its options
 * have a table of their own).
 */
export function keysByDirective(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const [key, text] of Object.entries(DIRECTIVES)) {
    for (const alternative of text.split(/,|\//)) {
      const name = /^\s*([A-Za-z]+)/.exec(alternative)?.[1];
      const row = name === undefined || name === 'ProxyOptions' ? undefined : findDirective(name);
      if (!row) continue;
      found.set(row.name, [...(found.get(row.name) ?? []), key]);
    }
  }
  return found;
}

/** The markdown directive table (docs/configuration.md, "Every directive"). */
export function renderDirectiveDocTable(): string {
  return renderDirectiveTable(keysByDirective());
}

function embed(doc: string, startMarker: string, endMarker: string, text: string, what: string): string {
  const start = doc.indexOf(startMarker);
  const end = doc.indexOf(endMarker);
  if (start < 0 || end < start) throw new Error(`the document has no ${what} markers`);
  return `${doc.slice(0, start + startMarker.length)}\n${text}${doc.slice(end)}`;
}

/**
 * `doc` with the text between the reference markers replaced by the current reference, and between
 * the directive-table markers (when it has them) by the current directive table.
 */
export function embedConfigReference(doc: string): string {
  const withKeys = embed(
    doc,
    REFERENCE_START,
    REFERENCE_END,
    renderConfigReference('markdown'),
    'config-reference',
  );
  return withKeys.includes(DIRECTIVE_TABLE_START)
    ? embed(
        withKeys,
        DIRECTIVE_TABLE_START,
        DIRECTIVE_TABLE_END,
        renderDirectiveDocTable(),
        'directive-table',
      )
    : withKeys;
}
