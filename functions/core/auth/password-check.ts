import { randomBytes } from 'node:crypto';
import {
  formatPasswordHash,
  PASSWORD_HASH_DEFAULTS,
  parsePasswordHash,
  verifyPassword,
} from '../registry/index.js';
import { MAX_ACCEPTED_BCRYPT_COST } from './bcrypt-hash.js';
import { type HashFormat, hashFormat, MAX_ACCEPTED_SHA_ROUNDS, verifyCrypt } from './crypt.js';

/** The result of checking a password against a stored hash. */
export interface PasswordCheck {
  outcome: 'match' | 'mismatch' | 'unsupported';
  format: HashFormat;
  /** For `unsupported`: why, for the log (never shown to the client). */
  detail?: string;
}

/**
 * A scrypt hash with the default parameters and random bytes: verifying a password against it
 * costs what verifying a real proxy user's password costs, and never matches (nothing hashes to
 * random bytes). Built without deriving anything, once per process.
 */
let dummyHash: string | undefined;

function dummy(): string {
  dummyHash ??= formatPasswordHash({
    N: PASSWORD_HASH_DEFAULTS.N,
    r: PASSWORD_HASH_DEFAULTS.r,
    p: PASSWORD_HASH_DEFAULTS.p,
    salt: randomBytes(PASSWORD_HASH_DEFAULTS.saltBytes),
    hash: randomBytes(PASSWORD_HASH_DEFAULTS.keyBytes),
  });
  return dummyHash;
}

/**
 * Does the work of one scrypt verification and throws the result away: for unknown users,
 * unverifiable hashes and public keys, so that a refusal takes as long as a wrong password for a
 * real user (no user enumeration by timing).
 */
export async function spendVerificationTime(password: string): Promise<void> {
  await verifyPassword(password, dummy());
}

/**
 * Checks `password` against a stored proxy-user hash: scrypt (`scrypt$...`, password-hash.ts) or
 * crypt(3) `$1$` / `$5$` / `$6$` / bcrypt `$2a$` `$2b$` `$2y$` (crypt.ts). Any other format is `unsupported` (after the same work
 * as a verification), with the reason in `detail`.
 */
export async function checkPassword(password: string, stored: string): Promise<PasswordCheck> {
  const format = hashFormat(stored);
  if (format === 'scrypt') {
    // verifyPassword answers false for a malformed value too: tell the two apart for the log.
    const match = await verifyPassword(password, stored);
    if (match) return { outcome: 'match', format };
    return parsePasswordHash(stored)
      ? { outcome: 'mismatch', format }
      : { outcome: 'unsupported', format, detail: 'the stored scrypt hash is malformed' };
  }
  if (
    format === 'md5-crypt' ||
    format === 'sha256-crypt' ||
    format === 'sha512-crypt' ||
    format === 'bcrypt'
  ) {
    const match = await verifyCrypt(password, stored);
    if (match !== undefined) return { outcome: match ? 'match' : 'mismatch', format };
    await spendVerificationTime(password);
    return {
      outcome: 'unsupported',
      format,
      detail:
        format === 'bcrypt'
          ? `the stored bcrypt hash is malformed, is $2x$ (crypt_blowfish's buggy variant), or asks for a cost above ${MAX_ACCEPTED_BCRYPT_COST}`
          : `the stored ${format} hash is malformed or asks for more than ${MAX_ACCEPTED_SHA_ROUNDS} rounds`,
    };
  }
  await spendVerificationTime(password);
  return { outcome: 'unsupported', format, detail: unsupportedDetail(format) };
}

function unsupportedDetail(format: HashFormat): string {
  switch (format) {
    case 'locked':
      return 'the account is locked (its hash starts with "!" or "*")';
    case 'empty':
      return 'the account has no password hash';
    case 'unknown':
      return 'the password hash format is not recognised';
    case 'yescrypt':
      return 'the password hash format yescrypt ($y$) is not supported: no maintained JavaScript implementation verifies it (supported: scrypt, md5-crypt $1$, sha256-crypt $5$, sha512-crypt $6$, bcrypt $2a$/$2b$/$2y$); set a new password through the registry API, or re-hash the user with mkpasswd -m sha-512 or -m bcrypt';
    default:
      return `the password hash format ${format} is not supported (supported: scrypt, md5-crypt $1$, sha256-crypt $5$, sha512-crypt $6$, bcrypt $2a$/$2b$/$2y$); set a new password through the registry API`;
  }
}
