import { type BackendUrl, backendKey, urlPasswordRefusal } from '../../functions/core/backend-url.js';
import type { DestinationPolicy } from '../../functions/core/net/index.js';
import { ConfigError } from '../config/config-error.js';
import type { PoolConfig } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import type { ResolveAddresses } from '../net/destination-resolver.js';
import { BackendTls } from '../tls/backend-tls-context.js';
import type { SharedBackendSessions } from '../tls/backend-tls-sessions.js';
import { BACKEND_FILE_MAX_ITEMS, type BackendFileOptions, readBackendFile } from './backend-file.js';
import { parseBackendSource, perUserPath } from './backend-source.js';

/** One backend of a list the edge worker sends to the control plane. */
export interface PoolBackend {
  /** With credentials, if written with them: never log it. */
  url: BackendUrl;
  /** What the control plane sees of it: `ftp://host:port`, no credentials. */
  key: string;
  /** Where it was listed, for logs: "config" or "file:<path>". */
  source: string;
}

/** A pool as sessions use it: its configuration plus its backend lists. */
export interface Pool {
  config: PoolConfig;
  /**
   * The global list: the configured URLs and the backends of the static `file:` lists, in
   * configuration order. Static files are read once, when the worker starts (mod_proxy reads them
   * when the configuration is read, and again only on restart).
   */
  global: PoolBackend[];
  /** The `file:` paths with `%U`, read for each session at USER (PerUser). */
  perUserFiles: string[];
  /** The `file:` paths with `%g`, read for each session after proxy authentication (PerGroup). */
  perGroupFiles: string[];
  fileOptions: BackendFileOptions;
  /** Backend FTPS (ProxyTLS*): absent when the pool's TLS engine is off. */
  tls?: BackendTls;
  /**
   * The address policy for backends the operator did not configure (registered through the API,
   * found by DNS discovery), and the resolver for their names. Absent: the policy with the pool's
   * allowDestinationNetworks and the system's resolver.
   */
  destinations?: { policy: DestinationPolicy; resolve: ResolveAddresses };
}

/** At most this many backends in one list sent to the control plane (the contract's limit). */
export const MAX_LISTED_BACKENDS = 1000;

/** The login is refused on purpose (an unusable user name), not for want of a reachable backend. */
export class UserRefusedError extends Error {
  override readonly name = 'UserRefusedError';
}

/**
 * Builds a pool from its validated configuration, reading its static `file:` lists. A static list
 * that is missing, unreadable or refused by the permission checks stops the worker from starting
 * with a ConfigError naming the file (as mod_proxy's configuration check does); entries skipped in
 * it are logged. `backendSessions`: where backend FTPS sessions are shared (the control plane).
 */
export async function loadPool(
  config: PoolConfig,
  log: Logger,
  backendSessions?: SharedBackendSessions,
): Promise<Pool> {
  const fileOptions: BackendFileOptions = { ignoreConfigPerms: config.ignoreConfigPerms };
  const global: PoolBackend[] = [];
  const perUserFiles: string[] = [];
  const perGroupFiles: string[] = [];
  for (const entry of config.backends) {
    const parsed = parseBackendSource(entry);
    // The config schema validated every entry already; this guards against a caller that skipped it.
    if (!parsed.ok) throw new Error(parsed.error);
    const { source } = parsed;
    if (source.kind === 'url') {
      global.push({ url: source.url, key: backendKey(source.url), source: 'config' });
      continue;
    }
    if (source.perUser) {
      perUserFiles.push(source.path);
      continue;
    }
    if (source.perGroup) {
      perGroupFiles.push(source.path);
      continue;
    }
    const fileLog = log.child({ pool: config.name, file: source.path });
    const result = await readBackendFile(source.path, fileOptions);
    if (!result.ok) {
      fileLog.error('backend list file refused', { reason: result.reason });
      throw new ConfigError([
        { file: source.path, message: `backend list of pool "${config.name}" refused: ${result.reason}` },
      ]);
    }
    // A static list is part of the configuration: a URL password there stops the start, as in YAML.
    for (const backend of result.backends) {
      const refusal = urlPasswordRefusal(backend.url, config.proxyAuth);
      if (refusal === undefined) continue;
      throw new ConfigError([
        {
          file: source.path,
          line: backend.line,
          key: `item ${backend.item} (counting from 0)`,
          message: `backend list of pool "${config.name}" refused: ${refusal}`,
        },
      ]);
    }
    logFileNotes(fileLog, result.skipped, result.ignoredItems);
    fileLog.info('backend list file read', { backends: result.backends.length });
    for (const backend of result.backends) {
      global.push({ url: backend.url, key: backend.key, source: `file:${source.path}` });
    }
  }
  if (global.length > MAX_LISTED_BACKENDS) {
    throw new ConfigError([
      {
        file: '',
        key: `pool ${config.name}`,
        message: `lists ${global.length} backends (URLs and file: lists together); at most ${MAX_LISTED_BACKENDS} are allowed`,
      },
    ]);
  }
  const tls =
    config.tls.engine === 'off'
      ? undefined
      : await BackendTls.load(config.tls, `pools[${config.name}].tls`, backendSessions);
  return { config, global, perUserFiles, perGroupFiles, fileOptions, ...(tls ? { tls } : {}) };
}

/**
 * The user's own backends (PerUser), or its primary group's (PerGroup, `group: true`): the pool's `%U`
 * (`%g`) files with the name in their paths, read now, concatenated in configuration order (at most
 * 1000 backends). A missing file adds nothing; a refused one (permissions, size, format) adds nothing
 * and is logged with its reason; entries skipped inside a file are logged. An empty result means the
 * name has no list of its own here. Throws UserRefusedError for a name that could leave the files'
 * directory ("/", leading ".").
 */
export async function readUserBackends(
  pool: Pool,
  name: string,
  log: Logger,
  group = false,
): Promise<PoolBackend[]> {
  const found: PoolBackend[] = [];
  const kind = group ? 'per-group' : 'per-user';
  for (const template of group ? pool.perGroupFiles : pool.perUserFiles) {
    const path = perUserPath(template, name, group ? '%g' : '%U');
    if (!path.ok) {
      log.warn(`${group ? 'group' : 'user'} name refused for ${kind} backend lists`, {
        file: template,
        reason: path.reason,
      });
      throw new UserRefusedError(`name not usable in ${template}: ${path.reason}`);
    }
    const fileLog = log.child({ file: path.path });
    log.trace(
      'proxy.reverse',
      17,
      () => `loading ${group ? 'group' : 'user'}-specific ProxyReverseServers file '${path.path}'`,
    );
    const result = await readBackendFile(path.path, pool.fileOptions);
    if (!result.ok) {
      if (result.missing) fileLog.info(`no ${kind} backend list file`, { reason: result.reason });
      else fileLog.warn(`${kind} backend list file refused`, { reason: result.reason });
      continue;
    }
    logFileNotes(fileLog, result.skipped, result.ignoredItems);
    log.trace(
      'proxy.reverse',
      12,
      () => `created URIs (count ${result.backends.length}) from JSON file '${path.path}'`,
    );
    for (const backend of result.backends) {
      const refusal = urlPasswordRefusal(backend.url, pool.config.proxyAuth);
      if (refusal !== undefined) {
        // A per-user file is read at USER, before any password is checked: its entry is left out.
        fileLog.warn('backend list entry skipped', { item: backend.item, reason: refusal });
        continue;
      }
      found.push({ url: backend.url, key: backend.key, source: `file:${path.path}` });
    }
  }
  if (found.length > MAX_LISTED_BACKENDS) {
    log.warn(`${kind} backend lists name more than 1000 backends; the rest are ignored`, {
      backends: found.length,
    });
    found.length = MAX_LISTED_BACKENDS;
  }
  return found;
}

function logFileNotes(
  log: Logger,
  skipped: readonly { item: number; reason: string }[],
  ignored: number,
): void {
  for (const { item, reason } of skipped) log.warn('backend list entry skipped', { item, reason });
  if (ignored > 0) {
    log.warn(`backend list file has more than ${BACKEND_FILE_MAX_ITEMS} items; the rest are ignored`, {
      ignoredItems: ignored,
    });
  }
}
