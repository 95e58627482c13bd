import type { BansConfig, ConnectionLimitsConfig } from '../config/limits-schema.js';
import { bansSchema } from '../config/limits-schema.js';
import type { ControlPlaneClient } from '../control-plane/control-plane-client.js';
import type { Logger } from '../log/logger.js';
import { BanEvents } from './ban-events.js';
import { BanList } from './ban-list.js';
import { ConnectionGuard } from './connection-guard.js';
import { SlotLeases } from './slot-leases.js';

/**
 * A worker's defences against abuse (docs/security.md): the shared ban list, the BanOnEvent rules
 * and the connection counts, one of each per worker, and a ConnectionGuard per listener.
 */
export class AbuseDefences {
  readonly slots: SlotLeases;
  readonly bans: BanList;
  readonly events: BanEvents;

  constructor(
    controlPlane: ControlPlaneClient,
    config: BansConfig | undefined,
    private readonly log: Logger,
  ) {
    const bans = config ?? bansSchema.parse({});
    this.slots = new SlotLeases(controlPlane, log);
    this.bans = new BanList(controlPlane, bans, log);
    this.events = new BanEvents(bans, controlPlane, this.bans, log);
  }

  start(): Promise<void> {
    return this.bans.start();
  }

  /**
   * A reload's `bans` block (BanEngine, BanMessage, BanOnEvent rules, poll interval): applies to
   * new connections and to the events of running sessions from now on; no session is dropped.
   */
  async configure(config: BansConfig | undefined): Promise<void> {
    const bans = config ?? bansSchema.parse({});
    this.events.configure(bans);
    await this.bans.configure(bans);
  }

  /** `classOf`: the client's `<Class>` name (class bans, BanMessage's %c). */
  guardFor(
    limits: ConnectionLimitsConfig,
    scope: string,
    classOf: (address: string) => string | undefined,
  ): ConnectionGuard {
    return new ConnectionGuard(limits, scope, {
      slots: this.slots,
      bans: this.bans,
      events: this.events,
      classOf,
      log: this.log,
    });
  }

  /** Stops polling and heartbeats; resolves once a poll in flight is done (the store may then close). */
  async stop(): Promise<void> {
    this.bans.stop();
    this.slots.stop();
    await this.bans.settled();
  }
}
