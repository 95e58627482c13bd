/** The public surface of functions/core/ocsp/: import from here, not from its files (docs/layers.md). */

export { type CertificateFields, certificateFields } from './certificate-fields.js';
export { children, contextTag, decode, readSmallInteger, TAG } from './der.js';
export { freshnessOf } from './freshness.js';
export { type CachedOcspResponse, obtainOcspResponse } from './obtain-response.js';
export { fakeTryLaterResponse } from './ocsp-message.js';
