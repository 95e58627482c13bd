import { isAbsolute } from 'node:path';
import { type DirectiveRow, SERVER_ONLY } from '../directive-row.js';
import type { ScopeKind, Settings } from '../state.js';
import { parseBoolean, parseProftpdDuration, parseWholeNumber } from '../values.js';

/**
 * mod_tls's cache directives (http://www.proftpd.org/docs/contrib/mod_tls.html#TLSSessionCache), read for ftpx's shared caches (the `tlsCache` block):
 * `TLSSessionCache off|type:/info [timeout]`, `TLSStaplingCache off|type:/info`, `TLSStapling`,
 * `TLSStaplingOptions`, `TLSStaplingResponder`, `TLSStaplingTimeout`. Each parser returns the
 * value, or an error message; warnings say what ftpx does differently.
 */
export type Parsed<T> = { ok: true; value: T; warnings: string[] } | { ok: false; error: string };

const ok = <T>(value: T, warnings: string[] = []): Parsed<T> => ({ ok: true, value, warnings });
const fail = <T>(error: string): Parsed<T> => ({ ok: false, error });

/** Cache providers that share entries between processes, as ftpx's store does. */
const SHARED_TYPES = ['shm', 'memcache', 'redis'];

interface CacheInfo {
  size?: number;
}

/**
 * The smallest `&size=` that holds one entry: a slot is the largest entry ftpx shares plus its
 * bookkeeping (tlsCache.sessions / tlsCache.stapling in edge-worker/config/schema.ts).
 */
const ONE_ENTRY_BYTES = { sess_cache: 10_240 + 48, ocsp_cache: 4096 + 80 } as const;

/** `type:/info`: `shm:/file=PATH[&size=N]` (mod_tls_shmcache), or another provider's type. */
function parseProvider(
  text: string,
  what: keyof typeof ONE_ENTRY_BYTES,
): Parsed<{ type: string } & CacheInfo> {
  const colon = text.indexOf(':');
  if (colon <= 0) return fail(`expected off or type:/info (e.g. shm:/file=/var/ftpd/${what}), got "${text}"`);
  const type = text.slice(0, colon).toLowerCase();
  const info = text.slice(colon + 1);
  if (type === 'internal') return ok({ type });
  if (!SHARED_TYPES.includes(type)) {
    return fail(`unknown cache type "${type}" (known: shm, memcache, redis, internal)`);
  }
  const warnings: string[] = [];
  if (type !== 'shm') {
    warnings.push(`${type}: settings are not used: ftpx shares the cache through its own store`);
    return ok({ type }, warnings);
  }
  const match = /^\/file=([^&]*)(?:&(.*))?$/.exec(info);
  if (!match)
    return fail(`shm: info must start with /file= (e.g. shm:/file=/var/ftpd/${what}), got "${info}"`);
  const path = match[1] ?? '';
  if (!isAbsolute(path)) return fail(`shm: /file= must be an absolute path, got "${path}"`);
  let size: number | undefined;
  for (const pair of (match[2] ?? '').split('&').filter((part) => part !== '')) {
    const [key, value = ''] = pair.split('=');
    if (key !== 'size') return fail(`shm: unknown parameter "${key}" (known: size)`);
    const bytes = parseWholeNumber(value);
    // mod_tls_shmcache falls back to its default size on a malformed size; so does ftpx, saying so.
    if (bytes === undefined || bytes < 1)
      warnings.push(`size "${value}" is not a number of bytes: using the default`);
    else if (bytes < ONE_ENTRY_BYTES[what]) {
      // mod_tls_shmcache: "if a too-small size is configured, that size will be ignored and the
      // default size will be used" (http://www.proftpd.org/docs/contrib/mod_tls_shmcache.html).
      warnings.push(
        `size ${bytes} cannot hold one cached ${what === 'sess_cache' ? 'session' : 'OCSP response'} (${ONE_ENTRY_BYTES[what]} bytes): ignored, the default size (1.5 MB) is used, as mod_tls_shmcache does`,
      );
    } else size = bytes;
  }
  return ok({ type, ...(size !== undefined ? { size } : {}) }, warnings);
}

export interface SessionCacheDirective {
  enabled: boolean;
  /** `TLSSessionCache off`: no caching at all, which in mod_tls also turns NoSessionReuseRequired on. */
  off?: true;
  size?: number;
  /** Seconds. */
  timeoutS?: number;
}

export function parseTlsSessionCache(args: readonly string[]): Parsed<SessionCacheDirective> {
  const [first, timeout, ...rest] = args;
  if (first === undefined || rest.length > 0) {
    return fail(`takes off, or type:/info and an optional timeout (got ${args.length} arguments)`);
  }
  if (first.toLowerCase() === 'off') {
    if (timeout !== undefined) return fail('off takes no timeout');
    return ok({ enabled: false, off: true }, [
      "off: no session cache: TLS session IDs are never resumed (session tickets still are, as in mod_tls; tlsCache.tickets.enabled: false turns them off); as in mod_tls, data connections need not reuse the control connection's TLS session (TLSOptions NoSessionReuseRequired)",
    ]);
  }
  const provider = parseProvider(first, 'sess_cache');
  if (!provider.ok) return provider;
  let timeoutS: number | undefined;
  if (timeout !== undefined) {
    const seconds = parseWholeNumber(timeout);
    if (seconds === undefined || seconds < 1)
      return fail(`timeout must be a whole number of seconds, at least 1, got "${timeout}"`);
    timeoutS = seconds;
  }
  const warnings = [...provider.warnings];
  if (provider.value.type === 'internal') {
    warnings.push('internal: each worker keeps its own sessions; they do not resume on other workers');
  }
  return ok(
    {
      enabled: provider.value.type !== 'internal',
      ...(provider.value.size !== undefined ? { size: provider.value.size } : {}),
      ...(timeoutS !== undefined ? { timeoutS } : {}),
    },
    warnings,
  );
}

export function parseTlsStaplingCache(args: readonly string[]): Parsed<{ enabled: boolean; size?: number }> {
  if (args.length !== 1)
    return fail(`takes exactly one argument (off or type:/info; no timeout), got ${args.length}`);
  const [arg = ''] = args;
  if (arg.toLowerCase() === 'off') return ok({ enabled: false });
  const provider = parseProvider(arg, 'ocsp_cache');
  if (!provider.ok) return provider;
  if (provider.value.type === 'internal') return fail('internal is not a TLSStaplingCache type');
  return ok(
    { enabled: true, ...(provider.value.size !== undefined ? { size: provider.value.size } : {}) },
    provider.warnings,
  );
}

export function parseTlsStapling(args: readonly string[]): Parsed<boolean> {
  const value = args.length === 1 ? parseBoolean(args[0] as string) : undefined;
  return value === undefined ? fail(`expected on or off, got "${args.join(' ')}"`) : ok(value);
}

export function parseTlsStaplingOptions(
  args: readonly string[],
): Parsed<{ nonce?: false; fakeTryLater?: false }> {
  if (args.length === 0) return fail('needs at least one option (NoNonce, NoFakeTryLater)');
  const value: { nonce?: false; fakeTryLater?: false } = {};
  for (const option of args) {
    const lower = option.toLowerCase();
    if (lower === 'nononce') value.nonce = false;
    else if (lower === 'nofaketrylater') value.fakeTryLater = false;
    else return fail(`unknown option "${option}" (known: NoNonce, NoFakeTryLater)`);
  }
  return ok(value);
}

export function parseTlsStaplingResponder(args: readonly string[]): Parsed<string> {
  if (args.length !== 1) return fail(`takes exactly one URL, got ${args.length} arguments`);
  const text = args[0] as string;
  try {
    const url = new URL(text);
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      return fail(`must be an http:// or https:// URL, got "${text}"`);
  } catch {
    return fail(`"${text}" is not a URL`);
  }
  return ok(text);
}

/** TLSStaplingTimeout: seconds (or a ProFTPD duration); milliseconds out. */
export function parseTlsStaplingTimeout(args: readonly string[]): Parsed<number> {
  const ms = args.length === 1 ? parseProftpdDuration(args[0] as string) : undefined;
  if (ms === undefined) return fail(`expected a number of seconds, got "${args.join(' ')}"`);
  if (ms === 0) return fail('must be longer than zero');
  return ok(ms);
}

/** A row whose parser's warnings are reported and whose value becomes the setting of the same name. */
function cacheRow<K extends keyof Settings & string>(
  name: K,
  parse: (args: readonly string[]) => Parsed<NonNullable<Settings[K]>['value']>,
  scopes?: readonly ScopeKind[],
): DirectiveRow {
  return {
    kind: 'handled',
    name,
    ...(scopes ? { scopes } : {}),
    apply: (line) => {
      const parsed = parse(line.node.args);
      if (!parsed.ok) {
        line.fail(parsed.error);
        return;
      }
      for (const warning of parsed.warnings) line.warn(warning);
      line.set(name, parsed.value);
    },
  };
}

/** Process-wide in ftpx: build-tls-cache.ts takes one of each. */
export const TLS_CACHE_ROWS: DirectiveRow[] = [
  cacheRow('TLSSessionCache', parseTlsSessionCache, SERVER_ONLY),
  cacheRow('TLSStaplingCache', parseTlsStaplingCache, SERVER_ONLY),
  cacheRow('TLSStapling', parseTlsStapling),
  cacheRow('TLSStaplingOptions', parseTlsStaplingOptions),
  cacheRow('TLSStaplingResponder', parseTlsStaplingResponder),
  cacheRow('TLSStaplingTimeout', parseTlsStaplingTimeout),
];
