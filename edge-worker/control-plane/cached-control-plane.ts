import { createHash } from 'node:crypto';
import { isStickyPolicy } from '../../functions/contract/connect-policies.js';
import type {
  ResolveBackendRequest,
  ResolveBackendResponse,
} from '../../functions/contract/resolve-backend.js';
import type { SessionEventsRequest, SessionEventsResponse } from '../../functions/contract/session-events.js';
import { type Random, shuffled } from '../../functions/shared/random.js';
import { rendezvousRank } from '../../functions/shared/rendezvous-hash.js';
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
}

/** One remembered answer: the order the control plane gave, and where local rotation goes next. */
interface Entry {
  order: number[];
  /** The next start position of the local rotation (balancing policies while stale). */
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
 * per (pool, policy, backend list, and for sticky policies the sticky key).
 *
 * When a call fails because the control plane is unavailable (see isControlPlaneUnavailable), the
 * outage starts, and for `staleForMs` from its start every resolve-backend is answered locally:
 * - sticky policies: the key's remembered order; a key never seen gets its rendezvous ranking,
 *   which is the first pick the control plane itself makes for a key without a mapping;
 * - RoundRobin, LeastConns, LeastResponseTime: a local rotation over the backend list, starting
 *   after the remembered first pick, so sessions keep spreading (no live counts are known);
 * - Random, Shuffle: a local random order.
 * The request's `exclude` is applied in every case. One call per probe interval still goes to the
 * control plane; the first success ends the outage. After `staleForMs`, calls fail with a
 * ControlPlaneError saying since when the control plane has been unreachable. A worker that never
 * reached the control plane since it started has nothing to go on and fails at once.
 *
 * Refusals (4xx: a wrong request or token) are never covered up. Session events pass through.
 */
export class CachedControlPlane implements ClosableControlPlaneClient {
  private readonly entries = new Map<string, Entry>();
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
    this.maxEntries = options.maxEntries ?? 10_000;
  }

  get state(): CachedControlPlaneState {
    return {
      unreachableSince: this.unreachableSince,
      servedStale: this.servedStale,
      entries: this.entries.size,
    };
  }

  async resolveBackend(request: ResolveBackendRequest): Promise<ResolveBackendResponse> {
    const key = cacheKey(request);
    if (this.unreachableSince !== undefined) {
      const now = this.now();
      if (now < this.nextProbeAt) return this.serveStale(request, key);
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
      return this.serveStale(request, key);
    }
    this.remember(key, request, response);
    return response;
  }

  sessionEvent(event: SessionEventsRequest): Promise<SessionEventsResponse> {
    return this.inner.sessionEvent(event);
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
    const first = response.candidates[0];
    if (!first) return; // Everything was excluded: nothing learnt.
    // The full order: the answer's, then what the request excluded (it was not ranked), in list order.
    const seen = new Set(response.candidates.map((candidate) => candidate.index));
    const rest = request.backends.map((_, index) => index).filter((index) => !seen.has(index));
    const order = [...response.candidates.map((candidate) => candidate.index), ...rest];
    this.entries.delete(key);
    this.entries.set(key, { order, next: undefined });
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
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
    const order = this.localOrder(request, key);
    return { candidates: order.map((index) => ({ index, backend: request.backends[index] ?? '' })) };
  }

  /** The stale answer's order, the request's exclusions applied. */
  private localOrder(request: ResolveBackendRequest, key: string): number[] {
    const count = request.backends.length;
    const excluded = new Set(request.exclude ?? []);
    const usable = (index: number) => index >= 0 && index < count && !excluded.has(index);
    const entry = this.entries.get(key);
    if (isStickyPolicy(request.policy)) {
      const order = entry?.order ?? rendezvousRank(request.stickyKey ?? '', request.backends);
      return order.filter(usable);
    }
    if (request.policy === 'Random' || request.policy === 'Shuffle') {
      return shuffled(request.backends.map((_, index) => index).filter(usable), this.random);
    }
    // RoundRobin, LeastConns, LeastResponseTime: rotate, starting after the last known first pick.
    const current = entry ?? { order: [], next: undefined };
    const start = current.next ?? ((current.order[0] ?? Math.floor(this.random() * count) - 1) + 1) % count;
    current.next = (start + 1) % count;
    if (!entry) this.entries.set(key, current);
    const order: number[] = [];
    for (let step = 0; step < count; step++) {
      const index = (start + step) % count;
      if (usable(index)) order.push(index);
    }
    return order;
  }
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
  return createHash('sha256')
    .update(JSON.stringify([request.pool, request.policy, request.backends, sticky]))
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
