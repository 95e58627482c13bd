import type { Item } from '../attributes.js';
import { RegistryError } from './registry-error.js';

/**
 * List cursors: the key of the last item a page evaluated (DynamoDB's LastEvaluatedKey), as
 * base64url JSON. Opaque to clients; checked on the way back in, so a cursor only continues the
 * list it came from (same partition, same kind of item): a cursor from pool A's list cannot be
 * used to read pool B.
 */
export interface PageKey {
  pk: string;
  sk: string;
}

export function encodeCursor(key: PageKey): string {
  return Buffer.from(JSON.stringify([key.pk, key.sk]), 'utf8').toString('base64url');
}

export function cursorFromLastKey(lastKey: Item | undefined): string | undefined {
  const pk = lastKey?.pk;
  const sk = lastKey?.sk;
  if (!pk || !sk || !('S' in pk) || !('S' in sk) || pk.S === undefined || sk.S === undefined)
    return undefined;
  return encodeCursor({ pk: pk.S, sk: sk.S });
}

/** The key a cursor continues after; `invalid_cursor` unless it belongs to the list `pk`/`prefix`. */
export function decodeCursor(cursor: string, list: { pk: string; prefix: string }): PageKey {
  let decoded: unknown;
  try {
    decoded = /^[A-Za-z0-9_-]+$/.test(cursor)
      ? JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
      : undefined;
  } catch {
    decoded = undefined;
  }
  if (
    !Array.isArray(decoded) ||
    decoded.length !== 2 ||
    decoded[0] !== list.pk ||
    typeof decoded[1] !== 'string' ||
    !decoded[1].startsWith(list.prefix)
  ) {
    throw new RegistryError('invalid_cursor', 'not a cursor of this list');
  }
  return { pk: decoded[0], sk: decoded[1] };
}
