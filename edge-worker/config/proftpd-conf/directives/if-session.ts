import type { DirectiveNode, SectionNode } from '../lexer.js';
import { type ImportState, newScope, type Scope } from '../state.js';

/**
 * The directives ftpx applies per session inside mod_ifsession's sections: the ones that choose and
 * reach the backends (each section becomes a pool of its own, chosen by the listener's poolRules).
 */
const CONDITIONAL_DIRECTIVES = new Set(
  [
    'ProxyReverseServers',
    'ProxyReverseConnectPolicy',
    'ProxyRetryCount',
    'ProxyTimeoutConnect',
    'ProxyDataTransferPolicy',
    'ProxySourceAddress',
    'ProxyTimeoutLinger',
  ].map((directiveName) => directiveName.toLowerCase()),
);

/** `<IfClass name>`, `<IfClass !name>`, `<IfUser name ...>`, `<IfGroup name ...>` (http://www.proftpd.org/docs/contrib/mod_ifsession.html). */
export function readIfSessionSection(
  node: SectionNode,
  name: 'IfClass' | 'IfUser' | 'IfGroup',
  scope: Scope,
  state: ImportState,
  /** The walk's directive handler, for the lines inside. */
  directive: (node: DirectiveNode, scope: Scope, state: ImportState) => void,
): void {
  const { issues } = state;
  const tag = `<${name}>`;
  if (scope.kind === 'global') {
    issues.error(node.loc, tag, 'is read by ftpx in the main server and <VirtualHost> only, not in <Global>');
    return;
  }
  const names = node.args.flatMap((arg) => arg.split(',')).filter(Boolean);
  if (names.length === 0) {
    issues.error(
      node.loc,
      tag,
      `needs a ${name === 'IfClass' ? 'class' : name === 'IfUser' ? 'user' : 'group'} name`,
    );
    return;
  }
  if (names.some((entry) => /^(and|or|regex)$/i.test(entry))) {
    issues.error(
      node.loc,
      tag,
      'AND, OR and regex forms are not supported by ftpx: list names (any of them matches)',
    );
    return;
  }
  if (name === 'IfClass') {
    if (names.length > 1) {
      issues.error(node.loc, tag, 'takes one class name (or !name) in ftpx');
      return;
    }
  } else if (names.some((entry) => entry.startsWith('!'))) {
    issues.error(node.loc, tag, 'negated names (!name) are supported by ftpx in <IfClass> only');
    return;
  }
  const inner = newScope(scope.kind, scope.section);
  for (const child of node.children) {
    if (child.type === 'section') {
      issues.error(child.loc, `<${child.name}>`, `is not allowed inside ${tag} by ftpx`);
    } else if (!CONDITIONAL_DIRECTIVES.has(child.name.toLowerCase())) {
      issues.error(
        child.loc,
        child.name,
        `inside ${tag} ftpx applies only the directives that choose and reach backends (${[...CONDITIONAL_DIRECTIVES].length} of them: ProxyReverseServers, ProxyReverseConnectPolicy, ProxyRetryCount, ProxyTimeoutConnect, ProxyDataTransferPolicy, ProxySourceAddress, ProxyTimeoutLinger)`,
      );
    } else directive(child, inner, state);
  }
  scope.conditionals.push({
    condition: name === 'IfClass' ? 'class' : name === 'IfUser' ? 'users' : 'groups',
    names,
    tag: `<${name} ${node.args.join(' ')}>`,
    loc: node.loc,
    scope: inner,
  });
}
