import { parseCidr } from '../../../../functions/core/net/index.js';
import type { SectionNode } from '../lexer.js';
import type { Issues, LimitSetting, Scope } from '../state.js';

/**
 * `<Limit CMD...>` in a server, vhost or <Global> (http://www.proftpd.org/docs/howto/Limit.html): user
 * and address rules for commands, applied by the proxy before relaying (see
 * edge-worker/ftp/session/command-limits.ts). Group rules need proxy authentication (the groups are
 * known only then, as mod_proxy's FAQ says); the configuration check refuses them without it.
 */
export function readLimitSection(node: SectionNode, scope: Scope, issues: Issues): void {
  const tag = '<Limit>';
  if (node.args.length === 0) {
    issues.error(node.loc, tag, 'needs at least one command or command group');
    return;
  }
  const rule: LimitSetting = {
    commands: node.args.map((command) => command.toUpperCase()),
    allowUsers: [],
    denyUsers: [],
    allowFrom: [],
    denyFrom: [],
    order: 'allow,deny',
  };
  for (const child of node.children) {
    if (child.type === 'section') {
      issues.error(child.loc, `<${child.name}>`, 'is not allowed inside <Limit>');
      continue;
    }
    const directive = child.name.toLowerCase();
    const args = child.args;
    const fail = (message: string) => issues.error(child.loc, child.name, message);
    const names = () =>
      args
        .flatMap((arg) => arg.split(','))
        .map((name) => name.trim())
        .filter(Boolean);
    if (directive === 'allowall' || directive === 'denyall') {
      if (args.length > 0) fail('takes no arguments');
      else rule.otherwise = directive === 'allowall' ? 'allow' : 'deny';
    } else if (directive === 'allowuser' || directive === 'denyuser') {
      const users = names();
      if (users.length === 0) fail('needs at least one user name');
      else if (users.some((user) => user.startsWith('!')))
        fail('negated user names (!name) are not supported by ftpx yet');
      else (directive === 'allowuser' ? rule.allowUsers : rule.denyUsers).push(...users);
    } else if (directive === 'allow' || directive === 'deny') {
      const [from, ...hosts] = args;
      if (from?.toLowerCase() !== 'from' || hosts.length === 0) {
        fail(`expected "${child.name} from <address|network|all|none> ..."`);
        continue;
      }
      const list = directive === 'allow' ? rule.allowFrom : rule.denyFrom;
      for (const host of hosts
        .flatMap((text) => text.split(','))
        .map((text) => text.trim())
        .filter(Boolean)) {
        if (host.toLowerCase() === 'all') list.push('0.0.0.0/0', '::/0');
        else if (host.toLowerCase() === 'none') continue;
        else {
          const parsed = parseCidr(host);
          if (parsed.ok) list.push(host);
          else fail(`${parsed.error} (host names are not supported by ftpx)`);
        }
      }
    } else if (directive === 'order') {
      const order = args.join('').toLowerCase();
      if (order === 'allow,deny' || order === 'deny,allow') rule.order = order;
      else fail(`expected allow,deny or deny,allow, got "${args.join(' ')}"`);
    } else if (['allowgroup', 'denygroup', 'allowclass', 'denyclass'].includes(directive)) {
      const list = names();
      const key = (
        {
          allowgroup: 'allowGroups',
          denygroup: 'denyGroups',
          allowclass: 'allowClasses',
          denyclass: 'denyClasses',
        } as const
      )[directive as 'allowgroup'];
      if (list.length === 0)
        fail(`needs at least one ${directive.endsWith('group') ? 'group' : 'class'} name`);
      else if (list.some((entry) => entry.startsWith('!')))
        fail('negated names (!name) are not supported by ftpx yet');
      else rule[key] = [...(rule[key] ?? []), ...list];
    } else {
      fail(
        'is not supported inside <Limit> by ftpx (AllowAll, DenyAll, AllowUser, DenyUser, AllowGroup, DenyGroup, AllowClass, DenyClass, Allow from, Deny from, Order)',
      );
    }
  }
  scope.limits.push({ value: rule, loc: node.loc, name: tag });
}
