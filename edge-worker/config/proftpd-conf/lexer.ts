import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import type { ConfigIssue } from '../config-error.js';
import { describeFsError } from '../read-file.js';

/** Where a line came from; lines reached through Include keep their own file. */
export interface Location {
  file: string;
  line: number;
}

export interface DirectiveNode {
  type: 'directive';
  /** As written (directive names are case-insensitive). */
  name: string;
  args: string[];
  loc: Location;
}

export interface SectionNode {
  type: 'section';
  /** As written, without the angle brackets. */
  name: string;
  args: string[];
  loc: Location;
  children: ConfigNode[];
  /** Set for sections whose content was not read (see LexOptions.skipSection); children is then empty. */
  skipped: boolean;
}

export type ConfigNode = DirectiveNode | SectionNode;

export interface LexOptions {
  /**
   * Sections whose content is not read: their lines are only checked for balanced nesting, and Include
   * inside them is not followed. Default: `<IfModule !...>`.
   */
  skipSection?: (name: string, args: readonly string[]) => boolean;
}

export interface LexResult {
  nodes: ConfigNode[];
  /** Every file read, in the order first read (the main file first). */
  files: string[];
  errors: ConfigIssue[];
  warnings: ConfigIssue[];
}

/** A line after joining backslash continuations, numbered by its first physical line. */
export interface LogicalLine {
  text: string;
  line: number;
}

const MAX_INCLUDE_DEPTH = 32;

/**
 * Joins lines ending in a backslash with the next one, as ProFTPD does: the backslash is removed and the
 * next line is appended as it is (so separate words need whitespace on one side of the break).
 */
export function logicalLines(text: string): LogicalLine[] {
  const physical = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  const lines: LogicalLine[] = [];
  let pending: LogicalLine | undefined;
  physical.forEach((raw, index) => {
    const joined: LogicalLine = pending
      ? { text: pending.text + raw, line: pending.line }
      : { text: raw, line: index + 1 };
    const trimmed = joined.text.replace(/\s+$/, '');
    if (trimmed.endsWith('\\')) {
      pending = { text: trimmed.slice(0, -1), line: joined.line };
    } else {
      pending = undefined;
      lines.push(joined);
    }
  });
  if (pending) lines.push(pending);
  return lines;
}

/**
 * Splits a line into words. A word starting with a double quote runs to the next unescaped double quote
 * and may contain spaces; inside it `\"` and `\\` stand for `"` and `\`.
 */
export function splitWords(text: string): { words: string[]; error?: string } {
  const words: string[] = [];
  let index = 0;
  while (index < text.length) {
    while (index < text.length && /\s/.test(text[index] ?? '')) index++;
    if (index >= text.length) break;
    if (text[index] === '"') {
      index++;
      let word = '';
      let closed = false;
      while (index < text.length) {
        const char = text[index] ?? '';
        const next = text[index + 1];
        if (char === '\\' && (next === '"' || next === '\\')) {
          word += next;
          index += 2;
        } else if (char === '"') {
          closed = true;
          index++;
          break;
        } else {
          word += char;
          index++;
        }
      }
      if (!closed) return { words, error: 'unterminated double quote' };
      words.push(word);
    } else {
      const start = index;
      while (index < text.length && !/\s/.test(text[index] ?? '')) index++;
      words.push(text.slice(start, index));
    }
  }
  return { words };
}

const defaultSkip = (name: string, args: readonly string[]) =>
  name.toLowerCase() === 'ifmodule' && (args[0] ?? '').startsWith('!');

/** `*` and `?` in the last component of an Include path. */
function globToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\*?]/g, (char) => {
    if (char === '*') return '.*';
    if (char === '?') return '.';
    return `\\${char}`;
  });
  return new RegExp(`^${body}$`);
}

const hasWildcard = (text: string) => /[*?]/.test(text);

class Lexer {
  readonly errors: ConfigIssue[] = [];
  readonly warnings: ConfigIssue[] = [];
  readonly root: ConfigNode[] = [];
  readonly files: string[] = [];
  private readonly open: SectionNode[] = [];
  /** Real paths of the files being read, outermost first, for cycle detection. */
  private readonly chain: string[] = [];
  private readonly chainNames: string[] = [];

  constructor(private readonly skipSection: NonNullable<LexOptions['skipSection']>) {}

  private error(loc: Location | { file: string }, message: string, key?: string): void {
    this.errors.push({ ...loc, ...(key === undefined ? {} : { key }), message });
  }

  private get skipping(): boolean {
    return this.open.some((section) => section.skipped);
  }

  private get container(): ConfigNode[] {
    return this.open.at(-1)?.children ?? this.root;
  }

  /** Reads one file (from `text`, or from disk) into the tree; `from` is the Include line that named it. */
  readFile(file: string, text: string | undefined, from?: Location): void {
    let real: string;
    try {
      real = realpathSync(file);
    } catch {
      real = resolve(file);
    }
    const reportAt = from ?? { file };
    if (this.chain.includes(real)) {
      this.error(reportAt, `Include cycle: ${[...this.chainNames, file].join(' -> ')}`, 'Include');
      return;
    }
    if (this.chain.length >= MAX_INCLUDE_DEPTH) {
      this.error(reportAt, `Includes are nested more than ${MAX_INCLUDE_DEPTH} deep`, 'Include');
      return;
    }
    let content = text;
    if (content === undefined) {
      try {
        content = readFileSync(file, 'utf8');
      } catch (error) {
        this.error(
          reportAt,
          `cannot read "${file}": ${describeFsError(error)}`,
          from ? 'Include' : undefined,
        );
        return;
      }
    }
    if (!this.files.includes(file)) this.files.push(file);
    this.chain.push(real);
    this.chainNames.push(file);
    for (const line of logicalLines(content)) this.readLine(line.text, { file, line: line.line });
    this.chain.pop();
    this.chainNames.pop();
  }

  private readLine(raw: string, loc: Location): void {
    const text = raw.trim();
    if (text === '' || text.startsWith('#')) return;
    if (text.startsWith('<')) {
      this.readSectionTag(text, loc);
      return;
    }
    if (this.skipping) return;
    const { words, error } = splitWords(text);
    if (error) {
      this.error(loc, error, words[0]);
      return;
    }
    const [name = '', ...args] = words;
    if (name.toLowerCase() === 'include') {
      this.include(name, args, loc);
      return;
    }
    this.container.push({ type: 'directive', name, args, loc });
  }

  private readSectionTag(text: string, loc: Location): void {
    if (!text.endsWith('>')) {
      this.error(loc, `a section tag must end with ">": ${text}`);
      return;
    }
    const inner = text.slice(1, -1).trim();
    if (inner.startsWith('/')) {
      const name = inner.slice(1).trim();
      if (name === '' || /\s/.test(name)) {
        this.error(loc, `malformed closing tag ${text}`);
        return;
      }
      this.closeSection(name, loc);
      return;
    }
    const { words, error } = splitWords(inner);
    const [name = '', ...args] = words;
    if (error || name === '') {
      this.error(loc, error ? `${error} in ${text}` : `malformed section tag ${text}`);
      return;
    }
    const inSkipped = this.skipping;
    const section: SectionNode = {
      type: 'section',
      name,
      args,
      loc,
      children: [],
      skipped: inSkipped || this.skipSection(name, args),
    };
    if (!inSkipped) this.container.push(section);
    this.open.push(section);
  }

  private closeSection(name: string, loc: Location): void {
    const lower = name.toLowerCase();
    const index = this.open.findLastIndex((section) => section.name.toLowerCase() === lower);
    if (index < 0) {
      const current = this.open.at(-1);
      this.error(
        loc,
        current
          ? `</${name}> does not match the open <${current.name}> (${current.loc.file}:${current.loc.line})`
          : `</${name}> without a matching <${name}>`,
      );
      return;
    }
    for (const unclosed of this.open.splice(index + 1).reverse()) {
      this.error(
        unclosed.loc,
        `<${unclosed.name}> is not closed before </${name}> (${loc.file}:${loc.line})`,
      );
    }
    this.open.pop();
  }

  private include(name: string, args: string[], loc: Location): void {
    const [pattern] = args;
    if (args.length !== 1 || pattern === undefined) {
      this.error(loc, `takes exactly one argument (a file, directory or pattern), got ${args.length}`, name);
      return;
    }
    const target = isAbsolute(pattern) ? pattern : join(dirname(loc.file), pattern);
    for (const file of this.expandInclude(name, target, loc)) this.readFile(file, undefined, loc);
  }

  private expandInclude(name: string, target: string, loc: Location): string[] {
    const dir = dirname(target);
    const base = basename(target);
    if (hasWildcard(dir)) {
      this.error(loc, `wildcards are supported only in the last part of the path: ${target}`, name);
      return [];
    }
    const listFiles = (directory: string, accept: (entry: string) => boolean): string[] | undefined => {
      let entries: string[];
      try {
        entries = readdirSync(directory);
      } catch (error) {
        this.error(loc, `cannot read directory "${directory}": ${describeFsError(error)}`, name);
        return undefined;
      }
      return entries
        .filter(accept)
        .sort()
        .map((entry) => join(directory, entry))
        .filter((file) => {
          try {
            return statSync(file).isFile();
          } catch {
            return false;
          }
        });
    };
    if (hasWildcard(base)) {
      const regexp = globToRegExp(base);
      const files = listFiles(
        dir,
        (entry) => regexp.test(entry) && (base.startsWith('.') || !entry.startsWith('.')),
      );
      if (files?.length === 0)
        this.warnings.push({ ...loc, key: name, message: `${target} matches no files` });
      return files ?? [];
    }
    let isDirectory = false;
    try {
      isDirectory = statSync(target).isDirectory();
    } catch (error) {
      this.error(loc, `cannot read "${target}": ${describeFsError(error)}`, name);
      return [];
    }
    if (!isDirectory) return [target];
    return listFiles(target, (entry) => !entry.startsWith('.')) ?? [];
  }

  finish(): LexResult {
    for (const unclosed of this.open.splice(0).reverse()) {
      this.error(unclosed.loc, `<${unclosed.name}> is never closed`);
    }
    return { nodes: this.root, files: this.files, errors: this.errors, warnings: this.warnings };
  }
}

/**
 * Reads a proftpd.conf into a tree of directives and sections, following Include. `text` is the content
 * of `file` (read from disk when omitted); included files are always read from disk, relative to the
 * directory of the file that includes them. Problems are collected, not thrown.
 */
export function lexConfig(file: string, text?: string, options: LexOptions = {}): LexResult {
  const lexer = new Lexer(options.skipSection ?? defaultSkip);
  lexer.readFile(file, text);
  return lexer.finish();
}
