import type { Ban } from '../../functions/contract/abuse.js';
import type { BanEventName, BansConfig } from '../config/limits-schema.js';
import type { ControlPlaneClient } from '../control-plane/control-plane-client.js';
import type { Logger } from '../log/logger.js';
import type { BanList, BanSubject } from './ban-list.js';
import { canonicalHost } from './canonical-host.js';

/** Events that count and ban the user rather than the client's address, unless the rule says otherwise. */
const USER_EVENTS: ReadonlySet<BanEventName> = new Set(['MaxClientsPerUser', 'MaxHostsPerUser']);
/** mod_ban bans the client's class for MaxClientsPerClass. */
const CLASS_EVENTS: ReadonlySet<BanEventName> = new Set(['MaxClientsPerClass']);

/**
 * BanOnEvent: each event a rule names is counted in the store (across every worker) for the host or
 * user it concerns; the occurrence that reaches the rule's count bans it for the rule's duration
 * (contract/abuse.ts, functions/core/bans/). The ban is added to this worker's list at once, and the
 * other workers see it at their next poll. Reports never hold up a session.
 */
export class BanEvents {
  constructor(
    private config: BansConfig,
    private readonly controlPlane: ControlPlaneClient,
    private readonly bans: BanList,
    private readonly log: Logger,
  ) {}

  /** A reload's rules: they count from now on (counts already in the store stay). */
  configure(config: BansConfig): void {
    this.config = config;
  }

  /** Whether any rule counts this event (callers may skip work for events nobody counts). */
  counts(event: BanEventName): boolean {
    return this.bans.enabled && this.config.rules.some((rule) => rule.event === event);
  }

  /**
   * Counts the event for every rule that names it; resolves once the counts are in (never rejects),
   * with the ban the event caused, if it caused one.
   */
  async report(event: BanEventName, subject: BanSubject): Promise<Ban | undefined> {
    if (!this.counts(event)) return undefined;
    const abuse = this.controlPlane.abuse?.bind(this.controlPlane);
    if (!abuse) return undefined;
    const made = await Promise.all(
      this.config.rules
        .filter((rule) => rule.event === event)
        .map(async (rule) => {
          const kind =
            rule.target ?? (USER_EVENTS.has(event) ? 'user' : CLASS_EVENTS.has(event) ? 'class' : 'host');
          const value =
            kind === 'user'
              ? subject.user
              : kind === 'class'
                ? subject.className
                : canonicalHost(subject.host);
          if (value === undefined || value === '') return undefined;
          try {
            const answer = await abuse({
              op: 'ban-event',
              event,
              kind,
              value: value.slice(0, 256),
              count: rule.count,
              windowMs: rule.window,
              durationMs: rule.duration,
              ...(rule.message !== undefined ? { message: rule.message } : {}),
            });
            if (answer.ban) {
              this.bans.add(answer.ban);
              this.log.warn('autoban', { event, kind, value, reason: answer.ban.reason });
            }
            return answer.ban;
          } catch (err) {
            this.log.warn('ban event not counted', { event, error: err });
            return undefined;
          }
        }),
    );
    return made.find((ban) => ban !== undefined);
  }
}
