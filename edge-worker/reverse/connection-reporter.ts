import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { ConnectPolicy } from '../../functions/contract/connect-policies.js';
import { HEARTBEAT_INTERVAL_MS } from '../../functions/contract/session-events.js';
import type { ControlPlaneClient } from '../control-plane/control-plane-client.js';
import type { Logger } from '../log/logger.js';

/** Policies that decide by live connections or connect times, so need every worker's reports. */
const REPORTING_POLICIES: ReadonlySet<ConnectPolicy> = new Set(['LeastConns', 'LeastResponseTime']);

export function needsReports(policy: ConnectPolicy): boolean {
  return REPORTING_POLICIES.has(policy);
}

/**
 * This worker's side of LeastConns and LeastResponseTime: it reports each backend session's connect
 * (with its connect time), failure and end to the control plane, and heartbeats the leases of the
 * backends it has live sessions on, so that its counts expire if it dies. Reports never hold up a
 * session: they are sent in the background, and a failed one is logged, not retried (the lease TTL
 * bounds any error).
 */
export class ConnectionReporter {
  /** Unique per process start: a restarted worker must not inherit its predecessor's leases. */
  readonly workerId = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  private readonly live = new Map<string, { pool: string; backend: string; sessions: number }>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly controlPlane: ControlPlaneClient,
    private readonly log: Logger,
    /** This worker's own view of each backend after every connect attempt (the metrics, the status page). */
    private readonly onReachability?: (pool: string, backend: string, reachable: boolean) => void,
  ) {
    this.timer = setInterval(() => this.heartbeat(), HEARTBEAT_INTERVAL_MS);
    this.timer.unref();
  }

  connected(pool: string, backend: string, connectMs: number): void {
    const key = `${pool}\n${backend}`;
    const entry = this.live.get(key) ?? { pool, backend, sessions: 0 };
    entry.sessions += 1;
    this.live.set(key, entry);
    this.send({ type: 'connected', pool, backend, workerId: this.workerId, connectMs });
  }

  failed(pool: string, backend: string, reason: string): void {
    this.onReachability?.(pool, backend, false);
    this.send({
      type: 'connect-failed',
      pool,
      backend,
      reason: reason.slice(0, 1024),
      workerId: this.workerId,
    });
  }

  /** A connect succeeded to a backend the control plane flagged as failing (passive health). */
  succeeded(pool: string, backend: string): void {
    this.send({ type: 'connect-succeeded', pool, backend, workerId: this.workerId });
  }

  /** Every connect that worked, whatever the policy: only this worker's own view is updated. */
  reached(pool: string, backend: string): void {
    this.onReachability?.(pool, backend, true);
  }

  ended(pool: string, backend: string): void {
    const key = `${pool}\n${backend}`;
    const entry = this.live.get(key);
    if (entry) {
      entry.sessions -= 1;
      if (entry.sessions <= 0) this.live.delete(key);
    }
    this.send({ type: 'ended', pool, backend, workerId: this.workerId });
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private heartbeat(): void {
    if (this.live.size === 0) return;
    const leases = [...this.live.values()].map(({ pool, backend }) => ({ pool, backend }));
    this.send({ type: 'heartbeat', workerId: this.workerId, leases });
  }

  private send(event: Parameters<ControlPlaneClient['sessionEvent']>[0]): void {
    this.controlPlane.sessionEvent(event).catch((err: unknown) => {
      this.log.warn('session event not delivered', { event: event.type, error: err });
    });
  }
}
