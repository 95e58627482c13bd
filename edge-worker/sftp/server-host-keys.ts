import type { ControlPlaneClient } from '../control-plane/control-plane-client.js';

/** A backend host key as kept for ProxySFTPVerifyServer. */
export interface StoredHostKey {
  /** The key in SSH wire form. */
  key: Buffer;
  /** Set through the registration API: a mismatch is always refused, whatever the mode. */
  pinned: boolean;
}

/** Where backend host keys are kept, per pool and backend (the store, through the control plane). */
export interface ServerHostKeys {
  get(pool: string, backend: string): Promise<StoredHostKey | undefined>;
  /**
   * Records `key` where none is stored (trust on first use), or replaces an unpinned one with
   * `replace`; answers with the key stored afterwards, which differs from `key` when another
   * worker recorded a different key first or an operator pinned one.
   */
  put(pool: string, backend: string, key: Buffer, options?: { replace?: boolean }): Promise<StoredHostKey>;
}

/** Host keys kept in this process only (tests, and a worker without a store). */
export class MemoryServerHostKeys implements ServerHostKeys {
  private readonly keys = new Map<string, StoredHostKey>();

  async get(pool: string, backend: string): Promise<StoredHostKey | undefined> {
    return this.keys.get(`${pool}\n${backend}`);
  }

  async put(
    pool: string,
    backend: string,
    key: Buffer,
    options: { replace?: boolean } = {},
  ): Promise<StoredHostKey> {
    const name = `${pool}\n${backend}`;
    const stored = this.keys.get(name);
    if (stored && (stored.pinned || !options.replace)) return stored;
    const recorded = { key, pinned: false };
    this.keys.set(name, recorded);
    return recorded;
  }
}

/** Host keys kept in the store, through the control plane (shared by every edge worker). */
export class ControlPlaneServerHostKeys implements ServerHostKeys {
  constructor(private readonly controlPlane: Required<Pick<ControlPlaneClient, 'sshHostKey'>>) {}

  async get(pool: string, backend: string): Promise<StoredHostKey | undefined> {
    const answer = await this.controlPlane.sshHostKey({ op: 'get', pool, backend });
    return answer.key === undefined
      ? undefined
      : { key: Buffer.from(answer.key, 'base64'), pinned: answer.pinned };
  }

  async put(
    pool: string,
    backend: string,
    key: Buffer,
    options: { replace?: boolean } = {},
  ): Promise<StoredHostKey> {
    const answer = await this.controlPlane.sshHostKey({
      op: 'put',
      pool,
      backend,
      key: key.toString('base64'),
      ...(options.replace ? { replace: true } : {}),
    });
    // An answer without a key comes from a control plane older than the answer's contract: what
    // it stored is not known, so the key is not trusted.
    if (answer.key === undefined) throw new Error('the control plane did not say which host key it stored');
    return { key: Buffer.from(answer.key, 'base64'), pinned: answer.pinned };
  }
}

/** The store's host keys when the control plane has the operation, else this process's memory. */
export function serverHostKeysFor(controlPlane: ControlPlaneClient): ServerHostKeys {
  const sshHostKey = controlPlane.sshHostKey?.bind(controlPlane);
  return sshHostKey ? new ControlPlaneServerHostKeys({ sshHostKey }) : new MemoryServerHostKeys();
}
