import type { DirectiveNode } from './lexer.js';
import {
  at,
  describeScope,
  type Issues,
  type Scope,
  type ScopeKind,
  type Settings,
  type SettingValue,
} from './state.js';

/**
 * One row of the directive table (directives.ts): everything ftpx knows about one directive. A new
 * directive is one new row in the module file it belongs to (directives/core.ts, proxy.ts, ...).
 */
export type DirectiveRow = HandledRow | IgnoredRow | RefusedRow;

interface RowBase {
  /** Canonical spelling; directive names are matched case-insensitively. */
  name: string;
  /** Where the directive may appear; everywhere when omitted. */
  scopes?: readonly ScopeKind[];
}

/** Mapped onto the native configuration by `apply`. */
export interface HandledRow extends RowBase {
  kind: 'handled';
  /** Reads the line's arguments and records what they mean in the line's scope; reports problems. */
  apply: (line: DirectiveLine) => void;
  /**
   * Whether a second line in the same scope is checked by the row itself (lines kept whole, e.g. the TLS
   * directives) rather than by `set` against the first line recorded for this name.
   */
  keepsOwnLines?: boolean;
}

/** Accepted with a warning giving `reason`. */
export interface IgnoredRow extends RowBase {
  kind: 'ignored';
  reason: string;
}

/** An error; `reason` says why. */
export interface RefusedRow extends RowBase {
  kind: 'unsupported';
  reason: string;
}

/** One directive line being applied: its node and scope, and what a row needs to report and record. */
export class DirectiveLine {
  constructor(
    readonly node: DirectiveNode,
    readonly scope: Scope,
    private readonly issues: Issues,
  ) {}

  fail(message: string): void {
    this.issues.error(this.node.loc, this.node.name, message);
  }

  warn(message: string): void {
    this.issues.warn(this.node.loc, this.node.name, message);
  }

  /** The single argument, or undefined (with an error) when there is another count. */
  one(): string | undefined {
    if (this.node.args.length !== 1) {
      this.fail(`takes exactly one argument, got ${this.node.args.length}`);
      return undefined;
    }
    return this.node.args[0];
  }

  /**
   * Records a valid single-valued setting. A second line for the same directive in the same scope is an
   * error (even when the first had a bad value): ProFTPD is not consistent about which one would win.
   */
  set<K extends keyof Settings>(key: K, value: SettingValue<K>): void {
    const first = this.scope.seen.get(key);
    if (first && first !== this.node.loc) {
      this.fail(`is set twice in ${describeScope(this.scope)} (first at ${at(first)})`);
      return;
    }
    this.scope.settings[key] = { value, loc: this.node.loc, name: this.node.name } as Settings[K];
  }
}

/** A row that reads its arguments with `parse` (undefined: refused, already reported) and then `apply`s the value. */
export function handled<T>(row: {
  name: string;
  scopes?: readonly ScopeKind[];
  parse: (line: DirectiveLine) => T | undefined;
  apply: (line: DirectiveLine, value: T) => void;
}): HandledRow {
  return {
    kind: 'handled',
    name: row.name,
    ...(row.scopes ? { scopes: row.scopes } : {}),
    apply: (line) => {
      const value = row.parse(line);
      if (value !== undefined) row.apply(line, value);
    },
  };
}

/** A row whose value becomes the setting of the same name (single-valued; see DirectiveLine.set). */
export function setting<K extends keyof Settings & string>(
  name: K,
  parse: (line: DirectiveLine) => SettingValue<K> | undefined,
  scopes?: readonly ScopeKind[],
): HandledRow {
  return handled({
    name,
    ...(scopes ? { scopes } : {}),
    parse,
    apply: (line, value) => line.set(name, value),
  });
}

/** A parser for directives of exactly one argument. */
export function oneArgument<T>(
  parse: (arg: string, line: DirectiveLine) => T | undefined,
): (line: DirectiveLine) => T | undefined {
  return (line) => {
    const arg = line.one();
    return arg === undefined ? undefined : parse(arg, line);
  };
}

/** Rows for directives accepted with a warning giving `reason`. */
export const ignored = (names: readonly string[], reason: string): IgnoredRow[] =>
  names.map((name) => ({ name, kind: 'ignored', reason }));

export const SERVER_ONLY: readonly ScopeKind[] = ['server'];
export const SERVER_AND_VHOST: readonly ScopeKind[] = ['server', 'vhost'];
