import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { AbuseRequest, AbuseResponse } from '../../functions/contract/abuse.js';
import type { AuthRequest, AuthResponse } from '../../functions/contract/auth.js';
import { isStickyPolicy } from '../../functions/contract/connect-policies.js';
import {
  isPerNamePolicy,
  type ResolveBackendCandidate,
  type ResolveBackendRequest,
  type ResolveBackendResponse,
} from '../../functions/contract/resolve-backend.js';
import type { SessionEventsRequest, SessionEventsResponse } from '../../functions/contract/session-events.js';
import type { SshHostKeyRequest, SshHostKeyResponse } from '../../functions/contract/ssh-host-keys.js';
import type { TlsCacheRequest, TlsCacheResponse } from '../../functions/contract/tls-cache.js';
import { type Random, shuffled } from '../../functions/core/random.js';
import { rendezvousRank } from '../../functions/core/rendezvous-hash.js';
import type { Logger } from '../log/logger.js';
import {
  type ClosableControlPlaneClient,
  type ControlPlaneClient,
  ControlPlaneError,
  isControlPlaneUnavailable,
} from './control-plane-client.js';

export interface CachedControlPlaneOptions {
  /** How long after the control plane stopped answering cached answers are still used. */
  staleForMs: number;
  /**
   * While the control plane is unreachable, how often one call still goes to it to see whether it
   * is back; the calls in between are served from the cache at once. Defaults to 1 s.
   */
  probeIntervalMs?: number;
  /** Cached answers kept at most (least recently used go first). Defaults to 10 000. */
  maxEntries?: number;
  log: Logger;
  /** Epoch milliseconds; defaults to Date.now. */
  now?: () => number;
  /** Uniform in [0, 1), for Random and Shuffle while stale; defaults to Math.random. */
  random?: Random;
  /** Told how each resolution was answered (the admin endpoint's cache hit / miss metric). */
  onResolution?: (result: 'live' | 'cached' | 'failed') => void;
}

/**
 * One remembered answer: the candidates in the order the control plane gave (listed backends by
 * position, registered ones with their URL), the list they came from, and where local rotation goes
 * next.
 */
interface Entry {
  order: ResolveBackendCandidate[];
  list: 'pool' | 'user' | undefined;
  /** The next start position in `rotation(order)` (balancing policies while stale). */
  next: number | undefined;
}

export interface CachedControlPlaneState {
  /** When the current outage was first seen (epoch ms); undefined while the control plane answers. */
  unreachableSince: number | undefined;
  /** Answers served from the cache since the outage began. */
  servedStale: number;
  entries: number;
}

/**
 * Last-known-good answers around any ControlPlaneClient (the HTTP transport, in practice).
 *
 * While the control plane answers, every call goes to it and its answer is passed on unchanged
 * (policies stay exact: RoundRobin's shared cursor, LeastConns' counts); the answer is remembered
 * per (pool, policy, listed backends and their scope, per-user fallback, and for sticky policies the
 * sticky key), candidates included: registered backends are remembered with their URLs. The pool's
 * registered backends seen in its latest answers are also kept per pool, for keys never seen.
 *
 * When a call fails because the control plane is unavailable (see isControlPlaneUnavailable), the
 * outage starts, and for `staleForMs` from its start every resolve-backend is answered locally:
 * - sticky policies: the key's remembered order; a key never seen gets its rendezvous ranking over
 *   the listed backends and the pool's last known registered ones, which is the first pick the
 *   control plane itself makes for a key without a mapping (PerUser / PerGroup under
 *   `perUserFallback: "refuse"` refuse a name never seen: whether it has backends is not known);
 * - RoundRobin, LeastConns, LeastResponseTime: a local rotation over the remembered list, starting
 *   after the remembered first pick, so sessions keep spreading (no live counts are known);
 * - Random, Shuffle: a local random order.
 * The request's `exclude` and `excludeBackends` are applied in every case. One call per probe
 * interval still goes to the control plane; the first success ends the outage. After `staleForMs`,
 * calls fail with a ControlPlaneError saying since when the control plane has been unreachable. A
 * worker that never reached the control plane since it started has nothing to go on and fails at
 * once.
 *
 * Refusals (4xx: a wrong request or token) are never covered up. Session events and
 * authentication pass through.
 */
export class CachedControlPlane implements ClosableControlPlaneClient {
  private readonly entries: LRUCache<string, Entry>;
  /** Per pool: its registered backends as its latest answers from the global list showed them. */
  private readonly registered: LRUCache<string, ResolveBackendCandidate[]>;
  private readonly now: () => number;
  private readonly random: Random;
  private readonly probeIntervalMs: number;
  private readonly maxEntries: number;
  private lastSuccessAt: number | undefined;
  private unreachableSince: number | undefined;
  private lastError: unknown;
  private nextProbeAt = 0;
  private servedStale = 0;
  private announcedStale = false;
  private announcedExpired = false;

  constructor(
    private readonly inner: ControlPlaneClient,
    private readonly options: CachedControlPlaneOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.probeIntervalMs = options.probeIntervalMs ?? 1000;
    this.maxEntries = Math.max(1, options.maxEntries ?? 10_000);
    this.entries = new LRUCache({ max: this.maxEntries });
    this.registered = new LRUCache({ max: this.maxEntries });
  }

  get state(): CachedControlPlaneState {
    return {
      unreachableSince: this.unreachableSince,
      servedStale: this.servedStale,
      entries: this.entries.size,
    };
  }

  async resolveBackend(request: ResolveBackendRequest): Promise<ResolveBackendResponse> {
    const stale = { served: false };
    try {
      const response = await this.resolveLiveOrStale(request, stale);
      this.options.onResolution?.(stale.served ? 'cached' : 'live');
      return response;
    } catch (err) {
      this.options.onResolution?.('failed');
      throw err;
    }
  }

  private async resolveLiveOrStale(
    request: ResolveBackendRequest,
    stale: { served: boolean },
  ): Promise<ResolveBackendResponse> {
    const key = cacheKey(request);
    if (this.unreachableSince !== undefined) {
      const now = this.now();
      if (now < this.nextProbeAt) {
        stale.served = true;
        return this.serveStale(request, key);
      }
      // This call probes; the ones arriving while it runs are served from the cache.
      this.nextProbeAt = now + this.probeIntervalMs;
    }
    let response: ResolveBackendResponse;
    try {
      response = await this.inner.resolveBackend(request);
    } catch (err) {
      if (!isControlPlaneUnavailable(err)) throw err;
      const now = this.now();
      this.unreachableSince ??= now;
      this.lastError = err;
      this.nextProbeAt = now + this.probeIntervalMs;
      stale.served = true;
      return this.serveStale(request, key);
    }
    this.remember(key, request, response);
    return response;
  }

  sessionEvent(event: SessionEventsRequest): Promise<SessionEventsResponse> {
    return this.inner.sessionEvent(event);
  }

  /** Never cached: a host key the control plane cannot confirm is not trusted from memory. */
  sshHostKey(request: SshHostKeyRequest): Promise<SshHostKeyResponse> {
    if (!this.inner.sshHostKey)
      return Promise.reject(new Error('the control plane has no ssh-host-keys operation'));
    return this.inner.sshHostKey(request);
  }

  /** Never cached here: edge-worker/limits/ keeps its own copy of the ban list. */
  abuse(request: AbuseRequest): Promise<AbuseResponse> {
    if (!this.inner.abuse) return Promise.reject(new Error('the control plane has no abuse operation'));
    return this.inner.abuse(request);
  }

  /** Never answered from the cache: a login the control plane cannot check fails. */
  authenticate(request: AuthRequest): Promise<AuthResponse> {
    return this.inner.authenticate(request);
  }

  /** Passed through: the TLS caches keep their own edge-local LRU (edge-worker/tls/frontend-caches.ts). */
  tlsCache(request: TlsCacheRequest): Promise<TlsCacheResponse> {
    return this.inner.tlsCache(request);
  }

  async close(): Promise<void> {
    await (this.inner as Partial<ClosableControlPlaneClient>).close?.();
  }

  private remember(key: string, request: ResolveBackendRequest, response: ResolveBackendResponse): void {
    const now = this.now();
    this.lastSuccessAt = now;
    if (this.unreachableSince !== undefined) {
      this.options.log.info('control plane reachable again', {
        unreachableSince: new Date(this.unreachableSince).toISOString(),
        downForMs: now - this.unreachableSince,
        servedFromCache: this.servedStale,
      });
      this.unreachableSince = undefined;
      this.lastError = undefined;
      this.servedStale = 0;
      this.announcedStale = false;
      this.announcedExpired = false;
      this.nextProbeAt = 0;
    }
    if (response.list !== 'user') this.learnRegistered(request, response.candidates);
    const first = response.candidates[0];
    if (!first) return; // Everything was excluded (or refused): nothing learnt.
    // The full order: the answer's, then the listed backends the request excluded (they were not
    // ranked), in list order. Registered backends excluded by key are not known again until the
    // next answer that includes them.
    const seen = new Set(response.candidates.flatMap((candidate) => candidate.index ?? []));
    const rest = request.backends
      .map((backend, index) => ({ backend, index }))
      .filter((candidate) => !seen.has(candidate.index));
    const order = [...response.candidates, ...rest];
    this.entries.set(key, { order, list: response.list, next: undefined });
  }

  /**
   * Keeps the pool's registered backends of an answer drawn from the global list: replaced by an
   * answer to a request that excluded nothing, added to otherwise (an exclusion hides some).
   */
  private learnRegistered(
    request: ResolveBackendRequest,
    candidates: readonly ResolveBackendCandidate[],
  ): void {
    const fresh = candidates.filter(
      (candidate) => candidate.url !== undefined && candidate.registry === 'pool',
    );
    const excludedSome = (request.exclude?.length ?? 0) > 0 || (request.excludeBackends?.length ?? 0) > 0;
    const known = excludedSome ? (this.registered.get(request.pool) ?? []) : [];
    const merged = [...known.filter((old) => !fresh.some((c) => c.backend === old.backend)), ...fresh];
    merged.sort((a, b) => (a.backend < b.backend ? -1 : a.backend > b.backend ? 1 : 0));
    if (merged.length > 0) this.registered.set(request.pool, merged);
    else this.registered.delete(request.pool);
  }

  private serveStale(request: ResolveBackendRequest, key: string): ResolveBackendResponse {
    const since = this.unreachableSince ?? this.now();
    const now = this.now();
    const reason = describe(this.lastError);
    if (this.lastSuccessAt === undefined) {
      throw new ControlPlaneError(
        'resolve-backend',
        `unreachable since ${iso(since)} and not reached once since this worker started, so there is no cached answer to use (${reason})`,
        { cause: this.lastError },
      );
    }
    if (now - since > this.options.staleForMs) {
      if (!this.announcedExpired) {
        this.announcedExpired = true;
        this.options.log.error(
          'control plane unreachable for longer than staleFor: backend selection fails',
          {
            unreachableSince: iso(since),
            staleForMs: this.options.staleForMs,
            servedFromCache: this.servedStale,
            reason,
          },
        );
      }
      throw new ControlPlaneError(
        'resolve-backend',
        `unreachable since ${iso(since)}; cached answers are only used for ${formatMs(this.options.staleForMs)} after that (${reason})`,
        { cause: this.lastError },
      );
    }
    if (!this.announcedStale) {
      this.announcedStale = true;
      this.options.log.warn('control plane unreachable: serving cached backend selections', {
        unreachableSince: iso(since),
        staleForMs: this.options.staleForMs,
        failsAfter: iso(since + this.options.staleForMs),
        reason,
      });
    }
    this.servedStale += 1;
    return this.localAnswer(request, key);
  }

  /** The stale answer, the request's exclusions applied. */
  private localAnswer(request: ResolveBackendRequest, key: string): ResolveBackendResponse {
    const count = request.backends.length;
    const excluded = new Set(request.exclude ?? []);
    const excludedKeys = new Set(request.excludeBackends ?? []);
    const usable = (candidate: ResolveBackendCandidate) =>
      !excludedKeys.has(candidate.backend) &&
      (candidate.index === undefined ||
        (candidate.index < count &&
          !excluded.has(candidate.index) &&
          request.backends[candidate.index] === candidate.backend));
    const entry = this.entries.get(key);
    const scope = request.backendsScope ?? 'pool';
    const answer = (order: ResolveBackendCandidate[], list = entry?.list): ResolveBackendResponse => ({
      candidates: order.filter(usable),
      ...(list !== undefined ? { list } : {}),
    });
    if (
      !entry &&
      isPerNamePolicy(request.policy) &&
      scope === 'pool' &&
      request.perUserFallback === 'refuse'
    ) {
      return {
        candidates: [],
        list: 'user',
        refused: `the control plane is unreachable and no answer for "${request.stickyKey ?? ''}" is cached, so whether it has backends of its own is not known (perUserFallback is refuse)`,
      };
    }
    // What the control plane would draw from for a key it never answered: the listed backends, and
    // (for the pool's own list) its registered ones as last seen.
    const known = (): ResolveBackendCandidate[] => [
      ...request.backends.map((backend, index) => ({ backend, index })),
      ...(scope === 'pool' ? (this.registered.get(request.pool) ?? []) : []),
    ];
    if (isStickyPolicy(request.policy)) {
      if (entry) return answer(entry.order);
      const list = known();
      const ranked = rendezvousRank(
        request.stickyKey ?? '',
        list.map((candidate) => candidate.backend),
      );
      return answer(
        ranked.map((position) => list[position] as ResolveBackendCandidate),
        scope,
      );
    }
    if (request.policy === 'Random' || request.policy === 'Shuffle') {
      return answer(shuffled(entry?.order ?? known(), this.random), entry?.list ?? scope);
    }
    // RoundRobin, LeastConns, LeastResponseTime: rotate, starting after the last known first pick.
    const current: Entry = entry ?? { order: known(), list: scope, next: undefined };
    const ring = rotation(current.order);
    const size = ring.length;
    if (size === 0) return answer([]);
    const first = current.order[0];
    const firstAt = first ? ring.findIndex((candidate) => sameCandidate(candidate, first)) : -1;
    const start = (current.next ?? (entry ? firstAt + 1 : Math.floor(this.random() * size))) % size;
    current.next = (start + 1) % size;
    if (!entry) this.entries.set(key, current);
    const order: ResolveBackendCandidate[] = [];
    for (let step = 0; step < size; step++)
      order.push(ring[(start + step) % size] as ResolveBackendCandidate);
    return answer(order, current.list);
  }
}

/** A fixed cyclic order for local rotation: listed backends by position, then registered ones by key. */
function rotation(candidates: readonly ResolveBackendCandidate[]): ResolveBackendCandidate[] {
  const listed = candidates.filter((candidate) => candidate.index !== undefined);
  listed.sort((a, b) => (a.index as number) - (b.index as number));
  const registered = candidates.filter((candidate) => candidate.index === undefined);
  registered.sort((a, b) => (a.backend < b.backend ? -1 : a.backend > b.backend ? 1 : 0));
  return [...listed, ...registered];
}

function sameCandidate(a: ResolveBackendCandidate, b: ResolveBackendCandidate): boolean {
  return a.index !== undefined ? a.index === b.index : b.index === undefined && a.backend === b.backend;
}

export function createCachedControlPlane(
  inner: ControlPlaneClient,
  options: CachedControlPlaneOptions,
): CachedControlPlane {
  return new CachedControlPlane(inner, options);
}

/**
 * What an answer depends on: the pool, its policy and backend list, and for sticky policies the
 * key. Hashed, so that a long backend list costs 32 bytes per entry.
 */
export function cacheKey(request: ResolveBackendRequest): string {
  const sticky = isStickyPolicy(request.policy) ? (request.stickyKey ?? '') : '';
  const scope = request.backendsScope ?? 'pool';
  const fallback = request.perUserFallback ?? 'global';
  return createHash('sha256')
    .update(JSON.stringify([request.pool, request.policy, request.backends, sticky, scope, fallback]))
    .digest('base64');
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function formatMs(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}

function describe(err: unknown): string {
  if (err === undefined) return 'no answer';
  return err instanceof Error ? err.message : String(err);
}
