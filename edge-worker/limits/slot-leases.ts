import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { HEARTBEAT_INTERVAL_MS } from '../../functions/contract/session-events.js';
import type { ControlPlaneClient } from '../control-plane/control-plane-client.js';
import type { Logger } from '../log/logger.js';

/** A group's count across the cluster as one acquire saw it, and how to give the slot back. */
export interface HeldSlot {
  total: number;
  members: number;
  release(): void;
}

interface LocalGroup {
  /** Per member (a client address for MaxHostsPerUser, else ''). */
  members: Map<string, number>;
  total: number;
}

/**
 * This worker's side of the connection-limit counts: every held slot is counted here (the per-node
 * fast path: a group already over its limit on this worker alone is refused without asking the
 * store) and in the store through the control plane (contract/abuse.ts), as leases that a heartbeat
 * keeps alive, so the counts of a worker that dies expire within the lease TTL (30 s).
 * When the control plane has no abuse operation, or cannot answer, the local count is the answer:
 * limits then hold per worker (logged once).
 */
export class SlotLeases {
  /** Unique per process start, as ConnectionReporter's: a restarted worker inherits no counts. */
  readonly workerId = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}-slots`;
  private readonly local = new Map<string, LocalGroup>();
  private readonly timer: NodeJS.Timeout;
  private warned = false;

  constructor(
    private readonly controlPlane: ControlPlaneClient,
    private readonly log: Logger,
  ) {
    this.timer = setInterval(() => this.heartbeat(), HEARTBEAT_INTERVAL_MS);
    this.timer.unref();
  }

  /** This worker's own count of a group (and of its distinct members). */
  localCount(group: string): { total: number; members: number } {
    const entry = this.local.get(group);
    return { total: entry?.total ?? 0, members: entry?.members.size ?? 0 };
  }

  /** Takes a slot in `group` and tallies the group across the cluster (this slot included). */
  async acquire(group: string, member = ''): Promise<HeldSlot> {
    this.add(group, member, 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.add(group, member, -1);
      this.send({ op: 'release', group, member, workerId: this.workerId });
    };
    const abuse = this.controlPlane.abuse?.bind(this.controlPlane);
    if (abuse) {
      try {
        const answer = await abuse({ op: 'acquire', group, member, workerId: this.workerId });
        const mine = this.localCount(group);
        // The store may lag this worker's own count (a release in flight): never count fewer.
        return {
          total: Math.max(answer.total ?? 0, mine.total),
          members: Math.max(answer.members ?? 0, mine.members),
          release,
        };
      } catch (err) {
        this.warnOnce(
          'connection limits fall back to this worker alone: the control plane did not count',
          err,
        );
      }
    } else this.warnOnce('the control plane keeps no connection counts: limits hold per worker');
    return { ...this.localCount(group), release };
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private add(group: string, member: string, delta: number): void {
    const entry = this.local.get(group) ?? { members: new Map<string, number>(), total: 0 };
    const count = (entry.members.get(member) ?? 0) + delta;
    if (count > 0) entry.members.set(member, count);
    else entry.members.delete(member);
    entry.total += delta;
    if (entry.total > 0) this.local.set(group, entry);
    else this.local.delete(group);
  }

  private heartbeat(): void {
    if (this.local.size === 0 || !this.controlPlane.abuse) return;
    const slots: { group: string; member: string }[] = [];
    for (const [group, entry] of this.local) {
      for (const member of entry.members.keys()) slots.push({ group, member });
    }
    for (let i = 0; i < slots.length; i += 10_000) {
      this.send({ op: 'heartbeat', workerId: this.workerId, slots: slots.slice(i, i + 10_000) });
    }
  }

  private send(request: Parameters<NonNullable<ControlPlaneClient['abuse']>>[0]): void {
    this.controlPlane.abuse?.(request).catch((err: unknown) => {
      this.log.warn('connection count not delivered', { op: request.op, error: err });
    });
  }

  private warnOnce(message: string, error?: unknown): void {
    if (this.warned) return;
    this.warned = true;
    this.log.warn(message, error === undefined ? {} : { error });
  }
}
