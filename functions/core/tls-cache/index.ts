/** The public surface of functions/core/tls-cache/: import from here, not from its files (docs/layers.md). */

export { cacheInfo, clearCache, removeCache, TlsCacheRequestError } from './admin.js';
export { handleTlsCache } from './handle.js';
