import { randomBytes, type ScryptOptions, timingSafeEqual } from 'node:crypto';
import { passwordPool } from '../password-pool.js';

/**
 * Password hashes for proxy users: scrypt, stored in a self-describing string
 * `scrypt$<N>$<r>$<p>$<salt>$<hash>` (salt and hash base64url, unpadded), so the cost can be raised
 * later without breaking stored hashes: each hash is verified with the parameters it names.
 */
export const PASSWORD_HASH_DEFAULTS = { N: 2 ** 15, r: 8, p: 1, saltBytes: 16, keyBytes: 32 } as const;

export interface ParsedPasswordHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

/** Bounds on what a stored hash may ask for, so a corrupt or hostile value cannot exhaust memory. */
const LIMITS = { maxN: 2 ** 20, maxR: 32, maxP: 16, minKey: 16, maxKey: 64, minSalt: 8, maxSalt: 64 };

export async function hashPassword(
  plain: string,
  params: { N: number; r: number; p: number } = PASSWORD_HASH_DEFAULTS,
): Promise<string> {
  const salt = randomBytes(PASSWORD_HASH_DEFAULTS.saltBytes);
  const hash = await derive(plain, salt, PASSWORD_HASH_DEFAULTS.keyBytes, params);
  return formatPasswordHash({ ...params, salt, hash });
}

/** Whether `plain` is the password `stored` was made from. False for a malformed stored value. */
export async function verifyPassword(plain: string, stored: string): Promise<boolean> {
  const parsed = parsePasswordHash(stored);
  if (!parsed) return false;
  const candidate = await derive(plain, parsed.salt, parsed.hash.length, parsed);
  return constantTimeEqual(candidate, parsed.hash);
}

/** Compares two byte strings in time that depends only on their lengths. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) {
    // Still do the work of a comparison, so a wrong length costs as long as a wrong value.
    timingSafeEqual(a, a);
    return false;
  }
  return timingSafeEqual(a, b);
}

export function formatPasswordHash(parsed: ParsedPasswordHash): string {
  return [
    'scrypt',
    parsed.N,
    parsed.r,
    parsed.p,
    parsed.salt.toString('base64url'),
    parsed.hash.toString('base64url'),
  ].join('$');
}

/** The parts of a stored hash, or undefined when it is not one this module can verify. */
export function parsePasswordHash(stored: string): ParsedPasswordHash | undefined {
  const fields = stored.split('$');
  if (fields.length !== 6 || fields[0] !== 'scrypt') return undefined;
  const [N, r, p] = fields.slice(1, 4).map((field) => (/^[1-9]\d{0,7}$/.test(field) ? Number(field) : NaN));
  if (N === undefined || r === undefined || p === undefined) return undefined;
  if (!(N > 1 && N <= LIMITS.maxN && (N & (N - 1)) === 0)) return undefined;
  if (!(r >= 1 && r <= LIMITS.maxR && p >= 1 && p <= LIMITS.maxP)) return undefined;
  const salt = decode(fields[4]);
  const hash = decode(fields[5]);
  if (!salt || salt.length < LIMITS.minSalt || salt.length > LIMITS.maxSalt) return undefined;
  if (!hash || hash.length < LIMITS.minKey || hash.length > LIMITS.maxKey) return undefined;
  return { N, r, p, salt, hash };
}

function decode(text: string | undefined): Buffer | undefined {
  if (text === undefined || !/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  return Buffer.from(text, 'base64url');
}

function derive(
  plain: string,
  salt: Buffer,
  keyBytes: number,
  params: { N: number; r: number; p: number },
): Promise<Buffer> {
  const options: ScryptOptions = {
    N: params.N,
    r: params.r,
    p: params.p,
    // scrypt needs about 128 * N * r bytes; Node refuses above maxmem (32 MiB by default).
    maxmem: 256 * params.N * params.r + 1024 * 1024,
  };
  // On threads of its own, not the libuv pool DNS and file reads share (password-pool.ts).
  return passwordPool().derive(plain, salt, keyBytes, {
    N: params.N,
    r: params.r,
    p: params.p,
    maxmem: options.maxmem as number,
  });
}
