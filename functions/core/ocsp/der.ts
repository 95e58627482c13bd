/** The DER reader moved to functions/core/der.ts; the OCSP module's files and tests import it here. */

export type { DerNode } from '../der.js';
export {
  children,
  contextTag,
  DerError,
  decode,
  encode,
  enumerated,
  expectTag,
  explicit,
  nullValue,
  octetString,
  oid,
  readBitStringBytes,
  readElement,
  readOid,
  readSmallInteger,
  readTime,
  sequence,
  TAG,
  unsignedInteger,
  unwrapExplicit,
} from '../der.js';
