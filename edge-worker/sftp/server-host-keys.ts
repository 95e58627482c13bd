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
  put(pool: string, backend: string, key: Buffer): Promise<void>;
}

/** Host keys kept in this process only (tests, and a worker without a store). */
export class MemoryServerHostKeys implements ServerHostKeys {
  private readonly keys = new Map<string, StoredHostKey>();

  async get(pool: string, backend: string): Promise<StoredHostKey | undefined> {
    return this.keys.get(`${pool}\n${backend}`);
  }

  async put(pool: string, backend: string, key: Buffer): Promise<void> {
    this.keys.set(`${pool}\n${backend}`, { key, pinned: false });
  }
}
