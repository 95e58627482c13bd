import type { ListenerConfig } from '../config/schema.js';
import type { SessionFacts } from './pool-rules.js';

type TransferRateRule = ListenerConfig['transferRate'][number];

/**
 * A session's TransferRate rules: the listener's, less those whose user, group or class conditions do
 * not hold for this session (http://www.proftpd.org/docs/modules/mod_xfer.html#TransferRate). `rules`
 * is the list the session's data transfers read (the first rule naming the command applies); it is
 * updated in place as the login tells more about the client (USER, then the groups).
 */
export class SessionTransferRates {
  readonly rules: TransferRateRule[] = [];

  constructor(
    private readonly all: readonly TransferRateRule[],
    private readonly classify: (address: string) => string | undefined,
    facts: SessionFacts,
  ) {
    this.update(facts);
  }

  get conditional(): boolean {
    return this.all.some((rule) => rule.users || rule.groups || rule.classes);
  }

  update(facts: SessionFacts): void {
    const className = this.classify(facts.clientAddress);
    const applies = (rule: TransferRateRule) =>
      (!rule.users || (facts.user !== undefined && rule.users.includes(facts.user))) &&
      (!rule.groups || (facts.groups ?? []).some((group) => rule.groups?.includes(group))) &&
      (!rule.classes || (className !== undefined && rule.classes.includes(className)));
    this.rules.splice(0, this.rules.length, ...this.all.filter(applies));
  }
}
