import { createHash } from 'node:crypto';
import { access } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { BackendUrl } from '../../functions/shared/backend-url.js';
import type { PoolConfig } from '../config/schema.js';
import { defaultSftpPool, type SftpPoolConfig } from '../config/sftp-schema.js';
import type { Logger } from '../log/logger.js';
import { perUserPath } from '../reverse/backend-source.js';
import { ssh2Algorithms } from './algorithms.js';
import { BackendSsh } from './backend-ssh-client.js';
import { type LoadedKey, loadPrivateKey, loadPrivateKeys } from './host-keys.js';
import type { ServerHostKeys } from './server-host-keys.js';

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

  private constructor(
    private readonly pool: PoolConfig,
    private readonly settings: SftpPoolConfig,
    private readonly hostbasedKeys: LoadedKey[],
    private readonly hostKeys: ServerHostKeys | undefined,
  ) {
    this.hostbasedHostname = settings.hostbasedHostname ?? hostname();
  }

  static async create(pool: PoolConfig, hostKeys: ServerHostKeys | undefined): Promise<BackendConnector> {
    const settings = pool.sftp ?? defaultSftpPool();
    const keys = await loadPrivateKeys(settings.hostKeys, {
      provider: settings.passPhraseProvider,
      server: `pool:${pool.name}`,
    });
    return new BackendConnector(pool, settings, keys, hostKeys);
  }

  connect(
    url: BackendUrl,
    key: string,
    log: Logger,
    onBanner?: (message: string) => void,
  ): Promise<BackendSsh> {
    const { settings } = this;
    const alive = settings.serverAlive;
    const verify = this.hostKeys && this.hostKeyCheck(key, log);
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
      ...(onBanner ? { onBanner } : {}),
      ...(verify ? { verifyHostKey: verify } : {}),
    }).connect();
  }

  /** ProxySFTPVerifyServer: trust on first use, then compare with the stored key. */
  private hostKeyCheck(backendKey: string, log: Logger): (key: Buffer) => Promise<boolean> {
    const store = this.hostKeys as ServerHostKeys;
    const mode = this.settings.verifyServer;
    return async (key) => {
      const fingerprint = `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
      const stored = await store.get(this.pool.name, backendKey);
      if (!stored) {
        await store.put(this.pool.name, backendKey, key);
        log.info('backend host key stored (first use)', { backend: backendKey, fingerprint });
        return true;
      }
      if (stored.key.equals(key)) return true;
      if (stored.pinned || mode === 'enforce') {
        log.error('backend host key mismatch: connection refused', {
          backend: backendKey,
          fingerprint,
          ...(stored.pinned ? { pinned: true } : {}),
        });
        return false;
      }
      if (mode === 'on') {
        log.warn('backend host key mismatch (ProxySFTPVerifyServer on: logged only)', {
          backend: backendKey,
          fingerprint,
        });
        return true;
      }
      await store.put(this.pool.name, backendKey, key);
      log.info('backend host key changed and replaced (ProxySFTPVerifyServer off)', {
        backend: backendKey,
        fingerprint,
      });
      return true;
    };
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

function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
