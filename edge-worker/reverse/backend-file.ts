import { constants, type Stats } from 'node:fs';
import { type FileHandle, lstat, open, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute } from 'node:path';
import { type BackendUrl, backendKey, parseBackendUrl } from '../../functions/core/backend-url.js';
import { describeFsError } from '../config/read-file.js';

/** mod_proxy's limits for `file:` backend lists (http://www.proftpd.org/docs/contrib/mod_proxy.html#ProxyReverseServers). */
export const BACKEND_FILE_MAX_BYTES = 5 * 1024 * 1024;
export const BACKEND_FILE_MAX_ITEMS = 1000;

export interface BackendFileOptions {
  /** ProxyOptions IgnoreConfigPerms: a world-writable directory above the file is accepted. */
  ignoreConfigPerms: boolean;
}

/** One usable backend read from a file: its text (with credentials: never log it), URL and key. */
export interface FileBackend {
  /** Its position in the file's array (0-based) and the line it starts on (1-based), for messages. */
  item: number;
  line: number;
  text: string;
  url: BackendUrl;
  key: string;
}

/** An item left out of a file (0-based position in its array) and why; the reason holds no password. */
export interface SkippedItem {
  item: number;
  reason: string;
}

export type BackendFileResult =
  | {
      ok: true;
      backends: FileBackend[];
      skipped: SkippedItem[];
      /** Items beyond the first BACKEND_FILE_MAX_ITEMS, not read. */
      ignoredItems: number;
    }
  | {
      ok: false;
      /** The file (or a symlink's target) does not exist: a per-user file that is simply absent. */
      missing: boolean;
      reason: string;
    };

const refuse = (reason: string, missing = false): BackendFileResult => ({ ok: false, missing, reason });

/**
 * Reads a `file:` backend list with mod_proxy's checks (mod_proxy's ProxyReverseServers docs), refusing the file when:
 * - the path is not absolute;
 * - it is a directory or not a regular file (mod_proxy only warns about FIFOs and such, then reads
 *   them; ftpx refuses, as reading one could block);
 * - it is world-writable;
 * - its directory is world-writable, unless IgnoreConfigPerms; for a symlink, both the link's
 *   directory and the target's directory are checked;
 * - it is larger than 5 MiB, is not JSON, or is not an array.
 * Of the array, the first 1000 items are read; an item that is not a string or not a backend URL
 * is skipped and reported in `skipped`. ftp://, ftps:// and sftp:// items are all kept: whether one
 * can serve a session is decided at selection (an sftp:// backend only for an SFTP session).
 *
 * The file is opened without following a swap to a FIFO (O_NONBLOCK) and checked again through its
 * descriptor, so what is read is what was checked.
 */
export async function readBackendFile(path: string, options: BackendFileOptions): Promise<BackendFileResult> {
  if (!isAbsolute(path)) return refuse(`the path "${path}" is not absolute`);
  let link: Stats;
  try {
    link = await lstat(path);
  } catch (err) {
    return refuse(describeFsError(err), isMissing(err));
  }
  const directories = [dirname(path)];
  if (link.isSymbolicLink()) {
    try {
      directories.push(dirname(await realpath(path)));
    } catch (err) {
      return refuse(`symlink target: ${describeFsError(err)}`, isMissing(err));
    }
  }
  if (!options.ignoreConfigPerms) {
    for (const directory of directories) {
      let info: Stats;
      try {
        info = await stat(directory);
      } catch (err) {
        return refuse(`directory ${directory}: ${describeFsError(err)}`);
      }
      if ((info.mode & 0o002) !== 0) {
        return refuse(
          `its directory ${directory} is world-writable (ProxyOptions IgnoreConfigPerms / ignoreConfigPerms accepts that)`,
        );
      }
    }
  }
  let target: Stats;
  try {
    target = await stat(path);
  } catch (err) {
    return refuse(describeFsError(err), isMissing(err));
  }
  const kind = checkFile(target);
  if (kind) return refuse(kind);

  let text: string;
  try {
    const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const opened = await handle.stat();
      const again = checkFile(opened);
      if (again) return refuse(again);
      const read = await readAtMost(handle, BACKEND_FILE_MAX_BYTES + 1);
      if (read.length > BACKEND_FILE_MAX_BYTES) return refuse(tooLarge(read.length));
      text = read.toString('utf8');
    } finally {
      await handle.close();
    }
  } catch (err) {
    return refuse(describeFsError(err), isMissing(err));
  }
  return parseBackendFile(text);
}

/** Why the file itself is refused (type, permissions, size), or undefined. */
function checkFile(info: Stats): string | undefined {
  if (info.isDirectory()) return 'it is a directory';
  if (!info.isFile()) return 'it is not a regular file';
  if ((info.mode & 0o002) !== 0) return 'it is world-writable';
  if (info.size > BACKEND_FILE_MAX_BYTES) return tooLarge(info.size);
  return undefined;
}

const tooLarge = (size: number) => `it is larger than 5 MiB (${size} bytes or more)`;

/** Up to `limit` bytes from the start of the file (it may have grown since it was checked). */
async function readAtMost(handle: FileHandle, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  while (total < limit) {
    const chunk = Buffer.alloc(Math.min(64 * 1024, limit - total));
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, total);
    if (bytesRead === 0) break;
    chunks.push(chunk.subarray(0, bytesRead));
    total += bytesRead;
  }
  return Buffer.concat(chunks, total);
}

/**
 * The backends of a file's text: a JSON array of URL strings, of which the first 1000 items are
 * read. JSON errors are not quoted (the parser's message may hold part of a URL with its password).
 */
export function parseBackendFile(text: string): BackendFileResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return refuse('it is not valid JSON (expected an array of backend URL strings)');
  }
  if (!Array.isArray(value))
    return refuse('it is not a JSON array (expected an array of backend URL strings)');
  const items = value.slice(0, BACKEND_FILE_MAX_ITEMS);
  const lines = itemLines(text, items.length);
  const backends: FileBackend[] = [];
  const skipped: SkippedItem[] = [];
  items.forEach((item: unknown, index) => {
    if (typeof item !== 'string') {
      skipped.push({ item: index, reason: `not a string (${item === null ? 'null' : typeof item})` });
      return;
    }
    const parsed = parseBackendUrl(item);
    if (!parsed.ok) {
      skipped.push({ item: index, reason: parsed.error });
      return;
    }
    backends.push({
      item: index,
      line: lines[index] ?? 1,
      text: item,
      url: parsed.url,
      key: backendKey(parsed.url),
    });
  });
  return { ok: true, backends, skipped, ignoredItems: value.length - items.length };
}

/**
 * The line each of the first `count` items of a top-level JSON array starts on. The text parsed
 * already, so only strings (with their escapes), nesting and commas need following.
 */
function itemLines(text: string, count: number): number[] {
  const lines: number[] = [];
  let line = 1;
  let depth = 0;
  let inString = false;
  let expectItem = false;
  for (let i = 0; i < text.length && lines.length < count; i++) {
    const char = text[i];
    if (char === '\n') line += 1;
    if (inString) {
      if (char === '\\') i += 1;
      else if (char === '"') inString = false;
      continue;
    }
    if (char === ' ' || char === '\t' || char === '\r' || char === '\n') continue;
    if (depth === 1 && expectItem && char !== ']') {
      lines.push(line);
      expectItem = false;
    }
    if (char === '"') inString = true;
    else if (char === '[' || char === '{') {
      depth += 1;
      if (depth === 1) expectItem = true;
    } else if (char === ']' || char === '}') depth -= 1;
    else if (char === ',' && depth === 1) expectItem = true;
  }
  return lines;
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
