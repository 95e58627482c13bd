import type { ResolveBackendCandidate } from '../../functions/contract/resolve-backend.js';
import { type BackendUrl, parseBackendUrl, urlPasswordRefusal } from '../../functions/core/backend-url.js';
import { DestinationPolicy, parseAllowNetworks } from '../../functions/core/net/index.js';
import type { ControlPlaneClient } from '../control-plane/control-plane-client.js';
import {
  type ConnectedBackend,
  type ConnectOptions,
  connectBackend,
} from '../ftp/control/backend-connect.js';
import type { Logger } from '../log/logger.js';
import { destinationResolver } from '../net/destination-resolver.js';
import { unconnectableBackend } from './backend-source.js';
import { type ConnectionReporter, needsReports } from './connection-reporter.js';
import { type Pool, type PoolBackend, readUserBackends, UserRefusedError } from './pool.js';

/** Every attempt allowed by ProxyRetryCount failed, or no backend was left to try. */
export class NoBackendAvailableError extends Error {
  override readonly name: string = 'NoBackendAvailableError';
}

/**
 * No backend on purpose: PerUser found no list for the user and the pool says `perUserFallback:
 * refuse`, or the user name cannot be used. Sessions answer it like a refused login.
 */
export class BackendRefusedError extends NoBackendAvailableError {
  override readonly name = 'BackendRefusedError';
}

export interface SelectedBackend extends ConnectedBackend {
  /** With credentials, if it has them: never log it. */
  url: BackendUrl;
  key: string;
  /** Where the backend came from, for logs: "config", "file:<path>", "registry:pool" or "registry:user". */
  source: string;
}

/**
 * Selects a backend through the control plane and connects to it. Each attempt re-runs the connect
 * policy (so RoundRobin's shared cursor moves on, as in mod_proxy) and skips every backend that
 * already failed in this session (by key, whatever list it came from), up to ProxyRetryCount
 * attempts. Connects and failures are reported for the policies that count them.
 */
export interface SelectionContext {
  controlPlane: ControlPlaneClient;
  reporter: ConnectionReporter;
  log: Logger;
  /** PerUser: the user name; PerHost: the client address. */
  stickyKey?: string;
  /**
   * The client has not logged in: the sticky mapping is followed but not written (confirmSticky
   * writes it after the login), so clients that never log in add nothing to the store.
   */
  provisional?: boolean;
  prelude?: ConnectOptions['prelude'];
  /** Backend FTPS for one backend (by URL and key); plain FTP when absent or undefined. */
  tls?: (url: BackendUrl, key: string) => ConnectOptions['tls'];
}

/** What one attempt will connect to, or why it cannot. */
type Target = { key: string; url: BackendUrl; source: string } | { key: string; error: string };

/**
 * After the login that a provisional selection preceded: the same selection again, not provisional,
 * with every backend but the one the session uses excluded, which maps the key to that backend (or
 * renews the mapping). Its answer is not used; a failure is only logged (the next login maps the key).
 */
export async function confirmSticky(
  pool: Pool,
  context: SelectionContext,
  backendKey: string,
): Promise<void> {
  const { controlPlane, reporter, log, stickyKey } = context;
  if (stickyKey === undefined) return;
  try {
    const list = await listFor(pool, context);
    const keys = list.backends.map((backend) => backend.key);
    const others = keys.filter((key) => key !== backendKey);
    await controlPlane.resolveBackend({
      pool: pool.config.name,
      policy: pool.config.connectPolicy,
      backends: keys,
      ...(others.length < keys.length && others.length > 0 ? { excludeBackends: others } : {}),
      ...(list.scope === 'user' ? { backendsScope: 'user' as const } : {}),
      ...(pool.config.connectPolicy === 'PerUser' && pool.config.perUserFallback === 'refuse'
        ? { perUserFallback: 'refuse' as const }
        : {}),
      workerId: reporter.workerId,
      stickyKey,
    });
  } catch (err) {
    log.warn('sticky mapping not written after login', { pool: pool.config.name, error: err });
  }
}

export async function selectAndConnect(pool: Pool, context: SelectionContext): Promise<SelectedBackend> {
  const { prelude } = context;
  return selectBackendWith(pool, context, 'ftp', (url, key, addresses) => {
    const tls = context.tls?.(url, key);
    if (url.protocol === 'ftps' && !tls) {
      // A registered or file-listed ftps:// backend in a pool whose TLS engine is off: never in plain text.
      return Promise.reject(
        new Error('ftps:// backend, but the pool has TLS off (tls.engine / ProxyTLSEngine)'),
      );
    }
    return connectBackend(url, {
      ...(addresses ? { addresses } : {}),
      timeoutMs: pool.config.connectTimeout,
      log: context.log,
      ...(pool.config.sourceAddress ? { sourceAddress: pool.config.sourceAddress } : {}),
      ...(prelude ? { prelude } : {}),
      ...(tls ? { tls } : {}),
    });
  });
}

/** A backend chosen and connected by `selectBackendWith`, with where it came from. */
export type Selected<T> = T & { url: BackendUrl; key: string; source: string };

/**
 * The connect policy and ProxyRetryCount loop of `selectAndConnect`, for any protocol: `connect`
 * opens one backend (FTP control connection, SSH transport) or throws to move on to the next one.
 * Backends of another protocol than `protocol` fail their attempt. A backend the operator did not
 * configure (registered, discovered) is resolved and judged by the destination policy first; then
 * `connect` gets the checked `addresses` and must connect to those, not to url.host.
 */
export async function selectBackendWith<T extends { connectMs: number }>(
  pool: Pool,
  context: SelectionContext,
  protocol: BackendUrl['protocol'],
  connect: (url: BackendUrl, key: string, addresses?: readonly string[]) => Promise<T>,
): Promise<Selected<T>> {
  const { controlPlane, reporter, log, stickyKey } = context;
  const policy = pool.config.connectPolicy;
  const reports = needsReports(policy);
  const list = await listFor(pool, context);
  const keys = list.backends.map((backend) => backend.key);
  const failed: string[] = [];
  const reasons: string[] = [];
  for (let attempt = 1; attempt <= pool.config.retryCount; attempt++) {
    const response = await controlPlane.resolveBackend({
      pool: pool.config.name,
      policy,
      backends: keys,
      ...(list.scope === 'user' ? { backendsScope: 'user' as const } : {}),
      ...(failed.length > 0 ? { excludeBackends: failed } : {}),
      ...(policy === 'PerUser' && pool.config.perUserFallback === 'refuse'
        ? { perUserFallback: 'refuse' as const }
        : {}),
      workerId: reporter.workerId,
      ...(stickyKey !== undefined ? { stickyKey } : {}),
      ...(stickyKey !== undefined && context.provisional ? { provisional: true } : {}),
    });
    if (response.notes)
      log.debug('backend discovery notes', { pool: pool.config.name, notes: response.notes });
    const candidate = response.candidates[0];
    if (!candidate) {
      if (response.refused !== undefined && reasons.length === 0) {
        throw response.list === 'user'
          ? new BackendRefusedError(response.refused)
          : new NoBackendAvailableError(response.refused);
      }
      break;
    }
    const target = targetOf(list.backends, candidate, protocol, pool.config.proxyAuth);
    if ('error' in target) {
      log.warn('backend connect failed', { backend: target.key, attempt, reason: target.error });
      failed.push(target.key);
      reasons.push(`${target.key}: ${target.error}`);
      continue;
    }
    const { key, url, source } = target;
    log.trace('proxy.uri', 17, () => `parsed host '${url.host}' out of URI '${key}'`);
    let addresses: readonly string[] | undefined;
    if (!isOperatorBackend(source)) {
      const checked = await checkBackendAddresses(pool, url);
      if (!checked.ok) {
        // A refusal, not an outage: passive health is not told, the attempt moves on.
        log.warn('backend refused by the destination policy', {
          backend: key,
          source,
          attempt,
          reason: checked.reason,
        });
        failed.push(key);
        reasons.push(`${key}: refused by the destination policy`);
        continue;
      }
      addresses = checked.addresses;
      log.trace('proxy.dns', 17, () => `resolved '${url.host}' to ${checked.addresses.join(', ')}`);
    }
    try {
      const connected = await connect(url, key, addresses);
      log.trace('proxy.reverse', 8, () => `connected to backend '${key}' in ${connected.connectMs} ms`);
      log.info('connected to backend', {
        backend: key,
        source,
        list: response.list ?? 'pool',
        attempt,
        connectMs: connected.connectMs,
      });
      if (reports) reporter.connected(pool.config.name, key, connected.connectMs);
      reporter.reached(pool.config.name, key);
      // Passive health: a backend with recent failures is cleared by its first success.
      if (candidate.health !== undefined) reporter.succeeded(pool.config.name, key);
      // Assigned, not spread: a connected backend may be a class instance with methods.
      return Object.assign(connected, { url, key, source });
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      log.warn('backend connect failed', { backend: key, attempt, reason });
      // Every policy reports failures: passive health counts them.
      reporter.failed(pool.config.name, key, reason);
      failed.push(key);
      reasons.push(`${key}: ${reason}`);
    }
  }
  throw new NoBackendAvailableError(
    reasons.length > 0 ? `no backend reachable (${reasons.join('; ')})` : 'no backend to try',
  );
}

/** Backends written by the operator (YAML, `file:` lists) are trusted; the rest come from tenants or DNS. */
function isOperatorBackend(source: string): boolean {
  return source === 'config' || source.startsWith('file:');
}

/**
 * A registered or discovered backend's addresses, resolved once and each judged by the pool's
 * destination policy (no ProxyForwardTo here: only allowDestinationNetworks opens loopback, private,
 * link-local and the other refused classes). Any refused address refuses the backend.
 */
async function checkBackendAddresses(
  pool: Pool,
  url: BackendUrl,
): Promise<{ ok: true; addresses: string[] } | { ok: false; reason: string }> {
  const guard = pool.destinations ?? {
    policy: new DestinationPolicy({
      allowNetworks: parseAllowNetworks(pool.config.allowDestinationNetworks ?? []),
      ownAddresses: () => new Set<string>(),
    }),
    resolve: destinationResolver({ servers: [], timeout: pool.config.connectTimeout }),
  };
  let resolved: string[];
  try {
    resolved = await guard.resolve(url.host);
  } catch (err) {
    return {
      ok: false,
      reason: `cannot resolve ${url.host}: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  if (resolved.length === 0) return { ok: false, reason: `${url.host} has no addresses` };
  const addresses: string[] = [];
  for (const found of resolved) {
    const verdict = await guard.policy.check(found, url.port);
    if (!verdict.allowed) return { ok: false, reason: verdict.reason };
    if (!addresses.includes(verdict.address)) addresses.push(verdict.address);
  }
  return { ok: true, addresses };
}

/**
 * The list sent to the control plane: under PerUser with `%U` files (PerGroup with `%g` files), the
 * user's (primary group's) own list when it has one; otherwise the pool's global list (the control plane adds registered backends, and under
 * PerUser looks for the user's registered ones first).
 */
async function listFor(
  pool: Pool,
  context: SelectionContext,
): Promise<{ scope: 'pool' | 'user'; backends: PoolBackend[] }> {
  const name = context.stickyKey;
  const policy = pool.config.connectPolicy;
  const group = policy === 'PerGroup';
  const files = group ? pool.perGroupFiles : policy === 'PerUser' ? pool.perUserFiles : [];
  if (name === undefined || files.length === 0) {
    return { scope: 'pool', backends: pool.global };
  }
  let own: PoolBackend[];
  try {
    own = await readUserBackends(pool, name, context.log, group);
  } catch (err) {
    if (err instanceof UserRefusedError) throw new BackendRefusedError(err.message);
    throw err;
  }
  if (own.length > 0) return { scope: 'user', backends: own };
  context.log.trace(
    'proxy.reverse',
    11,
    () => `using global ProxyReverseServers list for ${group ? 'group' : 'user'} '${name}'`,
  );
  return { scope: 'pool', backends: pool.global };
}

/**
 * A candidate as something to connect to: a listed backend by position, or a registered one by its
 * URL. Backends ftpx cannot connect to yet (ftps://, sftp://, DNS discovery), and URL passwords in a
 * pool without proxy authentication, fail the attempt here.
 */
function targetOf(
  listed: readonly PoolBackend[],
  candidate: ResolveBackendCandidate,
  protocol: BackendUrl['protocol'],
  proxyAuth: boolean,
): Target {
  let target: Target;
  if (candidate.index !== undefined) {
    const backend = listed[candidate.index];
    if (!backend) {
      return {
        key: candidate.backend,
        error: `the control plane named position ${candidate.index} of ${listed.length} listed backends`,
      };
    }
    target = { key: backend.key, url: backend.url, source: backend.source };
  } else {
    const parsed = parseBackendUrl(candidate.url ?? '');
    const kind = candidate.via ? 'discovered' : 'registered';
    if (!parsed.ok) return { key: candidate.backend, error: `${kind} backend: ${parsed.error}` };
    target = { key: candidate.backend, url: parsed.url, source: `registry:${candidate.registry ?? 'pool'}` };
    if (candidate.via) {
      // Discovered through a listed +srv / +txt entry: that entry's credentials (kept on this worker) apply.
      const entry = candidate.via.index !== undefined ? listed[candidate.via.index] : undefined;
      const url = { ...parsed.url };
      if (entry?.url.user !== undefined) {
        url.user = entry.url.user;
        if (entry.url.password !== undefined) url.password = entry.url.password;
      }
      target = {
        key: candidate.backend,
        url,
        source: `dns:${candidate.via.backend}${entry ? ` (${entry.source})` : ''}`,
      };
    }
  }
  if (target.url.protocol !== protocol && !(protocol === 'ftp' && target.url.protocol === 'ftps')) {
    return {
      key: target.key,
      error: `a ${target.url.protocol}:// backend cannot serve a ${protocol === 'sftp' ? 'SFTP' : 'FTP'} session`,
    };
  }
  // The config and the registry refuse URL passwords without proxy authentication already; this
  // catches what reaches a worker any other way (a registry written before, a DNS TXT record).
  const passwordRefusal = urlPasswordRefusal(target.url, proxyAuth);
  if (passwordRefusal !== undefined) return { key: target.key, error: passwordRefusal };
  const unusable = unconnectableBackend(target.url);
  return unusable ? { key: target.key, error: unusable } : target;
}
