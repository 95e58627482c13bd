import { readFile } from 'node:fs/promises';
import { groupNameSchema, userNameSchema } from '../../contract/registry.js';
import { createPool, deleteProxyUser, listProxyUsers, poolGuard, proxyUserKind } from '../registry/index.js';
import type { Table } from '../store/index.js';
import { RegistryError, registryKeys, type SaveOutcome, saveItem } from '../store/index.js';
import { hashFormat, SUPPORTED_HASH_FORMATS } from './crypt.js';

/**
 * ProFTPD's AuthUserFile and AuthGroupFile (mod_auth_file), parsed and imported as the pool's proxy
 * users. The formats are /etc/passwd's and /etc/group's, with the password hash in the passwd file:
 *
 *     name:hash:uid:gid:gecos:home:shell        (AuthUserFile, 7 fields)
 *     name:password:gid:member1,member2         (AuthGroupFile, 4 fields)
 *
 * Blank lines and lines starting with `#` are skipped. Malformed lines are reported with their line
 * numbers and left out (as mod_auth_file skips them); the rest is imported.
 *
 * What a user becomes: `passwordHash` = the hash field as it is (crypt.ts verifies `$1$`, `$5$`,
 * `$6$`); `primaryGroup` = the name of the group whose gid is the user's gid (the gid in decimal
 * when no group file has it); `groups` = the other groups listing the user as a member, in file
 * order (at most 64); `enabled` = false for a locked (`!`, `*`), empty or shadowed (`x`) hash, true
 * otherwise. Hashes ftpx cannot verify (DES, bcrypt, yescrypt...) are imported but reported: those
 * users cannot log in until a password is set through the registry API.
 */

export interface PasswdEntry {
  line: number;
  name: string;
  hash: string;
  uid: number;
  gid: number;
  gecos: string;
  home: string;
  shell: string;
}

export interface GroupEntry {
  line: number;
  name: string;
  gid: number;
  members: string[];
}

export type AuthFileKind = 'AuthUserFile' | 'AuthGroupFile';

/** A problem in a file: `line` is 1-based (0 for the file as a whole). */
export interface AuthFileIssue {
  file: AuthFileKind;
  line: number;
  message: string;
}

export interface Parsed<T> {
  entries: T[];
  errors: AuthFileIssue[];
}

/** Thrown by a strict import when a file has errors; nothing was written. */
export class AuthFileError extends Error {
  override readonly name = 'AuthFileError';
  constructor(readonly issues: AuthFileIssue[]) {
    super(`${issues.length} error(s) in the auth files: ${issues.slice(0, 5).map(formatIssue).join('; ')}`);
  }
}

export function formatIssue(issue: AuthFileIssue): string {
  return issue.line > 0
    ? `${issue.file} line ${issue.line}: ${issue.message}`
    : `${issue.file}: ${issue.message}`;
}

/** Uids and gids are unsigned 32-bit, written in decimal. */
const ID = /^\d{1,10}$/;
const MAX_ID = 0xffff_ffff;
const MAX_GROUPS = 64;

export function parseAuthUserFile(text: string): Parsed<PasswdEntry> {
  const entries: PasswdEntry[] = [];
  const errors: AuthFileIssue[] = [];
  const seen = new Map<string, number>();
  forEachLine(text, (content, line) => {
    const fail = (message: string) => errors.push({ file: 'AuthUserFile', line, message });
    const fields = content.split(':');
    if (fields.length !== 7) {
      fail(`expected 7 fields (name:hash:uid:gid:gecos:home:shell), found ${fields.length}`);
      return;
    }
    const [name = '', hash = '', uid = '', gid = '', gecos = '', home = '', shell = ''] = fields;
    const nameProblem = problem(userNameSchema, name);
    if (nameProblem) return fail(`user name ${JSON.stringify(name)}: ${nameProblem}`);
    if (!isId(uid)) return fail(`uid ${JSON.stringify(uid)} of user "${name}" is not a number`);
    if (!isId(gid)) return fail(`gid ${JSON.stringify(gid)} of user "${name}" is not a number`);
    const first = seen.get(name);
    if (first !== undefined) return fail(`user "${name}" is already defined on line ${first}`);
    seen.set(name, line);
    entries.push({ line, name, hash, uid: Number(uid), gid: Number(gid), gecos, home, shell });
  });
  return { entries, errors };
}

export function parseAuthGroupFile(text: string): Parsed<GroupEntry> {
  const entries: GroupEntry[] = [];
  const errors: AuthFileIssue[] = [];
  const seen = new Map<string, number>();
  forEachLine(text, (content, line) => {
    const fail = (message: string) => errors.push({ file: 'AuthGroupFile', line, message });
    const fields = content.split(':');
    if (fields.length !== 4) {
      fail(`expected 4 fields (name:password:gid:members), found ${fields.length}`);
      return;
    }
    const [name = '', , gid = '', members = ''] = fields;
    const nameProblem = problem(groupNameSchema, name);
    if (nameProblem) return fail(`group name ${JSON.stringify(name)}: ${nameProblem}`);
    if (!isId(gid)) return fail(`gid ${JSON.stringify(gid)} of group "${name}" is not a number`);
    const first = seen.get(name);
    if (first !== undefined) return fail(`group "${name}" is already defined on line ${first}`);
    seen.set(name, line);
    const list = members
      .split(',')
      .map((member) => member.trim())
      .filter((member) => member !== '');
    entries.push({ line, name, gid: Number(gid), members: [...new Set(list)] });
  });
  return { entries, errors };
}

/** A proxy user as the import writes it. */
export interface ImportedUser {
  line: number;
  name: string;
  passwordHash: string;
  primaryGroup: string;
  groups: string[];
  enabled: boolean;
}

/**
 * The proxy users the files describe, with warnings for what will not work as the file suggests
 * (unverifiable hashes, locked accounts, a gid no group has, too many groups).
 */
export function usersFromAuthFiles(
  users: Parsed<PasswdEntry>,
  groups?: Parsed<GroupEntry>,
): { users: ImportedUser[]; warnings: AuthFileIssue[] } {
  const warnings: AuthFileIssue[] = [];
  const byGid = new Map<number, string>();
  for (const group of groups?.entries ?? []) if (!byGid.has(group.gid)) byGid.set(group.gid, group.name);
  const imported = users.entries.map((entry): ImportedUser => {
    const warn = (message: string) => warnings.push({ file: 'AuthUserFile', line: entry.line, message });
    let primaryGroup = byGid.get(entry.gid);
    if (primaryGroup === undefined) {
      primaryGroup = String(entry.gid);
      if (groups)
        warn(`no group has gid ${entry.gid}: user "${entry.name}" gets primary group "${primaryGroup}"`);
    }
    let memberOf = (groups?.entries ?? [])
      .filter((group) => group.members.includes(entry.name) && group.name !== primaryGroup)
      .map((group) => group.name);
    memberOf = [...new Set(memberOf)];
    if (memberOf.length > MAX_GROUPS) {
      warn(`user "${entry.name}" is in ${memberOf.length} groups: only the first ${MAX_GROUPS} are kept`);
      memberOf = memberOf.slice(0, MAX_GROUPS);
    }
    const format = hashFormat(entry.hash);
    let enabled = true;
    if (entry.hash === 'x') {
      enabled = false;
      warn(`user "${entry.name}" has its password in a shadow file ("x"): imported disabled`);
    } else if (format === 'locked' || format === 'empty') {
      enabled = false;
      warn(
        `user "${entry.name}" has ${format === 'empty' ? 'no password hash' : 'a locked account'}: imported disabled`,
      );
    } else if (!SUPPORTED_HASH_FORMATS.includes(format)) {
      warn(
        `user "${entry.name}" has a ${format} hash, which ftpx cannot verify: the user cannot log in until a password is set through the registry API`,
      );
    }
    return {
      line: entry.line,
      name: entry.name,
      passwordHash: entry.hash,
      primaryGroup,
      groups: memberOf,
      enabled,
    };
  });
  return { users: imported, warnings };
}

export interface ImportAuthUsersOptions {
  /** Delete the pool's proxy users the file does not name (skipped when the files have errors). */
  prune?: boolean;
  /** Refuse the whole import (AuthFileError, nothing written) when a file has errors. */
  strict?: boolean;
  /** Register the pool first when it is not registered (proxy users live in registered pools). */
  createPool?: boolean;
  /** Epoch milliseconds; defaults to Date.now(). */
  nowMs?: number;
}

export interface ImportResult {
  created: string[];
  updated: string[];
  unchanged: string[];
  deleted: string[];
  /** Lines left out. */
  errors: AuthFileIssue[];
  /** Imported, but not as the file may suggest. */
  warnings: AuthFileIssue[];
}

/** Writes at most this many users at a time. */
const WRITE_CONCURRENCY = 8;

/**
 * Imports the AuthUserFile `users` (text) and AuthGroupFile `groups` (text) as proxy users of
 * `pool`. Idempotent: each user is created or replaced (registry writes: conditional, versioned; an
 * unchanged user is not written), so a repeated import after an edit of the file applies the edit.
 * The file is the source of truth for the users it names: an import overwrites changes made to
 * them through the registry API (a password set there, `enabled`).
 */
export async function importAuthUsers(
  table: Table,
  pool: string,
  files: { users: string; groups?: string },
  options: ImportAuthUsersOptions = {},
): Promise<ImportResult> {
  const nowMs = options.nowMs ?? Date.now();
  const users = parseAuthUserFile(files.users);
  const groups = files.groups !== undefined ? parseAuthGroupFile(files.groups) : undefined;
  const errors = [...users.errors, ...(groups?.errors ?? [])];
  if (options.strict && errors.length > 0) throw new AuthFileError(errors);
  const { users: imported, warnings } = usersFromAuthFiles(users, groups);

  if (options.createPool) {
    try {
      await createPool(table, { name: pool }, nowMs);
    } catch (err) {
      if (!(err instanceof RegistryError && err.kind === 'already_exists')) throw err;
    }
  }

  const result: ImportResult = { created: [], updated: [], unchanged: [], deleted: [], errors, warnings };
  const outcomes = new Map<string, SaveOutcome>();
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < imported.length; index = next++) {
      const user = imported[index];
      if (!user) continue;
      const { outcome } = await saveItem(table, proxyUserKind, registryKeys.proxyUser(pool, user.name), {
        what: `proxy user "${user.name}" of pool "${pool}"`,
        whenMissing: 'create',
        guard: poolGuard(table, pool, nowMs),
        build: () => ({
          pool,
          name: user.name,
          passwordHash: user.passwordHash,
          primaryGroup: user.primaryGroup,
          groups: [...user.groups],
          enabled: user.enabled,
        }),
        nowMs,
      });
      outcomes.set(user.name, outcome);
    }
  };
  await Promise.all(Array.from({ length: Math.min(WRITE_CONCURRENCY, imported.length) }, worker));
  for (const user of imported) {
    const outcome = outcomes.get(user.name);
    if (outcome === 'created') result.created.push(user.name);
    else if (outcome === 'replaced') result.updated.push(user.name);
    else result.unchanged.push(user.name);
  }

  if (options.prune) {
    if (errors.length > 0) {
      result.warnings.push({
        file: 'AuthUserFile',
        line: 0,
        message: 'not pruning: the files have errors, and a user on a malformed line would be deleted',
      });
    } else {
      result.deleted = await prune(table, pool, new Set(imported.map((user) => user.name)), nowMs);
    }
  }
  return result;
}

/** importAuthUsers from files on disk (paths as in proftpd.conf's AuthUserFile / AuthGroupFile). */
export async function importAuthUserFile(
  table: Table,
  pool: string,
  files: { userFile: string; groupFile?: string },
  options: ImportAuthUsersOptions = {},
): Promise<ImportResult> {
  const users = await readFile(files.userFile, 'utf8');
  const groups = files.groupFile !== undefined ? await readFile(files.groupFile, 'utf8') : undefined;
  return importAuthUsers(table, pool, { users, ...(groups !== undefined ? { groups } : {}) }, options);
}

async function prune(table: Table, pool: string, keep: Set<string>, nowMs: number): Promise<string[]> {
  const stale: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await listProxyUsers(table, pool, { limit: 100, cursor }, nowMs);
    for (const record of page.items) if (!keep.has(record.name)) stale.push(record.name);
    cursor = page.nextCursor;
  } while (cursor);
  const deleted: string[] = [];
  for (const name of stale) {
    try {
      await deleteProxyUser(table, pool, name, {});
      deleted.push(name);
    } catch (err) {
      // Deleted by someone else meanwhile: the outcome is the one wanted.
      if (!(err instanceof RegistryError && err.kind === 'not_found')) throw err;
    }
  }
  return deleted;
}

function forEachLine(text: string, visit: (content: string, line: number) => void): void {
  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    const content = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const trimmed = content.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    visit(content, index + 1);
  });
}

function isId(text: string): boolean {
  return ID.test(text) && Number(text) <= MAX_ID;
}

function problem(schema: typeof userNameSchema, value: string): string | undefined {
  const parsed = schema.safeParse(value);
  return parsed.success ? undefined : (parsed.error.issues[0]?.message ?? 'invalid');
}
