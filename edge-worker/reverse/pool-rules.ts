import { type Cidr, inNetworks, parseCidrList } from '../../functions/core/net/index.js';
import type { ListenerConfig } from '../config/schema.js';
import type { ClientClasses } from '../forward/client-class.js';
import type { Pool } from './pool.js';

/** One rule of a listener's `poolRules`, as configured. */
export type PoolRuleConfig = NonNullable<ListenerConfig['poolRules']>[number];

/** What is known of a session when the rules are asked: more at each step of the login. */
export interface SessionFacts {
  clientAddress: string;
  /** Known from USER on. */
  user?: string;
  /** Known after proxy authentication: every group of the user, the primary group first. */
  groups?: readonly string[];
}

interface CompiledRule {
  pool: Pool;
  className?: { name: string; negate: boolean };
  from?: Cidr[];
  users?: ReadonlySet<string>;
  groups?: ReadonlySet<string>;
}

/**
 * A listener's pool-selection rules (`poolRules`; mod_ifsession's `<IfClass>`, `<IfUser>` and
 * `<IfGroup>` around ProxyReverseServers, http://www.proftpd.org/docs/contrib/mod_ifsession.html).
 * A rule names a pool and conditions: the client's class (or not that class), its network, its user
 * name, one of its groups. The session asks at connect, at USER and after proxy authentication; each
 * time the first rule all of whose conditions are known and hold names the pool. A rule with a user
 * condition is not considered before USER, one with a group condition not before the groups are known.
 */
export class PoolRules {
  private readonly rules: CompiledRule[];

  constructor(
    configs: readonly PoolRuleConfig[],
    pools: ReadonlyMap<string, Pool>,
    private readonly classes: ClientClasses,
  ) {
    this.rules = configs.map((config) => {
      const pool = pools.get(config.pool);
      // The config schema checked the names and networks; this guards against a caller that skipped it.
      if (!pool) throw new Error(`pool rule names unknown pool ${config.pool}`);
      const rule: CompiledRule = { pool };
      if (config.class !== undefined) {
        const negate = config.class.startsWith('!');
        rule.className = { name: negate ? config.class.slice(1) : config.class, negate };
      }
      if (config.from !== undefined) {
        const parsed = parseCidrList(config.from);
        if (!parsed.ok) throw new Error(parsed.error);
        rule.from = parsed.cidrs;
      }
      if (config.users !== undefined) rule.users = new Set(config.users);
      if (config.groups !== undefined) rule.groups = new Set(config.groups);
      return rule;
    });
  }

  /** The pool the first applicable rule names, or undefined when none holds yet. */
  select(facts: SessionFacts): Pool | undefined {
    const className = this.classes.classify(facts.clientAddress)?.name;
    for (const rule of this.rules) {
      if (rule.users && (facts.user === undefined || !rule.users.has(facts.user))) continue;
      if (rule.groups && !facts.groups?.some((group) => rule.groups?.has(group))) continue;
      if (rule.className && (className === rule.className.name) === rule.className.negate) continue;
      if (rule.from && !inNetworks(facts.clientAddress, rule.from)) continue;
      return rule.pool;
    }
    return undefined;
  }
}
