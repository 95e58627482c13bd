import { createHash } from 'node:crypto';
import { access } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { BackendUrl } from '../../functions/core/backend-url.js';
import type { PoolConfig } from '../config/schema.js';
import { defaultSftpPool, type SftpPoolConfig } from '../config/sftp-schema.js';
import type { Logger } from '../log/logger.js';
import { sshTraceDebug } from '../log/ssh-trace.js';
import { perUserPath } from '../reverse/backend-source.js';
import { ssh2Algorithms } from './algorithms.js';
import { BackendSsh } from './backend-ssh-client.js';
import { type LoadedKey, loadPrivateKey, loadPrivateKeys } from './host-keys.js';
import { MemoryServerHostKeys, type ServerHostKeys } from './server-host-keys.js';

/** How a verified frontend public key logs in to the backend. */
export type KeyLogin = { kind: 'mapping' | 'hostbased'; key: LoadedKey };

/** The software version ftpx announces to backends. */
export const CLIENT_IDENT = 'ftpx';

/**
 * The backend SSH side of one pool: its algorithms (ProxySFTPCiphers, ...), keepalives
 * (ProxySFTPServerAlive), the proxy's hostbased keys (ProxySFTPHostKey), per-user mapping keys and
 * the backend host key check (ProxySFTPVerifyServer).
 */
export class BackendConnector {
  readonly hostbasedHostname: string;
  /** ProxySFTPOptions NoExtensionNegotiation / NoStrictKex, when either is set. */
  private readonly leaveOut: { extensionNegotiation: boolean; strictKex: boolean } | undefined;

  private constructor(
    private readonly pool: PoolConfig,
    private readonly settings: SftpPoolConfig,
    private readonly hostbasedKeys: LoadedKey[],
    private readonly hostKeys: ServerHostKeys,
  ) {
    this.hostbasedHostname = settings.hostbasedHostname ?? hostname();
    const extensionNegotiation = settings.options.includes('NoExtensionNegotiation');
    const strictKex = settings.options.includes('NoStrictKex');
    this.leaveOut = extensionNegotiation || strictKex ? { extensionNegotiation, strictKex } : undefined;
  }

  static async create(pool: PoolConfig, hostKeys: ServerHostKeys | undefined): Promise<BackendConnector> {
    const settings = pool.sftp ?? defaultSftpPool();
    const keys = await loadPrivateKeys(settings.hostKeys, {
      provider: settings.passPhraseProvider,
      server: `pool:${pool.name}`,
    });
    // Without a store (a worker built without one), this process remembers: never no check at all.
    return new BackendConnector(pool, settings, keys, hostKeys ?? new MemoryServerHostKeys());
  }

  connect(
    url: BackendUrl,
    key: string,
    log: Logger,
    onBanner?: (message: string) => void,
    onHostKeyRefused?: () => void,
    prelude?: (backendAddress: string) => Buffer | undefined,
  ): Promise<BackendSsh> {
    const { settings } = this;
    const alive = settings.serverAlive;
    const verify = this.hostKeyCheck(key, log, onHostKeyRefused);
    return new BackendSsh(url, {
      timeoutMs: this.pool.connectTimeout,
      sourceAddress: this.pool.sourceAddress,
      algorithms: ssh2Algorithms({
        ciphers: settings.ciphers,
        digests: settings.digests,
        keyExchanges: settings.keyExchanges,
        hostKeyAlgorithms: settings.hostKeyAlgorithms,
        compression: settings.compression,
        allowWeakDh: settings.options.includes('AllowWeakDH'),
      }),
      ...(alive && alive.interval > 0
        ? { keepaliveInterval: alive.interval * 1000, keepaliveCountMax: alive.count }
        : {}),
      ident: CLIENT_IDENT,
      onRekey: () => log.debug('backend rekeyed', { backend: key }),
      debug: sshTraceDebug(log, 'client'),
      ...(onBanner ? { onBanner } : {}),
      verifyHostKey: verify,
      ...(prelude ? { prelude } : {}),
      ...(this.leaveOut ? { leaveOut: this.leaveOut } : {}),
    }).connect();
  }

  /**
   * ProxySFTPVerifyServer: trust on first use, then compare with the stored key. A changed key is
   * refused (before any credentials go out) unless the pool says `verifyServer: off`; a pinned key
   * is never replaced. Any failure to read or record the key refuses too.
   */
  private hostKeyCheck(
    backendKey: string,
    log: Logger,
    onRefused: (() => void) | undefined,
  ): (key: Buffer) => Promise<boolean> {
    const store = this.hostKeys;
    const pool = this.pool.name;
    const mode = this.settings.verifyServer;
    const refuse = (event: string, fields: Record<string, unknown>) => {
      log.error(event, { backend: backendKey, verifyServer: mode, ...fields });
      // Only a key that differs from the recorded one is the client's business (a store failure is not).
      if (fields.fingerprint !== undefined) onRefused?.();
      return false;
    };
    const check = async (key: Buffer): Promise<boolean> => {
      const fingerprint = fingerprintOf(key);
      let stored = await store.get(pool, backendKey);
      if (!stored) {
        stored = await store.put(pool, backendKey, key);
        if (stored.key.equals(key)) {
          log.info('backend host key stored (first use)', { backend: backendKey, fingerprint });
          return true;
        }
        // Another worker recorded a different first key meanwhile: judged like a change.
      }
      if (stored.key.equals(key)) return true;
      const expected = fingerprintOf(stored.key);
      if (stored.pinned || mode !== 'off') {
        return refuse('backend host key mismatch: connection refused', {
          fingerprint,
          expected,
          ...(stored.pinned ? { pinned: true } : {}),
        });
      }
      const replaced = await store.put(pool, backendKey, key, { replace: true });
      if (!replaced.key.equals(key)) {
        return refuse('backend host key mismatch: connection refused', {
          fingerprint,
          expected,
          pinned: true,
        });
      }
      log.warn('backend host key changed and replaced (ProxySFTPVerifyServer off)', {
        backend: backendKey,
        fingerprint,
        previous: expected,
      });
      return true;
    };
    return (key) =>
      check(key).catch((err: unknown) =>
        refuse('backend host key check failed: connection refused', { error: err }),
      );
  }

  /** The mapping key of `user` when there is one, else the first hostbased key, else undefined. */
  async keyLoginFor(user: string): Promise<KeyLogin | undefined> {
    const template = this.settings.mappingKeys;
    if (template !== undefined) {
      const path = perUserPath(template.split('%u').join('%U'), user);
      if (path.ok && (await exists(path.path))) {
        const key = await loadPrivateKey(path.path, {
          provider: this.settings.passPhraseProvider,
          server: `pool:${this.pool.name}`,
        });
        return { kind: 'mapping', key };
      }
    }
    const hostKey = this.hostbasedKeys[0];
    return hostKey ? { kind: 'hostbased', key: hostKey } : undefined;
  }
}

/** OpenSSH's SHA256 fingerprint of a key in wire form, as `ssh-keygen -lf` prints it. */
export function fingerprintOf(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
