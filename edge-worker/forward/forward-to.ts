/** ProxyForwardTo `[!]pattern [NC]`: which destinations (`host:port`) clients may ask for. */
export interface ForwardToRule {
  /** A POSIX extended regular expression (the `[:digit:]`-style classes are understood). */
  pattern: string;
  /** A leading `!`: destinations that do NOT match are the allowed ones. */
  negate: boolean;
  /** `[NC]` / `nocase`. */
  ignoreCase: boolean;
}

export type ForwardToCompileResult =
  | { ok: true; test: (hostPort: string) => boolean }
  | { ok: false; error: string };

const POSIX_CLASSES: Record<string, string> = {
  alnum: 'A-Za-z0-9',
  alpha: 'A-Za-z',
  blank: ' \\t',
  cntrl: '\\x00-\\x1f\\x7f',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: ' \\t\\n\\r\\f\\v',
  upper: 'A-Z',
  xdigit: '0-9A-Fa-f',
};

/** POSIX ERE to a JavaScript RegExp source: only the bracket classes differ for the patterns in use. */
function toJavaScriptSource(pattern: string): string | undefined {
  let unknown = false;
  const source = pattern.replace(/\[:([a-z]+):\]/g, (_, name: string) => {
    const range = POSIX_CLASSES[name];
    if (range === undefined) unknown = true;
    return range ?? '';
  });
  return unknown ? undefined : source;
}

/** Compiles the rule into a predicate that says whether a destination is allowed. */
export function compileForwardTo(rule: ForwardToRule): ForwardToCompileResult {
  const source = toJavaScriptSource(rule.pattern);
  if (source === undefined)
    return { ok: false, error: `"${rule.pattern}": unknown [:class:] in the pattern` };
  let regex: RegExp;
  try {
    regex = new RegExp(source, rule.ignoreCase ? 'i' : '');
  } catch (err) {
    return {
      ok: false,
      error: `"${rule.pattern}" is not a valid regular expression: ${(err as Error).message}`,
    };
  }
  return { ok: true, test: (hostPort) => regex.test(hostPort) !== rule.negate };
}

/**
 * Reads the directive's arguments: `pattern`, `!pattern`, optionally followed by `[NC]` or `nocase`
 * (mod_proxy's flags, matched case-insensitively).
 */
export function parseForwardToDirective(
  args: readonly string[],
): { ok: true; rule: ForwardToRule } | { ok: false; error: string } {
  const [first, ...flags] = args;
  if (first === undefined || first === '' || first === '!') return { ok: false, error: 'needs a pattern' };
  let ignoreCase = false;
  for (const flag of flags) {
    const lower = flag.toLowerCase();
    if (lower === '[nc]' || lower === 'nocase') ignoreCase = true;
    else return { ok: false, error: `unknown flag "${flag}" (known: [NC], nocase)` };
  }
  const negate = first.startsWith('!');
  const rule = { pattern: negate ? first.slice(1) : first, negate, ignoreCase };
  const compiled = compileForwardTo(rule);
  return compiled.ok ? { ok: true, rule } : compiled;
}

/** `!pattern [NC]`, for log lines naming the rule that refused a destination. */
export function describeForwardTo(rule: ForwardToRule): string {
  return `${rule.negate ? '!' : ''}${rule.pattern}${rule.ignoreCase ? ' [NC]' : ''}`;
}
