import type { DirectiveRow } from '../directive-row.js';
import type { SectionNode } from '../lexer.js';
import { at, type ClassSetting, describeScope, type ImportState, type Scope } from '../state.js';
import { parseBoolean } from '../values.js';
import { importNetwork } from './network.js';

/**
 * `<Class name>` (http://www.proftpd.org/docs/howto/Classes.html): `From` lines (addresses and CIDR
 * networks, several per line separated by spaces or commas) and mod_proxy's `ProxyForwardEnabled on|off`
 * (http://www.proftpd.org/docs/contrib/mod_proxy.html#ProxyForwardEnabled). A client belongs to the
 * first class one of whose networks holds its address.
 */

/** The directives of `<Class>`, known to the table so that one outside `<Class>` is named as misplaced. */
export const CLASS_ROWS: DirectiveRow[] = ['ProxyForwardEnabled', 'From'].map((name) => ({
  kind: 'handled',
  name,
  apply: (line) => line.fail('is allowed only inside <Class>'),
}));

export function readClassSection(node: SectionNode, scope: Scope, state: ImportState): void {
  const { issues, classes } = state;
  const tag = '<Class>';
  if (scope.kind !== 'server') {
    issues.error(node.loc, tag, `is allowed only at the top level, not inside ${describeScope(scope)}`);
    return;
  }
  const [name] = node.args;
  if (node.args.length !== 1 || name === undefined) {
    issues.error(node.loc, tag, `takes exactly one class name, got ${node.args.length}`);
    return;
  }
  const previous = classes.find((known) => known.name === name);
  if (previous) {
    issues.error(node.loc, tag, `class "${name}" is defined twice (first at ${at(previous.loc)})`);
    return;
  }
  const entry: ClassSetting = { name, from: [], loc: node.loc };
  for (const child of node.children) {
    if (child.type === 'section') {
      issues.error(child.loc, `<${child.name}>`, 'is not allowed inside <Class>');
      continue;
    }
    const fail = (message: string) => issues.error(child.loc, child.name, message);
    const directive = child.name.toLowerCase();
    if (directive === 'from') {
      const items = child.args
        .flatMap((arg) => arg.split(','))
        .map((item) => item.trim())
        .filter(Boolean);
      if (items.length === 0) fail('needs at least one address or network');
      for (const item of items) {
        const parsed = importNetwork(item);
        if (parsed.ok) {
          entry.from.push(parsed.network);
          if (parsed.masked) {
            issues.warn(
              child.loc,
              child.name,
              `"${item}" has host bits set: read as ${parsed.network}, as ProFTPD does`,
            );
          }
        } else if (item.startsWith('!')) fail(`"${item}": negated entries are not supported by ftpx`);
        else if (/[A-Za-z*?]/.test(item) && !item.includes(':')) {
          fail(
            `"${item}": host names and patterns are not supported by ftpx (use addresses or CIDR networks)`,
          );
        } else fail(parsed.error);
      }
    } else if (directive === 'proxyforwardenabled') {
      const value = child.args.length === 1 ? parseBoolean(child.args[0] as string) : undefined;
      if (value === undefined) fail(`expected on or off, got "${child.args.join(' ')}"`);
      else if (entry.forwardEnabled !== undefined) fail(`is set twice in <Class ${name}>`);
      else entry.forwardEnabled = value;
    } else if (directive === 'satisfy') {
      fail('is not supported by ftpx: a client belongs to the first class with a matching From');
    } else {
      fail('is not supported inside <Class> by ftpx (From, ProxyForwardEnabled)');
    }
  }
  if (entry.from.length === 0 && !node.children.some((child) => child.name.toLowerCase() === 'from')) {
    issues.error(node.loc, tag, `class "${name}" has no From line: it would match no client`);
  }
  classes.push(entry);
}
