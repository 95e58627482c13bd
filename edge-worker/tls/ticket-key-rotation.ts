import type { Server } from 'node:tls';
import type { TicketKey } from '../../functions/contract/tls-cache.js';
import type { ControlPlaneClient } from '../control-plane/control-plane-client.js';
import type { Logger } from '../log/logger.js';
import type { FrontendTlsCacheSettings } from './tls-cache-settings.js';

/** setTimeout's largest delay; longer waits are done in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 60_000;

/**
 * Keeps a tls.Server on the shared session ticket key of the current rotation period, so a ticket
 * one worker issued decrypts on every other. All workers switch at the same instant (the period
 * boundary, from the store's schedule, not from when each worker started); the next period's key
 * is fetched ahead, so the switch needs no call at that moment.
 *
 * Node's setTicketKeys holds one key, so at a switch tickets issued under the previous key stop
 * decrypting: those clients do one full handshake and get a new ticket (TLS session IDs, from the
 * shared session cache, are not affected). A period is `rotateEvery` (12 h by default), so that
 * affects only tickets issued in the last session lifetime before each boundary.
 */
export class TicketKeyRotation {
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private next: TicketKey | undefined;
  private retryMs = RETRY_MIN_MS;
  /** The period whose key the server uses; undefined until the first answer. */
  activeEpoch: number | undefined;

  constructor(
    private readonly server: Server,
    private readonly deps: {
      controlPlane: ControlPlaneClient;
      settings: FrontendTlsCacheSettings['tickets'];
      lifetimeS: number;
      log: Logger;
      now: () => number;
    },
  ) {}

  /** Fetches and applies the current key; resolves once applied (or once the first attempt failed). */
  async start(): Promise<void> {
    await this.refresh();
  }

  private async refresh(): Promise<void> {
    if (this.closed) return;
    try {
      const answer = await this.deps.controlPlane.tlsCache({
        op: 'ticket-keys',
        rotateEveryS: this.deps.settings.rotateEveryS,
        lifetimeS: this.deps.lifetimeS,
      });
      if (answer.op !== 'ticket-keys') throw new Error(`unexpected answer ${answer.op}`);
      if (this.closed) return;
      // By this worker's clock (which may run a little ahead of the control plane's), the next
      // period may already have begun; a key older than the one in use is never taken back.
      const now = this.deps.now();
      const due = answer.next.activeFrom <= now ? answer.next : answer.current;
      this.apply(due);
      this.next = due === answer.next ? undefined : answer.next;
      this.retryMs = RETRY_MIN_MS;
      // A clock more than a period away from the control plane's would otherwise spin here.
      const wait = due.activeUntil - now;
      this.schedule(wait > 0 ? wait : RETRY_MAX_MS, () => this.switchToNext());
    } catch (err) {
      this.deps.log.warn(
        'cannot fetch the shared TLS ticket key; tickets stay local to this worker until it can',
        {
          error: err instanceof Error ? err.message : String(err),
          retryInMs: this.retryMs,
        },
      );
      this.schedule(this.retryMs, () => this.refresh());
      this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
    }
  }

  private switchToNext(): void {
    const next = this.next;
    if (next && next.activeFrom <= this.deps.now() && this.deps.now() < next.activeUntil) this.apply(next);
    // Fetch the period after it (and confirm this one) without delaying the switch.
    void this.refresh();
  }

  private apply(key: TicketKey): void {
    if (this.activeEpoch !== undefined && key.epoch <= this.activeEpoch) return;
    this.server.setTicketKeys(Buffer.from(key.key, 'base64'));
    this.activeEpoch = key.epoch;
    this.deps.log.debug('TLS ticket key applied', {
      epoch: key.epoch,
      until: new Date(key.activeUntil).toISOString(),
    });
  }

  private schedule(delayMs: number, run: () => void): void {
    clearTimeout(this.timer);
    if (this.closed) return;
    const wait = Math.max(0, delayMs);
    this.timer = setTimeout(
      () => {
        if (wait > MAX_TIMER_MS) this.schedule(wait - MAX_TIMER_MS, run);
        else run();
      },
      Math.min(wait, MAX_TIMER_MS),
    );
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }
}
