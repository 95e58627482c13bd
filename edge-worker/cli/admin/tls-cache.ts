import type { TlsCacheCleared, TlsCacheInfo } from '../../../functions/contract/tls-cache.js';
import type { CommandContext, CommandGroup, OptionSpec } from './command.js';

/**
 * `ftpx cache info|clear|remove [--ocsp] [-v]`: mod_tls's `ftpdctl tls sesscache|ocspcache ...`
 * for the shared caches, over the registry API. Without --ocsp the TLS session cache, with it the
 * OCSP response cache. `info` prints what mod_tls_shmcache's `info` prints, in the same order.
 */

const OCSP_OPTION: Record<string, OptionSpec> = {
  ocsp: {
    type: 'boolean',
    description: 'the OCSP response cache (TLSStaplingCache) instead of the session cache',
  },
};

function kindOf(context: CommandContext): 'sessions' | 'ocsp' {
  return context.options.flag('ocsp') ? 'ocsp' : 'sessions';
}

function date(iso: string | undefined): string {
  return iso === undefined ? '-' : new Date(iso).toUTCString();
}

/** The text of `info`, following mod_tls_shmcache's sess_cache_status / ocsp_cache_status. */
export function formatCacheInfo(info: TlsCacheInfo, nowMs = Date.now()): string {
  const ocsp = info.kind === 'ocsp';
  const what = ocsp ? 'responses' : 'sessions';
  const lines = [
    ocsp
      ? 'Shared store (DynamoDB) OCSP response cache provided by ftpx (tls-cache function)'
      : 'Shared store (DynamoDB) TLS session cache provided by ftpx (tls-cache function)',
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
  summary: 'the shared TLS session and OCSP response caches (mod_tls_shmcache); a token for all pools',
  commands: [
    {
      name: 'info',
      args: [],
      options: {
        ...OCSP_OPTION,
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
      options: OCSP_OPTION,
      summary: 'remove every cached entry, expired or not (write scope)',
      run: async (context) => {
        const kind = kindOf(context);
        const result = await context.api.call<TlsCacheCleared>('POST', ['v1', 'tls-cache', kind, 'clear']);
        const noun =
          kind === 'ocsp' ? 'response(s) from the OCSP response cache' : 'session(s) from the session cache';
        context.print(result, `cache: cleared ${result.cleared} ${noun}\n`);
      },
    },
    {
      name: 'remove',
      args: [],
      options: OCSP_OPTION,
      summary: 'remove the cache: every entry and its statistics (admin token)',
      run: async (context) => {
        const kind = kindOf(context);
        const result = await context.api.call<TlsCacheCleared>('DELETE', ['v1', 'tls-cache', kind]);
        const noun = kind === 'ocsp' ? 'OCSP response cache' : 'session cache';
        context.print(result, `cache: removed the ${noun} (${result.cleared} entries and its statistics)\n`);
      },
    },
  ],
};
