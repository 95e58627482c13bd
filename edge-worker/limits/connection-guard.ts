import type { BanEventName, ConnectionLimitsConfig } from '../config/limits-schema.js';
import type { GuardEvent, GuardRefusal, SessionGuard } from '../ftp/session/session-guard.js';
import type { Logger } from '../log/logger.js';
import type { BanEvents } from './ban-events.js';
import type { BanList } from './ban-list.js';
import { canonicalHost } from './canonical-host.js';
import { bannedSessionRefusal, type CountedLimit, limitRefusal, PRE_LOGIN_REFUSAL } from './refusal-texts.js';
import type { HeldSlot, SlotLeases } from './slot-leases.js';

/** What a connection is refused with: a reply (FTP 530/421, an SSH disconnect message), or a bare close. */
export type Refused = { refused: true; refusal: GuardRefusal | undefined; reason: string };

export interface GuardServices {
  slots: SlotLeases;
  bans: BanList;
  events: BanEvents;
  /** The client's `<Class>` name, for class bans and BanMessage's %c. */
  classOf(address: string): string | undefined;
  log: Logger;
}

/**
 * One listener's connection limits and bans, applied where ProFTPD applies them: at accept, before
 * anything reaches a backend (bans, MaxInstances, the pre-login caps, MaxConnectionsPerHost), and
 * after the password (MaxClientsPerClass, MaxClientsPerHost, MaxClientsPerUser, MaxClients, MaxHostsPerUser, user and
 * class bans). Counts named by `scope` (the listener's name) are shared by every worker that has a
 * listener of that name. Refusals are reported as ban events.
 */
export class ConnectionGuard {
  private instances = 0;
  private unauthenticated = 0;
  private readonly unauthenticatedPerHost = new Map<string, number>();

  constructor(
    private readonly limits: ConnectionLimitsConfig,
    private readonly scope: string,
    private readonly services: GuardServices,
  ) {}

  /** A client connected: admitted (with its guard, to end when the connection ends) or refused. */
  async admit(address: string): Promise<Admission | Refused> {
    const host = canonicalHost(address);
    const className = this.services.classOf(host);
    const { bans, events, log } = this.services;
    void events.report('ClientConnectRate', { host, className });
    const banned = bans.match({ host, className });
    if (banned) {
      log.info('refused banned client', { client: host, ban: `${banned.ban.kind} ${banned.ban.value}` });
      return { refused: true, refusal: banned.refusal, reason: `banned (${banned.ban.reason})` };
    }
    if (this.limits.maxInstances !== undefined && this.instances >= this.limits.maxInstances) {
      // ProFTPD closes without a reply ("MaxInstances (%lu) reached, new connection denied").
      log.warn(`MaxInstances (${this.limits.maxInstances}) reached, new connection denied`, { client: host });
      return { refused: true, refusal: undefined, reason: 'MaxInstances' };
    }
    const perHost = this.unauthenticatedPerHost.get(host) ?? 0;
    if (
      this.unauthenticated >= this.limits.maxUnauthenticated ||
      perHost >= this.limits.maxUnauthenticatedPerHost
    ) {
      log.warn('refused: too many connections not logged in', {
        client: host,
        fromHost: perHost,
        total: this.unauthenticated,
      });
      return { refused: true, refusal: PRE_LOGIN_REFUSAL, reason: 'pre-login cap' };
    }
    const admission = new Admission(this, host, className);
    const max = this.limits.maxConnectionsPerHost;
    if (max) {
      const group = this.group('connections', host);
      // The per-node fast path: over the limit on this worker alone needs no store round trip.
      const slot =
        this.services.slots.localCount(group).total >= max.max
          ? undefined
          : await this.services.slots.acquire(group);
      if (!slot || slot.total > max.max) {
        slot?.release();
        admission.end();
        void events.report('MaxConnectionsPerHost', { host, className });
        log.warn(`Connection refused (MaxConnectionsPerHost ${max.max})`, { client: host });
        return {
          refused: true,
          refusal: limitRefusal('maxConnectionsPerHost', max),
          reason: 'MaxConnectionsPerHost',
        };
      }
      admission.hold(slot);
    }
    return admission;
  }

  /** The store group of one counted limit of this listener. */
  group(limit: string, key = ''): string {
    return `${this.scope}\n${limit}\n${key}`;
  }

  /** @internal Admission's bookkeeping. */
  track(host: string, delta: { instances?: number; unauthenticated?: number }): void {
    this.instances += delta.instances ?? 0;
    if (delta.unauthenticated) {
      this.unauthenticated += delta.unauthenticated;
      const count = (this.unauthenticatedPerHost.get(host) ?? 0) + delta.unauthenticated;
      if (count > 0) this.unauthenticatedPerHost.set(host, count);
      else this.unauthenticatedPerHost.delete(host);
    }
  }

  /** @internal */
  get config(): ConnectionLimitsConfig {
    return this.limits;
  }

  /** @internal */
  get deps(): GuardServices {
    return this.services;
  }
}

/** One admitted connection: its place in the counts until it ends. */
export class Admission implements SessionGuard {
  readonly refused = false;
  private readonly held: HeldSlot[] = [];
  private loginSlots: HeldSlot[] = [];
  private unauthenticated = true;
  private ended = false;
  private banned: ((refusal: GuardRefusal) => void) | undefined;

  constructor(
    private readonly guard: ConnectionGuard,
    readonly host: string,
    private readonly className: string | undefined,
  ) {
    guard.track(host, { instances: 1, unauthenticated: 1 });
  }

  /** @internal A slot held for the connection's life (MaxConnectionsPerHost). */
  hold(slot: HeldSlot): void {
    this.held.push(slot);
  }

  async loggedIn(user: string): Promise<GuardRefusal | undefined> {
    if (this.ended) return undefined;
    this.leavePreLogin();
    const { bans, slots, events, log } = this.guard.deps;
    const subject = { host: this.host, user, className: this.className };
    const banned = bans.match(subject);
    if (banned) {
      log.info('refused banned user', { user, ban: `${banned.ban.kind} ${banned.ban.value}` });
      return banned.refusal ?? { code: 530, text: 'Login incorrect.' };
    }
    const limits = this.guard.config;
    // ProFTPD's order of checks (mod_auth.c, auth_count_scoreboard).
    const checks: {
      limit: CountedLimit;
      setting: { max: number; message?: string | undefined };
      event?: BanEventName;
      group: string;
      member?: string;
    }[] = [];
    // MaxClientsPerClass: only the client's own class is counted (a client of no class is not).
    const perClass = limits.maxClientsPerClass?.find((entry) => entry.class === this.className);
    if (perClass)
      checks.push({
        limit: 'maxClientsPerClass',
        setting: perClass,
        event: 'MaxClientsPerClass',
        group: this.guard.group('clients-per-class', perClass.class),
      });
    if (limits.maxClientsPerHost)
      checks.push({
        limit: 'maxClientsPerHost',
        setting: limits.maxClientsPerHost,
        event: 'MaxClientsPerHost',
        group: this.guard.group('clients-per-host', this.host),
      });
    if (limits.maxClientsPerUser)
      checks.push({
        limit: 'maxClientsPerUser',
        setting: limits.maxClientsPerUser,
        event: 'MaxClientsPerUser',
        group: this.guard.group('clients-per-user', user),
      });
    if (limits.maxClients)
      checks.push({ limit: 'maxClients', setting: limits.maxClients, group: this.guard.group('clients') });
    if (limits.maxHostsPerUser)
      checks.push({
        limit: 'maxHostsPerUser',
        setting: limits.maxHostsPerUser,
        event: 'MaxHostsPerUser',
        group: this.guard.group('hosts-per-user', user),
        member: this.host,
      });
    this.releaseLogin();
    const taken = await Promise.all(checks.map((check) => slots.acquire(check.group, check.member)));
    this.loginSlots = taken;
    for (const [index, check] of checks.entries()) {
      const { setting } = check;
      const slot = taken[index];
      if (!slot) continue;
      const count = check.limit === 'maxHostsPerUser' ? slot.members : slot.total;
      if (count <= setting.max) continue;
      this.releaseLogin();
      if (check.event) void events.report(check.event, subject);
      const directive = check.limit.charAt(0).toUpperCase() + check.limit.slice(1);
      const argument = check.limit === 'maxClientsPerClass' ? `${perClass?.class} ` : '';
      log.warn(`Connection refused (${directive} ${argument}${setting.max})`, { client: this.host, user });
      return limitRefusal(check.limit, setting);
    }
    if (this.ended) this.releaseLogin();
    return undefined;
  }

  loggedOut(): void {
    this.releaseLogin();
  }

  /**
   * How the session ends when one of its own events bans its client (an autoban): mod_ban
   * disconnects the client it bans, so the session that tripped the rule does not go on.
   */
  whenBanned(end: (refusal: GuardRefusal) => void): void {
    this.banned = end;
  }

  event(name: GuardEvent, user?: string): void {
    const subject = { host: this.host, user, className: this.className };
    const { events, bans, log } = this.guard.deps;
    void events.report(name, subject).then((ban) => {
      if (!ban || this.ended || !this.banned) return;
      const match = bans.match(subject);
      if (!match) return;
      log.info('ending the session of a client its own event banned', { client: this.host, event: name });
      this.banned(bannedSessionRefusal(match.refusal, name));
    });
  }

  /** The connection ended: every count it held is given back. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.leavePreLogin();
    this.guard.track(this.host, { instances: -1 });
    this.releaseLogin();
    for (const slot of this.held.splice(0)) slot.release();
  }

  private leavePreLogin(): void {
    if (!this.unauthenticated) return;
    this.unauthenticated = false;
    this.guard.track(this.host, { unauthenticated: -1 });
  }

  private releaseLogin(): void {
    for (const slot of this.loginSlots.splice(0)) slot.release();
  }
}

export function isRefused(result: Admission | Refused): result is Refused {
  return result.refused;
}
