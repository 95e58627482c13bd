import { type BackendUrl, backendKey, parseBackendUrl } from '../../functions/shared/backend-url.js';
import type { PoolConfig } from '../config/schema.js';

/** A pool as sessions use it: its configuration plus the parsed backends and their credential-free keys. */
export interface Pool {
  config: PoolConfig;
  backends: BackendUrl[];
  /** What the control plane sees of each backend: `ftp://host:port`, no credentials. */
  keys: string[];
}

export function buildPool(config: PoolConfig): Pool {
  const backends = config.backends.map((text) => {
    const parsed = parseBackendUrl(text);
    // The config schema validated every URL already; this guards against a caller that skipped it.
    if (!parsed.ok) throw new Error(parsed.error);
    return parsed.url;
  });
  return { config, backends, keys: backends.map(backendKey) };
}
