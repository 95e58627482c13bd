import type { TlsCacheCleared, TlsCacheInfo, TlsCacheKind } from '../../../functions/contract/tls-cache.js';
import { UsageError } from '../usage.js';
import type { CommandContext, CommandGroup, OptionSpec } from './command.js';

/**
 * `ftpx cache info|clear|remove [--ocsp|--backends] [-v]`: mod_tls's `ftpdctl tls
 * sesscache|ocspcache ...` for the shared caches, over the registry API. Without a flag the
 * frontend TLS session cache; --ocsp the OCSP response cache; --backends the TLS sessions ftpx holds
 * as each backend's client (mod_proxy's backend session cache), where `clear --backend URL` removes
 * one backend's. `info` prints what mod_tls_shmcache's `info` prints, in the same order.
 */

const KIND_OPTIONS: Record<string, OptionSpec> = {
  ocsp: {
    type: 'boolean',
    description: 'the OCSP response cache (TLSStaplingCache) instead of the session cache',
  },
  backends: {
    type: 'boolean',
    description: "the backend TLS session cache (mod_proxy's, ProxyTLS*) instead of the frontend's",
  },
};

function kindOf(context: CommandContext): TlsCacheKind {
  const ocsp = context.options.flag('ocsp');
  const backends = context.options.flag('backends');
  if (ocsp && backends) throw new UsageError('--ocsp and --backends name different caches: give one');
  return ocsp ? 'ocsp' : backends ? 'backend-sessions' : 'sessions';
}

const HEADERS: Record<TlsCacheKind, string> = {
  sessions: 'Shared store (DynamoDB) TLS session cache provided by ftpx (tls-cache function)',
  ocsp: 'Shared store (DynamoDB) OCSP response cache provided by ftpx (tls-cache function)',
  'backend-sessions':
    'Shared store (DynamoDB) backend TLS session cache provided by ftpx (sessions as the backends’ TLS client)',
};

const NOUNS: Record<TlsCacheKind, string> = {
  sessions: 'session cache',
  ocsp: 'OCSP response cache',
  'backend-sessions': 'backend session cache',
};

function date(iso: string | undefined): string {
  return iso === undefined ? '-' : new Date(iso).toUTCString();
}

/** The text of `info`, following mod_tls_shmcache's sess_cache_status / ocsp_cache_status. */
export function formatCacheInfo(info: TlsCacheInfo, nowMs = Date.now()): string {
  const ocsp = info.kind === 'ocsp';
  const what = ocsp ? 'responses' : 'sessions';
  const lines = [
    HEADERS[info.kind],
    '',
    `Store table: ${info.table}`,
    `Cache created on: ${date(info.createdAt)}`,
    `Max entry size: ${info.maxEntryBytes === undefined ? '-' : `${info.maxEntryBytes} bytes`}`,
    '',
    `Max ${ocsp ? 'response' : 'session'} cache size: ${info.maxEntries ?? '-'}`,
    `Current ${ocsp ? 'response' : 'session'} cache size: ${info.entries} (${info.bytes} bytes)`,
    '',
    `Cache lifetime hits: ${info.stats.hits}`,
    `Cache lifetime misses: ${info.stats.misses}`,
    '',
    `Cache lifetime ${what} stored: ${info.stats.stored}`,
    `Cache lifetime ${what} deleted: ${info.stats.deleted}`,
    `Cache lifetime ${what} expired: ${info.stats.expired}`,
    '',
    `Cache lifetime errors handling ${what} in cache: ${info.stats.errors}`,
    `Cache lifetime ${what} exceeding max entry size: ${info.stats.exceeded}`,
  ];
  if (info.stats.exceededMaxBytes > 0) {
    lines.push(
      `  Largest ${ocsp ? 'response' : 'session'} exceeding max entry size: ${info.stats.exceededMaxBytes}`,
    );
  }
  lines.push(`Cache lifetime ${what} not stored (cache full): ${info.stats.full}`);
  for (const item of info.items ?? []) {
    const left = Math.max(0, Math.round((Date.parse(item.expiresAt) - nowMs) / 1000));
    if (ocsp) {
      lines.push(
        '',
        '-----BEGIN OCSP RESPONSE PARAMETERS-----',
        `  Certificate fingerprint (SHA-1): ${item.key}`,
        `  Response status: ${item.responseStatus ?? '-'}${item.fake ? ' (fake: no responder answered)' : ''}`,
        ...(item.certStatus ? [`  Certificate status: ${item.certStatus}`] : []),
        `  Fetched: ${date(item.fetchedAt)}`,
        `  Stale: ${date(item.staleAt)}`,
        `  Expires: ${date(item.expiresAt)} (${left} secs)`,
        `  Size: ${item.bytes} bytes`,
        '-----END OCSP RESPONSE PARAMETERS-----',
      );
    } else if (info.kind === 'backend-sessions') {
      lines.push(
        '',
        '-----BEGIN BACKEND SSL SESSION PARAMETERS-----',
        `  Backend: ${item.key}`,
        `  Trust context: ${item.context ?? '-'}`,
        `  Stored: ${date(item.startedAt)}`,
        `  Expires: ${date(item.expiresAt)} (${left} secs)`,
        `  Size: ${item.bytes} bytes`,
        '-----END BACKEND SSL SESSION PARAMETERS-----',
      );
    } else {
      lines.push(
        '',
        '-----BEGIN SSL SESSION PARAMETERS-----',
        `  Session ID: ${item.key}`,
        `  Protocol: ${item.protocol ?? 'unknown'}`,
        `  Started: ${date(item.startedAt)}`,
        `  Expires: ${date(item.expiresAt)} (${left} secs)`,
        `  Size: ${item.bytes} bytes`,
        '-----END SSL SESSION PARAMETERS-----',
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

export const tlsCacheCommands: CommandGroup = {
  name: 'cache',
  summary:
    'the shared TLS session and OCSP response caches (mod_tls_shmcache) and the backend TLS session cache; a token for all pools',
  commands: [
    {
      name: 'info',
      args: [],
      options: {
        ...KIND_OPTIONS,
        verbose: {
          type: 'boolean',
          short: 'v',
          description: 'also list every cached entry (never its secret data)',
        },
      },
      summary: 'print the cache statistics (read scope)',
      run: async (context) => {
        const verbose = context.options.flag('verbose');
        const info = await context.api.call<TlsCacheInfo>('GET', ['v1', 'tls-cache', kindOf(context)], {
          ...(verbose ? { query: { verbose: 'true' } } : {}),
        });
        context.print(info, formatCacheInfo(info));
      },
    },
    {
      name: 'clear',
      args: [],
      options: {
        ...KIND_OPTIONS,
        backend: {
          type: 'string',
          value: 'URL',
          description:
            'with --backends: only this backend’s sessions (ftps://host:port, as `info --backends -v` lists it)',
        },
      },
      summary: 'remove every cached entry, expired or not, or one backend’s sessions (write scope)',
      run: async (context) => {
        const kind = kindOf(context);
        const backend = context.options.string('backend');
        if (backend !== undefined && kind !== 'backend-sessions') {
          throw new UsageError('--backend needs --backends (only the backend session cache has backends)');
        }
        const result = await context.api.call<TlsCacheCleared>('POST', ['v1', 'tls-cache', kind, 'clear'], {
          ...(backend !== undefined ? { query: { backend } } : {}),
        });
        const entries = kind === 'ocsp' ? 'response(s)' : 'session(s)';
        const of = backend !== undefined ? ` of ${backend}` : '';
        context.print(result, `cache: cleared ${result.cleared} ${entries}${of} from the ${NOUNS[kind]}\n`);
      },
    },
    {
      name: 'remove',
      args: [],
      options: KIND_OPTIONS,
      summary: 'remove the cache: every entry and its statistics (admin token)',
      run: async (context) => {
        const kind = kindOf(context);
        const result = await context.api.call<TlsCacheCleared>('DELETE', ['v1', 'tls-cache', kind]);
        context.print(
          result,
          `cache: removed the ${NOUNS[kind]} (${result.cleared} entries and its statistics)\n`,
        );
      },
    },
  ],
};
