import { closestMatch } from '../suggest.js';
import { DirectiveLine } from './directive-row.js';
import { readClassSection } from './directives/class.js';
import { readIfSessionSection } from './directives/if-session.js';
import { readLimitSection } from './directives/limit.js';
import { DIRECTIVES, findDirective } from './directives.js';
import type { ConfigNode, DirectiveNode, SectionNode } from './lexer.js';
import { canonicalSectionName, SUPPORTED_SECTIONS, UNSUPPORTED_SECTIONS } from './sections.js';
import { describeScope, type ImportState, newScope, type Scope, type ScopeKind } from './state.js';

/**
 * The walk over a proftpd.conf tree: sections (`<IfModule>`, `<Global>`, `<VirtualHost>`, `<Limit>`,
 * `<Class>`) choose the scope, and each directive line goes to its row in the directive table.
 */

const SCOPE_NAMES: Record<ScopeKind, string> = {
  server: 'the server config',
  global: '<Global>',
  vhost: '<VirtualHost>',
};

export function walkTree(nodes: ConfigNode[], state: ImportState): void {
  walk(nodes, state.main, state);
}

function walk(nodes: ConfigNode[], scope: Scope, state: ImportState): void {
  for (const node of nodes) {
    if (node.type === 'directive') directive(node, scope, state);
    else section(node, scope, state);
  }
}

function section(node: SectionNode, scope: Scope, state: ImportState): void {
  const { issues } = state;
  const name = canonicalSectionName(node.name);
  const tag = `<${name ?? node.name}>`;
  if (name === 'IfModule') {
    // Every module counts as present: `<IfModule mod_x.c>` is read, `<IfModule !mod_x.c>` is skipped.
    if (node.args.length !== 1)
      issues.error(node.loc, tag, `takes exactly one module name, got ${node.args.length}`);
    else if (!node.skipped) walk(node.children, scope, state);
    return;
  }
  if (name === 'Global' || name === 'VirtualHost') {
    if (scope.kind !== 'server') {
      issues.error(node.loc, tag, `is allowed only at the top level, not inside ${describeScope(scope)}`);
      return;
    }
    if (name === 'Global') {
      if (node.args.length > 0) issues.error(node.loc, tag, 'takes no arguments');
      walk(node.children, state.global, state);
      return;
    }
    if (node.args.length === 0) {
      issues.error(node.loc, tag, 'needs at least one address');
      return;
    }
    const vhost = newScope('vhost', node);
    state.vhosts.push(vhost);
    walk(node.children, vhost, state);
    return;
  }
  if (name === 'Limit') {
    readLimitSection(node, scope, issues);
    return;
  }
  if (name === 'Class') {
    readClassSection(node, scope, state);
    return;
  }
  if (name === 'IfClass' || name === 'IfUser' || name === 'IfGroup') {
    readIfSessionSection(node, name, scope, state, directive);
    return;
  }
  if (name !== undefined) {
    const why =
      name === 'Directory' || name === 'Anonymous' ? ': ftpx would not enforce the rules inside it' : '';
    issues.error(node.loc, tag, `sections are not supported by ftpx yet${why}`);
    return;
  }
  const suggestion = closestMatch(node.name, [...SUPPORTED_SECTIONS, ...UNSUPPORTED_SECTIONS]);
  issues.error(node.loc, tag, `unknown section${suggestion ? ` (did you mean <${suggestion}>?)` : ''}`);
}

function directive(node: DirectiveNode, scope: Scope, state: ImportState): void {
  const { issues } = state;
  const row = findDirective(node.name);
  if (!row) {
    const suggestion = closestMatch(
      node.name,
      [...DIRECTIVES.values()].map((known) => known.name),
    );
    issues.error(
      node.loc,
      node.name,
      `unknown directive${suggestion ? ` (did you mean ${suggestion}?)` : ''}`,
    );
    return;
  }
  if (row.scopes && !row.scopes.includes(scope.kind)) {
    const allowed = row.scopes.map((kind) => SCOPE_NAMES[kind]).join(' and ');
    issues.error(node.loc, node.name, `allowed only in ${allowed}, not in ${describeScope(scope)}`);
    return;
  }
  if (row.kind === 'ignored') {
    issues.warn(node.loc, node.name, `ignored: ${row.reason}`);
    return;
  }
  if (row.kind === 'unsupported') {
    issues.error(node.loc, node.name, row.reason);
    return;
  }
  // The first line of each directive in a scope, valid or not: DirectiveLine.set reports a second one.
  if (!row.keepsOwnLines && !scope.seen.has(row.name)) scope.seen.set(row.name, node.loc);
  row.apply(new DirectiveLine(node, scope, issues));
}
