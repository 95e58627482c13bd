import type { Ban } from '../../functions/contract/abuse.js';
import { type Cidr, inNetworks, parseCidr } from '../../functions/core/net/index.js';
import type { BansConfig } from '../config/limits-schema.js';
import type { ControlPlaneClient } from '../control-plane/control-plane-client.js';
import type { GuardRefusal } from '../ftp/session/session-guard.js';
import type { Logger } from '../log/logger.js';
import { canonicalHost } from './canonical-host.js';

/** Who a connection is, as bans match it. */
export interface BanSubject {
  host: string;
  user?: string | undefined;
  className?: string | undefined;
}

/** A banned client: what it is told (undefined: nothing, the connection is just closed), and the ban. */
export interface BanMatch {
  refusal: GuardRefusal | undefined;
  ban: Ban;
}

/**
 * This worker's copy of the shared ban list (mod_ban's ban table, kept in the store): read through
 * the control plane every `pollInterval` (2 s by default), so a ban made on any node refuses the
 * client on every node within that; a ban this worker makes itself applies at once. A poll that fails
 * keeps the last list (logged); bans past their expiry stop matching without waiting for a poll.
 */
export class BanList {
  private bans = new Map<string, Ban>();
  /** Host bans of a network (`203.0.113.0/24`, `2001:db8::/48`), matched by prefix. */
  private networks: { ban: Ban; cidr: Cidr }[] = [];
  /** Bans this worker made (autobans), with when: a poll that began before one was stored must not drop it. */
  private readonly madeHere = new Map<string, { ban: Ban; at: number }>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private failing = false;

  constructor(
    private readonly controlPlane: ControlPlaneClient,
    private config: BansConfig,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether bans are shared at all (BanEngine on, and a control plane that keeps them). */
  get enabled(): boolean {
    return this.config.engine && this.controlPlane.abuse !== undefined;
  }

  /** Reads the list now and then every pollInterval. */
  async start(): Promise<void> {
    if (!this.enabled || this.timer) return;
    this.timer = setInterval(() => void this.refresh(), this.config.pollInterval);
    this.timer.unref();
    await this.refresh();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Resolves once no poll is in flight (the store may then close). */
  async settled(): Promise<void> {
    await this.polling;
  }

  /** A reload's bans settings: BanEngine, BanMessage and the poll interval apply from now on. */
  async configure(config: BansConfig): Promise<void> {
    const restart = this.timer !== undefined && config.pollInterval !== this.config.pollInterval;
    this.config = config;
    if (!this.enabled || restart) this.stop();
    await this.start();
  }

  /** One poll (concurrent callers share it). */
  refresh(): Promise<void> {
    this.polling ??= this.poll().finally(() => {
      this.polling = undefined;
    });
    return this.polling;
  }

  /** A ban this worker just made (an autoban): it applies here before the next poll. */
  add(ban: Ban): void {
    const key = keyOf(ban.kind, ban.value);
    this.bans.set(key, ban);
    this.madeHere.set(key, { ban, at: this.now() });
    this.networks = networksOf(this.bans);
  }

  /** The ban that refuses this subject, if any, with what the client is told. */
  match(subject: BanSubject): BanMatch | undefined {
    if (!this.enabled) return undefined;
    const candidates: [Ban['kind'], string | undefined][] = [
      ['host', canonicalHost(subject.host)],
      ['user', subject.user],
      ['class', subject.className],
    ];
    for (const [kind, value] of candidates) {
      if (value === undefined || value === '') continue;
      const ban = this.bans.get(keyOf(kind, value));
      if (!ban) continue;
      if (ban.expiresAt !== undefined && ban.expiresAt * 1000 <= this.now()) {
        this.bans.delete(keyOf(kind, value));
        continue;
      }
      return { ban, refusal: this.refusalText(ban, subject) };
    }
    for (const { ban, cidr } of this.networks) {
      if (ban.expiresAt !== undefined && ban.expiresAt * 1000 <= this.now()) continue;
      if (inNetworks(subject.host, [cidr])) return { ban, refusal: this.refusalText(ban, subject) };
    }
    return undefined;
  }

  /** mod_ban's message: the rule's own, else BanMessage, with %a, %u and %c filled in; else none. */
  private refusalText(ban: Ban, subject: BanSubject): GuardRefusal | undefined {
    const template = ban.message ?? this.config.message;
    if (template === undefined) return undefined;
    const text = template
      .replaceAll('%c', subject.className ?? '(none)')
      .replaceAll('%a', canonicalHost(subject.host))
      .replaceAll('%u', subject.user ?? '(none)');
    return { code: 530, text };
  }

  private async poll(): Promise<void> {
    const abuse = this.controlPlane.abuse?.bind(this.controlPlane);
    if (!abuse) return;
    const started = this.now();
    try {
      const answer = await abuse({ op: 'list-bans' });
      const next = new Map<string, Ban>();
      for (const ban of answer.bans ?? []) next.set(keyOf(ban.kind, ban.value), ban);
      // A ban made here after this poll began may be missing from its answer: it stays until the next.
      for (const [key, made] of this.madeHere) {
        if (made.at < started) this.madeHere.delete(key);
        else if (!next.has(key)) next.set(key, made.ban);
      }
      this.bans = next;
      this.networks = networksOf(next);
      if (this.failing) this.log.info('ban list read again');
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.log.warn('cannot read the ban list; keeping the last one', { error: err });
      this.failing = true;
    }
  }
}

/** The network bans of a list; a value that is not a network (or not one this worker reads) matches nothing. */
function networksOf(bans: Map<string, Ban>): { ban: Ban; cidr: Cidr }[] {
  const networks: { ban: Ban; cidr: Cidr }[] = [];
  for (const ban of bans.values()) {
    if (ban.kind !== 'host' || !ban.value.includes('/')) continue;
    const parsed = parseCidr(ban.value);
    if (parsed.ok) networks.push({ ban, cidr: parsed.cidr });
  }
  return networks;
}

function keyOf(kind: string, value: string): string {
  return `${kind}\n${kind === 'host' ? canonicalHost(value) : value}`;
}
