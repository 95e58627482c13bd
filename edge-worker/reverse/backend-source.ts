import { isAbsolute } from 'node:path';
import { type BackendUrl, parseBackendUrl } from '../../functions/core/backend-url.js';

/**
 * One entry of a pool's `backends` (ProxyReverseServers): a backend URL, or a `file:` list of them.
 * A file whose path has `%U` is per user: read at USER, with the client's user name in its path; one
 * with `%g` is per group: read after proxy authentication, with the user's primary group in its path.
 */
export type BackendSource =
  | { kind: 'url'; text: string; url: BackendUrl }
  | { kind: 'file'; path: string; perUser: boolean; perGroup: boolean };

export type BackendSourceResult = { ok: true; source: BackendSource } | { ok: false; error: string };

const FILE_PREFIX = /^file:/i;
const SQL_PREFIX = /^sql:/i;

/**
 * Reads one configured backend entry. Refused here, so at configuration time with the entry's line:
 * relative `file:` paths and `sql:`. sftp:// backends need an sftp
 * listener (checked with the listeners, config/schema.ts). `+srv` / `+txt` URLs are resolved by the
 * control plane (functions/core/discovery).
 */
export function parseBackendSource(text: string): BackendSourceResult {
  const fail = (error: string): BackendSourceResult => ({ ok: false, error });
  if (FILE_PREFIX.test(text)) {
    const path = text.slice('file:'.length);
    if (path === '') return fail(`"${text}": file: needs the path of a JSON file`);
    if (!isAbsolute(path)) {
      return fail(`"${text}": the path of a file: backend list must be absolute, got "${path}"`);
    }
    if (path.includes('\0')) return fail(`"${text}": the path contains a NUL byte`);
    const perUser = path.includes('%U');
    const perGroup = path.includes('%g');
    if (perUser && perGroup) return fail(`"${text}": a path has %U or %g, not both`);
    return { ok: true, source: { kind: 'file', path, perUser, perGroup } };
  }
  if (SQL_PREFIX.test(text)) {
    return fail(
      `"${text}": backend lists from SQL queries (sql:) are not supported by ftpx yet: register per-user backends through the registry API instead (/v1/pools/{pool}/users/{user}/backends)`,
    );
  }
  const parsed = parseBackendUrl(text);
  if (!parsed.ok) return fail(parsed.error);
  return { ok: true, source: { kind: 'url', text, url: parsed.url } };
}

/**
 * Why a backend cannot be connected to at all, or undefined: `+srv` / `+txt` URLs the control plane
 * handed back unresolved (it expands them through DNS discovery; an older control plane does not),
 * each failing its connect attempt so the retry moves on.
 */
export function unconnectableBackend(url: BackendUrl): string | undefined {
  if (url.discovery) {
    return `the control plane returned the ${url.discovery.toUpperCase()} name unresolved (it does not support DNS discovery)`;
  }
  return undefined;
}

/**
 * The path of a per-user file for `user`: every `%U` replaced by the name. A name that could leave
 * the directory the path names (one containing "/" or a NUL byte, or starting with "."; so also
 * "." and "..") or is empty is refused, whatever the path looks like: the name comes from the
 * client, before any login.
 */
export function perUserPath(
  template: string,
  user: string,
  placeholder: '%U' | '%g' = '%U',
): { ok: true; path: string } | { ok: false; reason: string } {
  const what = placeholder === '%U' ? 'the user name' : 'the group name';
  if (user === '') return { ok: false, reason: `${what} is empty` };
  if (user.includes('/')) return { ok: false, reason: `${what} contains "/"` };
  if (user.includes('\0')) return { ok: false, reason: `${what} contains a NUL byte` };
  if (user.startsWith('.')) return { ok: false, reason: `${what} starts with "."` };
  return { ok: true, path: template.split(placeholder).join(user) };
}
