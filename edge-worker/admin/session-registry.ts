import { randomUUID } from 'node:crypto';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Counter as PromCounter } from 'prom-client';
import { type Span, tracer } from '../tracing/tracer.js';
import type { EdgeMetrics } from './edge-metrics.js';

/** What any session kind (reverse FTP, FTPS, forward proxy, SFTP) tells the registry when it starts. */
export interface SessionStart {
  /** "ftp", "ftps", "sftp", ... */
  protocol: string;
  /** "reverse" or "forward". */
  role: string;
  pool: string;
  /** The listener's name. */
  listener: string;
  /** `address:port` of the client (as a trusted PROXY header named it). */
  client: string;
  /** Ends the session now, telling the client why where the protocol can (FTP: `421 <reason>`). */
  close(reason: string): void;
}

/**
 * What a session reports while it runs. Every method is cheap and safe to call after end().
 * Directions are the client's view: "in" is data the client uploads, "out" data it downloads.
 */
export interface SessionHandle {
  readonly id: string;
  setUser(user: string): void;
  /**
   * The backend the session is connected to now (its key, no credentials), what connecting took, and
   * the address actually connected (mod_proxy's backend-ip / backend-port notes).
   */
  setBackend(backend: string, details?: { connectMs?: number; address?: string; port?: number }): void;
  /** The session let its backend go (e.g. HOST switched pools). */
  clearBackend(): void;
  login(ok: boolean): void;
  addBytes(direction: 'in' | 'out', bytes: number): void;
  transferEnded(transfer: { ms: number; ok: boolean }): void;
  /** Any activity (a command): resets the idle time. */
  touch(): void;
  end(): void;
  /**
   * Runs `run` (the session) inside the session's login trace, so that control-plane calls made
   * on its behalf are child spans and carry its `traceparent`. Without tracing: just runs it.
   */
  runTraced<T>(run: () => T): T;
}

export interface SessionSummary {
  id: string;
  protocol: string;
  role: string;
  pool: string;
  listener: string;
  client: string;
  user: string | null;
  backend: string | null;
  bytesIn: number;
  bytesOut: number;
  startedAt: string;
  idleSeconds: number;
  /** The address and port actually connected (mod_proxy.backend-ip / backend-port). */
  backendAddress?: string;
  backendPort?: number;
  /** Set in a cluster: the worker process that owns the session. */
  worker?: number;
}

/** A session that ended, for access logs. */
export interface EndedSession {
  session: SessionSummary;
  endedAt: Date;
  durationMs: number;
}

/** A handle that records nothing: for sessions started without a registry (unit tests). */
export const untrackedSession: SessionHandle = {
  id: '',
  setUser() {},
  setBackend() {},
  clearBackend() {},
  login() {},
  addBytes() {},
  transferEnded() {},
  touch() {},
  end() {},
  runTraced: (run) => run(),
};

/**
 * A session's id: 12 random hex digits. Taken from a v4 UUID, whose first 12 digits are all random
 * (the version digit comes after them): randomUUID draws from a pool of random bytes node keeps,
 * where randomBytes(6) makes a call into the RNG and a Buffer for every session.
 */
export function newSessionId(): string {
  const uuid = randomUUID();
  return uuid.slice(0, 8) + uuid.slice(9, 13);
}

class TrackedSession implements SessionHandle {
  readonly id = newSessionId();
  user: string | undefined;
  backend: string | undefined;
  backendAddress: string | undefined;
  /** The backend label value its metrics use (EdgeMetrics.backendLabel bounds them). */
  private backendLabel = '';
  backendPort: number | undefined;
  bytesIn = 0;
  bytesOut = 0;
  readonly startedAt = Date.now();
  lastActivity = Date.now();
  private ended = false;
  private readonly bytesCounters: { in?: PromCounter.Internal; out?: PromCounter.Internal } = {};
  /** The backend as it was before the session let it go: access logs name it at the end. */
  lastBackend: { backend: string; address: string | undefined; port: number | undefined } | undefined;

  /** The login path (accept → control plane → backend connect → login); ends at the login's result. */
  private loginSpan: Span | undefined;

  constructor(
    readonly start: SessionStart,
    private readonly registry: SessionRegistry,
    private readonly metrics: EdgeMetrics,
  ) {
    this.loginSpan = tracer.startSpan('ftpx.session.login', {
      kind: SpanKind.SERVER,
      attributes: {
        'ftpx.session': this.id,
        'ftpx.protocol': start.protocol,
        'ftpx.pool': start.pool,
        'ftpx.role': start.role,
        'ftpx.client': start.client,
      },
    });
  }

  runTraced<T>(run: () => T): T {
    const span = this.loginSpan;
    return span ? context.with(trace.setSpan(context.active(), span), run) : run();
  }

  private get labels() {
    return { protocol: this.start.protocol, pool: this.start.pool, role: this.start.role };
  }

  setUser(user: string): void {
    this.user = user;
    this.loginSpan?.setAttribute('ftpx.user', user);
  }

  setBackend(backend: string, details: { connectMs?: number; address?: string; port?: number } = {}): void {
    if (this.ended) return;
    if (this.backend !== undefined) this.clearBackend();
    const { connectMs } = details;
    this.backend = backend;
    this.backendAddress = details.address;
    this.backendPort = details.port;
    this.backendLabel = this.metrics.backendLabel(this.start.pool, backend);
    this.metrics.backendSessionOpened(this.start.pool, this.backendLabel, connectMs);
    this.loginSpan?.addEvent('backend connected', {
      'ftpx.backend': backend,
      ...(connectMs !== undefined ? { 'ftpx.connect_ms': connectMs } : {}),
    });
  }

  clearBackend(): void {
    if (this.backend === undefined) return;
    this.metrics.backendSessionClosed(this.start.pool, this.backendLabel);
    this.lastBackend = { backend: this.backend, address: this.backendAddress, port: this.backendPort };
    this.backend = undefined;
    this.backendAddress = undefined;
    this.backendPort = undefined;
  }

  login(ok: boolean): void {
    this.metrics.logins.inc({ ...this.labels, result: ok ? 'ok' : 'failed' });
    this.endLoginSpan(ok ? 'ok' : 'failed');
  }

  addBytes(direction: 'in' | 'out', bytes: number): void {
    if (direction === 'in') this.bytesIn += bytes;
    else this.bytesOut += bytes;
    this.lastActivity = Date.now();
    // Every data chunk comes here: the labelled child is looked up once per session and direction.
    let counter = this.bytesCounters[direction];
    if (!counter) {
      counter = this.metrics.bytes.labels({
        protocol: this.start.protocol,
        pool: this.start.pool,
        direction,
      });
      this.bytesCounters[direction] = counter;
    }
    counter.inc(bytes);
    this.registry.throughput.add(direction, bytes);
  }

  transferEnded(transfer: { ms: number; ok: boolean }): void {
    this.lastActivity = Date.now();
    this.metrics.transferSeconds.observe(
      { protocol: this.start.protocol, pool: this.start.pool, result: transfer.ok ? 'ok' : 'failed' },
      transfer.ms / 1000,
    );
  }

  touch(): void {
    this.lastActivity = Date.now();
  }

  private endLoginSpan(result: 'ok' | 'failed' | 'none'): void {
    const span = this.loginSpan;
    if (!span) return;
    this.loginSpan = undefined;
    span.setAttribute('ftpx.login', result);
    if (this.backend !== undefined) span.setAttribute('ftpx.backend', this.backend);
    if (result !== 'ok') span.setStatus({ code: SpanStatusCode.ERROR, message: `login ${result}` });
    span.end();
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.endLoginSpan('none');
    const now = Date.now();
    const summary = this.summary(now);
    this.clearBackend();
    this.metrics.sessionsActive.dec(this.labels);
    this.registry.forget(this, {
      session: summary,
      endedAt: new Date(now),
      durationMs: now - this.startedAt,
    });
  }

  summary(now: number): SessionSummary {
    return {
      id: this.id,
      protocol: this.start.protocol,
      role: this.start.role,
      pool: this.start.pool,
      listener: this.start.listener,
      client: this.start.client,
      user: this.user ?? null,
      backend: this.backend ?? this.lastBackend?.backend ?? null,
      ...(this.backend !== undefined
        ? { backendAddress: this.backendAddress, backendPort: this.backendPort }
        : this.lastBackend
          ? { backendAddress: this.lastBackend.address, backendPort: this.lastBackend.port }
          : {}),
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      startedAt: new Date(this.startedAt).toISOString(),
      idleSeconds: Math.max(0, Math.round((now - this.lastActivity) / 100) / 10),
    };
  }
}

/** Bytes per 10-second slot over the last 10 minutes, for the status page's throughput. */
export class Throughput {
  static readonly SLOT_MS = 10_000;
  static readonly SLOTS = 60;
  private readonly slots = new Map<number, { in: number; out: number }>();

  add(direction: 'in' | 'out', bytes: number, now = Date.now()): void {
    const slot = Math.floor(now / Throughput.SLOT_MS);
    let entry = this.slots.get(slot);
    if (!entry) {
      entry = { in: 0, out: 0 };
      this.slots.set(slot, entry);
      for (const old of this.slots.keys()) if (old <= slot - Throughput.SLOTS) this.slots.delete(old);
    }
    entry[direction] += bytes;
  }

  /** Oldest first; slots without traffic included as zero. */
  series(now = Date.now()): { at: string; in: number; out: number }[] {
    const current = Math.floor(now / Throughput.SLOT_MS);
    const series = [];
    for (let slot = current - Throughput.SLOTS + 1; slot <= current; slot++) {
      const entry = this.slots.get(slot);
      series.push({
        at: new Date(slot * Throughput.SLOT_MS).toISOString(),
        in: entry?.in ?? 0,
        out: entry?.out ?? 0,
      });
    }
    return series;
  }
}

/**
 * Every open session of this process, whatever its protocol: the admin endpoint lists and kicks
 * them, the drain waits for them, and the session metrics follow them.
 */
export class SessionRegistry {
  private readonly sessions = new Map<string, TrackedSession>();
  private readonly emptyWaiters = new Set<() => void>();
  private readonly endListeners: ((ended: EndedSession) => void)[] = [];
  readonly throughput = new Throughput();

  constructor(readonly metrics: EdgeMetrics) {}

  register(start: SessionStart): SessionHandle {
    const session = new TrackedSession(start, this, this.metrics);
    this.sessions.set(session.id, session);
    const labels = { protocol: start.protocol, pool: start.pool, role: start.role };
    this.metrics.sessionsActive.inc(labels);
    this.metrics.sessionsTotal.inc(labels);
    return session;
  }

  get size(): number {
    return this.sessions.size;
  }

  list(now = Date.now()): SessionSummary[] {
    return [...this.sessions.values()].map((session) => session.summary(now));
  }

  /** Closes one session with `reason`; false when there is no such session. */
  kick(id: string, reason: string): boolean {
    const session = this.sessions.get(id);
    if (!session) return false;
    this.metrics.sessionsKicked.inc();
    session.start.close(reason);
    return true;
  }

  closeAll(reason: string): void {
    for (const session of [...this.sessions.values()]) session.start.close(reason);
  }

  /** Resolves when no session is open, or after timeoutMs (false then). */
  whenEmpty(timeoutMs: number): Promise<boolean> {
    if (this.sessions.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (empty: boolean) => {
        clearTimeout(timer);
        this.emptyWaiters.delete(onEmpty);
        resolve(empty);
      };
      const onEmpty = () => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.emptyWaiters.add(onEmpty);
    });
  }

  /** Called with every session that ends (access logs). */
  onEnd(listener: (ended: EndedSession) => void): void {
    this.endListeners.push(listener);
  }

  /** @internal: called by a session's end(). */
  forget(session: TrackedSession, ended: EndedSession): void {
    this.sessions.delete(session.id);
    for (const listener of this.endListeners) listener(ended);
    if (this.sessions.size === 0) for (const waiter of [...this.emptyWaiters]) waiter();
  }
}
