/**
 * The words of a command line in POSIX shell syntax (XCU 2.2 "Quoting", 2.6.1 "Tilde Expansion",
 * 2.13 "Pattern Matching Notation"), limited to what a plain argument list needs: single quotes,
 * double quotes, backslashes, a leading `~` and the `*`/`?` wildcards. Anything that would make a
 * shell do more than split words (`;`, `|`, `&`, redirections, `$`, backquotes, brackets, braces,
 * control characters, ...) is refused rather than interpreted, so that a word list accepted here can
 * be re-quoted and run by any POSIX shell with exactly these words and nothing else.
 */

/** One piece of a word: literal text, a wildcard the shell expands, or a leading `~` (the home directory). */
export type WordPart =
  | { kind: 'text'; text: string }
  | { kind: 'wildcard'; text: '*' | '?' }
  /** `~` or `~/`: the slash belongs to it, since a tilde-prefix ends at the first unquoted slash. */
  | { kind: 'home'; text: '~' | '~/' };

export interface ShellWord {
  parts: WordPart[];
  /** True when some part of the word was quoted or escaped (so `''` is an empty word, `--` in quotes is not an option). */
  quoted: boolean;
}

export type ShellWordsResult = { ok: true; words: ShellWord[] } | { ok: false; reason: string };

/** Characters a shell treats as ordinary outside quotes (besides letters, digits and non-ASCII). */
const PLAIN = new Set([...'_./,+-:@%=^']);
const WILDCARDS = new Set(['*', '?']);

function isControl(code: number): boolean {
  // C0, DEL and C1: newlines and other terminators never belong in an argument.
  return code < 0x20 || (code >= 0x7f && code <= 0x9f);
}

function isPlain(char: string): boolean {
  const code = char.codePointAt(0) ?? 0;
  if (code >= 0xa0) return true;
  return /[A-Za-z0-9]/.test(char) || PLAIN.has(char);
}

function describe(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  if (char === '\n') return 'a newline';
  if (isControl(code)) return `control character U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return `"${char}"`;
}

/** Splits `line` into words; the first unsupported or unsafe construct refuses the whole line. */
export function parseShellWords(line: string): ShellWordsResult {
  const words: ShellWord[] = [];
  let parts: WordPart[] = [];
  let quoted = false;
  let inWord = false;
  let text = '';
  const flushText = () => {
    if (text !== '') parts.push({ kind: 'text', text });
    text = '';
  };
  const endWord = () => {
    flushText();
    if (inWord) words.push({ parts, quoted });
    parts = [];
    quoted = false;
    inWord = false;
  };
  const chars = [...line];
  let i = 0;
  const refuse = (what: string, char: string): ShellWordsResult => ({
    ok: false,
    reason: `${describe(char)} ${what} at character ${i + 1}`,
  });
  while (i < chars.length) {
    const char = chars[i] as string;
    if (char === ' ' || char === '\t') {
      endWord();
      i += 1;
      continue;
    }
    if (isControl(char.codePointAt(0) ?? 0)) return refuse('is not allowed', char);
    if (char === "'") {
      const close = chars.indexOf("'", i + 1);
      if (close < 0) return { ok: false, reason: 'unterminated single quote' };
      for (let j = i + 1; j < close; j += 1) {
        const inner = chars[j] as string;
        if (isControl(inner.codePointAt(0) ?? 0)) {
          i = j;
          return refuse('is not allowed', inner);
        }
        text += inner;
      }
      inWord = true;
      quoted = true;
      i = close + 1;
      continue;
    }
    if (char === '"') {
      let j = i + 1;
      for (;;) {
        const inner = chars[j];
        if (inner === undefined) return { ok: false, reason: 'unterminated double quote' };
        if (inner === '"') break;
        if (isControl(inner.codePointAt(0) ?? 0)) {
          i = j;
          return refuse('is not allowed', inner);
        }
        if (inner === '$' || inner === '`') {
          i = j;
          return refuse('(expansion or command substitution) is not allowed', inner);
        }
        if (inner === '\\') {
          const next = chars[j + 1];
          // Inside double quotes a backslash escapes only $ ` " \ and newline (XCU 2.2.3).
          if (next !== undefined && '$`"\\'.includes(next)) {
            text += next;
            j += 2;
            continue;
          }
        }
        text += inner;
        j += 1;
      }
      inWord = true;
      quoted = true;
      i = j + 1;
      continue;
    }
    if (char === '\\') {
      const next = chars[i + 1];
      if (next === undefined) return { ok: false, reason: 'a backslash at the end of the line' };
      if (isControl(next.codePointAt(0) ?? 0)) {
        i += 1;
        return refuse('is not allowed', next);
      }
      text += next;
      inWord = true;
      quoted = true;
      i += 2;
      continue;
    }
    if (WILDCARDS.has(char)) {
      flushText();
      parts.push({ kind: 'wildcard', text: char as '*' | '?' });
      inWord = true;
      i += 1;
      continue;
    }
    if (char === '~' && !inWord) {
      // Only `~` alone or `~/...`: `~user` would name another account's home.
      const next = chars[i + 1];
      if (next !== undefined && next !== '/' && next !== ' ' && next !== '\t') {
        return refuse('followed by a user name is not supported', char);
      }
      parts.push({ kind: 'home', text: next === '/' ? '~/' : '~' });
      inWord = true;
      i += next === '/' ? 2 : 1;
      continue;
    }
    if (!isPlain(char)) return refuse('must be quoted', char);
    text += char;
    inWord = true;
    i += 1;
  }
  endWord();
  return { ok: true, words };
}

/**
 * `text` as one double-quoted POSIX shell word: inside double quotes only `$`, the backquote, `"`
 * and `\` are special (XCU 2.2.3), each escaped here with a backslash. Double rather than single
 * quotes because servers that split an scp command themselves read the same value from them:
 * ProFTPD's mod_sftp (`pr_str_get_word`) knows double quotes with backslash escapes, not single
 * quotes.
 */
export function doubleQuote(text: string): string {
  return `"${text.replace(/[$`"\\]/g, (char) => `\\${char}`)}"`;
}

/** Text that reads the same to every POSIX shell without quotes (ASCII only, no `^`: a pipe to the Bourne shell). */
const NEEDS_NO_QUOTES = /^[A-Za-z0-9_./,+:@%=-]+$/;

/**
 * The word as a POSIX shell must read it back: wildcards and `~` bare, text quoted unless it is
 * made of characters no shell treats specially (so `scp -t /up/x.bin` stays as it was). A word of
 * text only is quoted as a whole, the form mod_sftp understands.
 */
export function quoteWord(word: ShellWord): string {
  if (word.parts.length === 0) return '""';
  return word.parts
    .map((part) =>
      part.kind !== 'text' ? part.text : NEEDS_NO_QUOTES.test(part.text) ? part.text : doubleQuote(part.text),
    )
    .join('');
}

/** The word's value with wildcards and `~` shown as typed (for logs and option matching). */
export function wordText(word: ShellWord): string {
  return word.parts.map((part) => part.text).join('');
}
