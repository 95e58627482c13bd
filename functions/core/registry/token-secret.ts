import { createHash, randomBytes } from 'node:crypto';
import { constantTimeEqual } from './password-hash.js';

/**
 * API token secrets: `ftpx_` followed by 32 random bytes (base64url). Only the SHA-256 of a secret
 * is stored (`tokenHash`, hex). The token's id is the first 16 bytes of that hash (base64url, 22
 * characters): the item is keyed by it, so a presented secret is found with one GetItem on the
 * id of its hash, then the full stored hash is compared in constant time. The id reveals nothing
 * useful: it is part of a hash of 256 random bits.
 */
export const TOKEN_PREFIX = 'ftpx_';

const SECRET_BYTES = 32;
const SECRET_PATTERN = /^ftpx_[A-Za-z0-9_-]{43}$/;

export function generateTokenSecret(): string {
  return `${TOKEN_PREFIX}${randomBytes(SECRET_BYTES).toString('base64url')}`;
}

/** Whether a presented bearer token has the shape of an API token secret (before any lookup). */
export function looksLikeTokenSecret(text: string): boolean {
  return SECRET_PATTERN.test(text);
}

export function hashTokenSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** The token id for a stored hash (hex SHA-256 of the secret). */
export function tokenIdOfHash(tokenHash: string): string {
  return Buffer.from(tokenHash, 'hex').subarray(0, 16).toString('base64url');
}

export function tokenHashesEqual(a: string, b: string): boolean {
  return constantTimeEqual(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Shortest shared token accepted (bootstrap, edge, admin): 32 characters. Whoever reaches the port
 * may guess at it, so it must be out of reach of guessing even at the rate-limited pace; generate
 * one with `openssl rand -base64 32`.
 */
export const MIN_SHARED_TOKEN_LENGTH = 32;

/** Why a configured shared token is refused, or undefined when it is long enough. Names, never shows, it. */
export function sharedTokenProblem(name: string, token: string): string | undefined {
  if (token.length >= MIN_SHARED_TOKEN_LENGTH) return undefined;
  return `${name} must be at least ${MIN_SHARED_TOKEN_LENGTH} characters (got ${token.length}); generate one with: openssl rand -base64 32`;
}
