/**
 * MLST/MLSD facts (RFC 3659 section 7) for entries parsed from a LIST listing, plus the `OPTS MLST` and
 * FEAT texts that go with them.
 *
 * The fact set is mod_proxy's default set (lib/proxy/ftp/facts.c) minus `unique`. RFC 3659 7.5.2 makes `unique`
 * an identity: two entries with the same value ARE the same object, and clients use it to spot hard links
 * and directory loops while recursing. A listing has no device/inode numbers to build it from, and any
 * hash of what it does show (name, size, mtime) gives the same value to, say, every `src` directory of the
 * same size and mtime, so a recursing client would skip real directories as "already seen". A missing
 * fact is harmless; a wrong identity is not. So `unique` is not offered: it is absent from FEAT, ignored
 * by `OPTS MLST` (as RFC 3659 7.9 says for any unsupported fact) and never emitted.
 */

import type { ListEntry } from './list-line.js';

/** The supported facts, in the order they appear in FEAT, `OPTS MLST` replies and MLSD lines. */
export const MLST_FACTS = [
  'modify',
  'perm',
  'size',
  'type',
  'UNIX.group',
  'UNIX.groupname',
  'UNIX.mode',
  'UNIX.owner',
  'UNIX.ownername',
] as const;

export type MlstFact = (typeof MLST_FACTS)[number];

/** Every supported fact: selected until the client narrows the set with `OPTS MLST`. */
export const DEFAULT_MLST_FACTS: ReadonlySet<MlstFact> = new Set(MLST_FACTS);

const BY_LOWER_NAME: ReadonlyMap<string, MlstFact> = new Map(
  MLST_FACTS.map((fact) => [fact.toLowerCase(), fact]),
);

/** The canonical spelling of a fact name (matched case-insensitively), or undefined if not supported. */
export function lookupMlstFact(name: string): MlstFact | undefined {
  return BY_LOWER_NAME.get(name.toLowerCase());
}

/**
 * Parses the argument of `OPTS MLST`, i.e. what follows `OPTS MLST ` (`type;size;`; undefined or empty for
 * a bare `OPTS MLST`, which selects no facts). Names are case-insensitive; unsupported names are ignored.
 * Returns undefined for a syntax error (RFC 3659 7.9.2: a blank inside the list, as in `fish cakes;`): the
 * caller then answers 501 and keeps the previous selection. A missing final `;` is tolerated.
 */
export function parseOptsMlst(argument: string | undefined): Set<MlstFact> | undefined {
  const text = (argument ?? '').replace(/^[ \t]+|[ \t]+$/g, '');
  if (/[ \t]/.test(text)) return undefined;
  const selected = new Set<MlstFact>();
  for (const name of text.split(';')) {
    const fact = lookupMlstFact(name);
    if (fact !== undefined) selected.add(fact);
  }
  // Keep the canonical order, so that iterating the set gives the output order.
  return new Set(MLST_FACTS.filter((fact) => selected.has(fact)));
}

/** The text of the 200 reply to `OPTS MLST` (RFC 3659 7.9.1): `MLST OPTS type;size;`, or `MLST OPTS`. */
export function formatOptsMlstReply(selected: ReadonlySet<MlstFact>): string {
  const list = MLST_FACTS.filter((fact) => selected.has(fact))
    .map((fact) => `${fact};`)
    .join('');
  return list === '' ? 'MLST OPTS' : `MLST OPTS ${list}`;
}

/**
 * The MLST line of a FEAT reply (RFC 3659 7.8), with its leading space: every supported fact, each marked
 * `*` when currently selected: ` MLST modify*;perm*;size*;type*;UNIX.group;...;`.
 */
export function formatFeatMlst(selected: ReadonlySet<MlstFact>): string {
  return ` MLST ${MLST_FACTS.map((fact) => `${fact}${selected.has(fact) ? '*' : ''};`).join('')}`;
}

/**
 * The `perm` fact (RFC 3659 7.5.5) from the owner's permission bits. A listing cannot tell what the
 * logged-in user may do, and the backend session normally runs as (or maps to) the owner of its files, so
 * the owner bits are the best guide; the backend still enforces the real rights.
 * - Directories (`dir`, `cdir`, `pdir`): read → `l` (list); write → `c` (create files), `d` (delete),
 *   `f` (rename), `m` (make subdirectories), `p` (purge contents); execute → `e` (enter).
 * - Everything else: read → `r` (retrieve); write → `a` (append), `d` (delete), `f` (rename), `w` (store).
 *   That includes symlinks, whose own bits (always `rwxrwxrwx` on Linux) are all the listing shows.
 * `d` and `f` really depend on the parent directory, which one line does not show; the entry's own write
 * bit stands in for it, as ProFTPD's own facts do for an entry the user owns. Letters are in alphabetical
 * order. Undefined for DOS entries, which carry no permissions.
 */
export function permFact(entry: ListEntry): string | undefined {
  if (entry.mode === undefined) return undefined;
  const read = (entry.mode & 0o400) !== 0;
  const write = (entry.mode & 0o200) !== 0;
  const exec = (entry.mode & 0o100) !== 0;
  if (entry.type === 'dir') {
    return `${write ? 'cd' : ''}${exec ? 'e' : ''}${write ? 'f' : ''}${read ? 'l' : ''}${write ? 'mp' : ''}`;
  }
  return `${write ? 'adf' : ''}${read ? 'r' : ''}${write ? 'w' : ''}`;
}

/**
 * The `type` fact: `file`, `dir`, `cdir` for `.`, `pdir` for `..`, and `OS.unix=...` for the rest
 * (RFC 3659 7.5.1 allows `OS.name=type`). A symlink is `OS.unix=symlink`, or with `useSlink` (mod_proxy's
 * `UseSlink` option, FileZilla's convention) `OS.unix=slink:<target>` when the target is known and can be
 * a fact value (no `;`, blank or control character, which would end the fact or the facts).
 */
export function typeFact(entry: ListEntry, useSlink: boolean): string {
  switch (entry.type) {
    case 'file':
      return 'file';
    case 'dir':
      if (entry.name === '.') return 'cdir';
      if (entry.name === '..') return 'pdir';
      return 'dir';
    case 'symlink':
      if (useSlink && entry.target !== undefined && isFactValue(entry.target) && entry.target !== '') {
        return `OS.unix=slink:${entry.target}`;
      }
      return 'OS.unix=symlink';
    default:
      return `OS.unix=${entry.type}`;
  }
}

/** YYYYMMDDHHMMSS in UTC (RFC 3659 2.3). */
export function formatModify(date: Date): string {
  const pad = (value: number, width = 2) => String(value).padStart(width, '0');
  return (
    pad(date.getUTCFullYear(), 4) +
    pad(date.getUTCMonth() + 1) +
    pad(date.getUTCDate()) +
    pad(date.getUTCHours()) +
    pad(date.getUTCMinutes()) +
    pad(date.getUTCSeconds())
  );
}

/** `UNIX.mode` as ProFTPD prints it: octal with a leading 0, e.g. `0644`, `04755`, `01777`. */
export function formatUnixMode(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;
}

/** Whether a text can stand as a fact value: a blank ends the facts, `;` the fact; no control characters. */
function isFactValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code <= 0x20 || code === 0x3b || code === 0x7f) return false;
  }
  return true;
}

const NUMERIC = /^\d+$/;

/** The value of one fact for an entry, or undefined when the listing does not show it. */
export function factValue(entry: ListEntry, fact: MlstFact, useSlink: boolean): string | undefined {
  switch (fact) {
    case 'modify':
      return formatModify(entry.modify);
    case 'perm':
      return permFact(entry);
    case 'size':
      return entry.size?.toString();
    case 'type':
      return typeFact(entry, useSlink);
    case 'UNIX.mode':
      return entry.mode === undefined ? undefined : formatUnixMode(entry.mode);
    // With `LIST -aln` the owner and group columns are numeric ids; with `LIST -al` they are names, except
    // for ids without a name, which `ls` prints as numbers. So digits mean an id and anything else a name.
    case 'UNIX.owner':
      return entry.owner !== undefined && NUMERIC.test(entry.owner) ? entry.owner : undefined;
    case 'UNIX.ownername':
      return entry.owner !== undefined && !NUMERIC.test(entry.owner) ? entry.owner : undefined;
    case 'UNIX.group':
      return entry.group !== undefined && NUMERIC.test(entry.group) ? entry.group : undefined;
    case 'UNIX.groupname':
      return entry.group !== undefined && !NUMERIC.test(entry.group) ? entry.group : undefined;
  }
}

export interface MlsxFormatOptions {
  /** The selected facts; output follows {@link MLST_FACTS} order whatever the set's own order. */
  facts: ReadonlySet<MlstFact>;
  useSlink: boolean;
}

/**
 * One MLSx entry without a line ending: `fact=value;fact=value; name` (RFC 3659 7.2). Facts that do not
 * apply to the entry, or whose value could not be written safely, are left out; with no facts at all the
 * entry is ` name` (the separating space stays, RFC 3659 7.9). The name is passed through unchanged.
 */
export function formatMlsxEntry(entry: ListEntry, options: MlsxFormatOptions): string {
  let facts = '';
  for (const fact of MLST_FACTS) {
    if (!options.facts.has(fact)) continue;
    const value = factValue(entry, fact, options.useSlink);
    if (value !== undefined && isFactValue(value)) facts += `${fact}=${value};`;
  }
  return `${facts} ${entry.name}`;
}
