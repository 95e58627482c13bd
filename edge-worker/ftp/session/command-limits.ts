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
  /** AllowGroup / DenyGroup: the user's groups, known with proxy authentication only. */
  allowGroups?: string[];
  denyGroups?: string[];
  /** AllowClass / DenyClass: the client's `<Class>`. */
  allowClasses?: string[];
  denyClasses?: string[];
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
 * naming a command (by itself, or through its group) decides: a user rule, else a group rule (groups
 * are known only with proxy authentication, as in mod_proxy), else a class rule, else an address
 * rule, else AllowAll/DenyAll, else the command is allowed. A deny beats an allow at each step.
 */
export class CommandLimits {
  private readonly rules: CompiledRule[];

  /**
   * `classify`: the client's class by address (the listener's `<Class>` sections); `groups`: the
   * session's groups once proxy authentication knows them (see `forSession`).
   */
  constructor(
    rules: LimitRule[],
    private readonly classify: (address: string) => string | undefined = () => undefined,
    private readonly groups: () => readonly string[] | undefined = () => undefined,
  ) {
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

  /** The same rules for one session, whose groups `groups` tells once known. */
  forSession(groups: () => readonly string[] | undefined): CommandLimits {
    const view = Object.create(CommandLimits.prototype) as CommandLimits;
    return Object.assign(view, { rules: this.rules, classify: this.classify, groups });
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
    const groups = this.groups() ?? [];
    if (groups.some((group) => rule.denyGroups?.includes(group))) return { allowed: false, code };
    if (groups.some((group) => rule.allowGroups?.includes(group))) return { allowed: true, code };
    const className = rule.denyClasses || rule.allowClasses ? this.classify(clientAddress) : undefined;
    if (className !== undefined && rule.denyClasses?.includes(className)) return { allowed: false, code };
    if (className !== undefined && rule.allowClasses?.includes(className)) return { allowed: true, code };
    const allowedFrom = inNetworks(clientAddress, found.allowFrom);
    const deniedFrom = inNetworks(clientAddress, found.denyFrom);
    if (allowedFrom && deniedFrom) return { allowed: rule.order === 'deny,allow', code };
    if (deniedFrom) return { allowed: false, code };
    if (allowedFrom) return { allowed: true, code };
    return { allowed: rule.otherwise !== 'deny', code };
  }
}
