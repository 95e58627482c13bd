import { type Cidr, inNetworks, parseCidrList } from '../../../functions/core/net/index.js';

/** ProFTPD's command groups, as `<Limit>` accepts them. */
const GROUPS: Record<string, readonly string[]> = {
  READ: ['RETR'],
  WRITE: ['APPE', 'DELE', 'MKD', 'XMKD', 'RMD', 'XRMD', 'RNFR', 'RNTO', 'STOR', 'STOU', 'MFMT', 'SITE'],
  DIRS: [
    'CDUP',
    'XCUP',
    'CWD',
    'XCWD',
    'LIST',
    'MDTM',
    'MLSD',
    'MLST',
    'NLST',
    'PWD',
    'XPWD',
    'STAT',
    'SIZE',
  ],
  LOGIN: ['USER', 'PASS'],
};

/** Never limited (mod_proxy): the session could not even be set up or ended without them. */
const EXEMPT = new Set(['ACCT', 'EPRT', 'EPSV', 'FEAT', 'PASS', 'PASV', 'PORT', 'QUIT', 'SYST', 'USER']);
/** Refused with 501 rather than 550, as mod_proxy does. */
const PARAMETER_COMMANDS = new Set(['ALLO', 'MODE', 'REST', 'STRU', 'TYPE']);

export interface LimitRule {
  /** Command names or groups: READ, WRITE, DIRS, LOGIN, ALL. */
  commands: string[];
  allowUsers: string[];
  denyUsers: string[];
  allowFrom: string[];
  denyFrom: string[];
  /** AllowAll / DenyAll: the answer when no user or address rule decided. */
  otherwise?: 'allow' | 'deny';
  /** Order: which of Allow from / Deny from wins when an address matches both (ProFTPD's default: allow,deny, so deny). */
  order: 'allow,deny' | 'deny,allow';
}

interface CompiledRule {
  rule: LimitRule;
  commands: ReadonlySet<string>;
  all: boolean;
  allowFrom: Cidr[];
  denyFrom: Cidr[];
}

export interface LimitDecision {
  allowed: boolean;
  /** The reply when refused: 501 for parameter commands, 550 otherwise (mod_proxy). */
  code: 501 | 550;
}

/**
 * `<Limit>` for commands, checked before anything goes to the backend (http://www.proftpd.org/docs/howto/Limit.html). The first rule
 * naming a command (by itself, or through its group) decides: a user rule, else an address rule,
 * else AllowAll/DenyAll, else the command is allowed. A deny beats an allow for the same user.
 * There are no group rules yet (groups are known only with proxy authentication).
 */
export class CommandLimits {
  private readonly rules: CompiledRule[];

  constructor(rules: LimitRule[]) {
    this.rules = rules.map((rule) => {
      const names = rule.commands.map((command) => command.toUpperCase());
      const allowFrom = parseCidrList(rule.allowFrom);
      const denyFrom = parseCidrList(rule.denyFrom);
      // The config schema validated the networks; this guards against a caller that skipped it.
      if (!allowFrom.ok) throw new Error(allowFrom.error);
      if (!denyFrom.ok) throw new Error(denyFrom.error);
      return {
        rule,
        all: names.includes('ALL'),
        commands: new Set(names.flatMap((name) => GROUPS[name] ?? [name])),
        allowFrom: allowFrom.cidrs,
        denyFrom: denyFrom.cidrs,
      };
    });
  }

  get isEmpty(): boolean {
    return this.rules.length === 0;
  }

  check(verb: string, user: string | undefined, clientAddress: string): LimitDecision {
    const code = PARAMETER_COMMANDS.has(verb) ? 501 : 550;
    if (EXEMPT.has(verb)) return { allowed: true, code };
    const found = this.rules.find((rule) => rule.commands.has(verb) || rule.all);
    if (!found) return { allowed: true, code };
    const { rule } = found;
    if (user !== undefined && rule.denyUsers.includes(user)) return { allowed: false, code };
    if (user !== undefined && rule.allowUsers.includes(user)) return { allowed: true, code };
    const allowedFrom = inNetworks(clientAddress, found.allowFrom);
    const deniedFrom = inNetworks(clientAddress, found.denyFrom);
    if (allowedFrom && deniedFrom) return { allowed: rule.order === 'deny,allow', code };
    if (deniedFrom) return { allowed: false, code };
    if (allowedFrom) return { allowed: true, code };
    return { allowed: rule.otherwise !== 'deny', code };
  }
}
