import { createHash, timingSafeEqual } from 'node:crypto';
import { passwordPool } from '../password-pool.js';
import { verifyBcrypt } from './bcrypt-hash.js';

/**
 * crypt(3) password hashes as found in ProFTPD AuthUserFile files (and /etc/shadow), verified in
 * TypeScript so that imported users keep their hashes:
 *
 * - `$1$salt$hash`: MD5-crypt, Poul-Henning Kamp's FreeBSD algorithm (1000 fixed rounds, salt of at
 *   most 8 characters);
 * - `$5$[rounds=N$]salt$hash` and `$6$[rounds=N$]salt$hash`: SHA-256-crypt and SHA-512-crypt, as
 *   specified in Ulrich Drepper's "Unix crypt using SHA-256 and SHA-512" (salt of at most 16
 *   characters, 5000 rounds unless `rounds=` says otherwise, clamped to [1000, 999999999]).
 *
 * bcrypt (`$2a$`, `$2b$`, `$2y$`) is verified by bcryptjs (bcrypt-hash.ts). Not supported
 * (identified, then refused with the format named in the log): traditional DES crypt (13
 * characters), bcrypt `$2x$`, yescrypt (`$y$`, the default of recent Debian and Ubuntu: no maintained
 * JavaScript implementation of crypt's yescrypt exists), scrypt-crypt (`$7$`), Sun MD5 (`$md5`),
 * argon2 and anything else.
 *
 * Why these three are hand-written (issue 20): no maintained npm package verifies them all.
 * sha512crypt-node does `$6$` only (three releases, one maintainer), unix-crypt-td-js is DES crypt,
 * apache-md5 is Apache's `$apr1$`, bcryptjs and @node-rs/bcrypt are bcrypt only. The code is checked
 * against the specification's vectors and openssl passwd -1/-5/-6 (crypt.test.ts).
 *
 * The SHA-crypt rounds (thousands of hashes per check) run on the password pool's threads
 * (password-pool.ts), so a sprayer's guesses verified inside an edge worker (embedded mode) do not
 * stall the sessions it serves; MD5-crypt's fixed 1000 rounds (about a millisecond) stay inline.
 */

export type CryptFormat = 'md5-crypt' | 'sha256-crypt' | 'sha512-crypt' | 'bcrypt';

/** What a stored password hash is, as far as ftpx can tell from its prefix. */
export type HashFormat =
  | 'scrypt'
  | CryptFormat
  | 'des-crypt'
  | 'bcrypt'
  | 'yescrypt'
  | 'scrypt-crypt'
  | 'sun-md5-crypt'
  | 'argon2'
  | 'locked'
  | 'empty'
  | 'unknown';

/** Formats this module (or password-hash.ts, for scrypt) can verify. */
export const SUPPORTED_HASH_FORMATS: readonly HashFormat[] = [
  'scrypt',
  'md5-crypt',
  'sha256-crypt',
  'sha512-crypt',
  'bcrypt',
];

const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** SHA-crypt round limits from the specification. */
export const SHA_CRYPT_ROUNDS = { default: 5000, min: 1000, max: 999_999_999 } as const;

/**
 * Most rounds a stored SHA-crypt hash may ask for before it is refused: a corrupt or hostile value
 * must not tie a function up for minutes (a round costs about 3 µs here, so 1 000 000 rounds take
 * about 3 s). Above common choices: 5000 (glibc, openssl), 535 000 / 656 000 (passlib).
 */
export const MAX_ACCEPTED_SHA_ROUNDS = 1_000_000;

export function hashFormat(stored: string): HashFormat {
  if (stored === '') return 'empty';
  if (stored.startsWith('scrypt$')) return 'scrypt';
  if (stored.startsWith('$1$')) return 'md5-crypt';
  if (stored.startsWith('$5$')) return 'sha256-crypt';
  if (stored.startsWith('$6$')) return 'sha512-crypt';
  if (/^\$2[abxy]?\$/.test(stored)) return 'bcrypt';
  if (stored.startsWith('$y$') || stored.startsWith('$gy$')) return 'yescrypt';
  if (stored.startsWith('$7$')) return 'scrypt-crypt';
  if (stored.startsWith('$md5')) return 'sun-md5-crypt';
  if (stored.startsWith('$argon2')) return 'argon2';
  if (stored.startsWith('!') || stored.startsWith('*')) return 'locked';
  if (/^[./0-9A-Za-z]{13}$/.test(stored)) return 'des-crypt';
  return 'unknown';
}

/**
 * Compares two strings in time that depends on neither their contents nor their lengths: both are
 * reduced to SHA-256 digests first, and the digests compared with timingSafeEqual.
 */
export function constantTimeStringEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  // Equal digests of different strings would need a SHA-256 collision.
  return timingSafeEqual(da, db);
}

/**
 * Whether `password` matches the crypt(3) hash `stored` (`$1$`, `$5$`, `$6$` or bcrypt); undefined
 * when `stored` is not one of those, is malformed, or asks for more than MAX_ACCEPTED_SHA_ROUNDS
 * (MAX_ACCEPTED_BCRYPT_COST).
 */
export async function verifyCrypt(password: string, stored: string): Promise<boolean | undefined> {
  let computed: string | undefined;
  switch (hashFormat(stored)) {
    case 'md5-crypt':
      computed = md5Crypt(password, stored);
      break;
    case 'sha256-crypt':
      computed = await sha256Crypt(password, stored);
      break;
    case 'sha512-crypt':
      computed = await sha512Crypt(password, stored);
      break;
    case 'bcrypt':
      return verifyBcrypt(password, stored);
    default:
      return undefined;
  }
  if (computed === undefined) return undefined;
  return constantTimeStringEqual(computed, stored);
}

/**
 * MD5-crypt of `password` with the salt of `setting` (`$1$salt`, `$1$salt$` or a whole stored
 * hash). Undefined when `setting` does not start with `$1$`.
 */
export function md5Crypt(password: string, setting: string): string | undefined {
  const magic = '$1$';
  if (!setting.startsWith(magic)) return undefined;
  const rest = setting.slice(magic.length);
  const end = rest.indexOf('$');
  const saltText = (end >= 0 ? rest.slice(0, end) : rest).slice(0, 8);
  const pw = Buffer.from(password, 'utf8');
  const salt = Buffer.from(saltText, 'utf8');

  const alternate = md5(pw, salt, pw);
  const context = createHash('md5').update(pw).update(magic).update(salt);
  for (let left = pw.length; left > 0; left -= 16) context.update(alternate.subarray(0, Math.min(16, left)));
  // The odd part of the original: a zero byte for each set bit of the length, else the first byte.
  const zero = Buffer.alloc(1);
  const first = pw.subarray(0, 1);
  for (let bits = pw.length; bits > 0; bits >>= 1) context.update(bits & 1 ? zero : first);
  let digest = context.digest();

  for (let round = 0; round < 1000; round++) {
    const step = createHash('md5');
    step.update(round & 1 ? pw : digest);
    if (round % 3 !== 0) step.update(salt);
    if (round % 7 !== 0) step.update(pw);
    step.update(round & 1 ? digest : pw);
    digest = step.digest();
  }

  const d = digest;
  const encoded =
    to64((at(d, 0) << 16) | (at(d, 6) << 8) | at(d, 12), 4) +
    to64((at(d, 1) << 16) | (at(d, 7) << 8) | at(d, 13), 4) +
    to64((at(d, 2) << 16) | (at(d, 8) << 8) | at(d, 14), 4) +
    to64((at(d, 3) << 16) | (at(d, 9) << 8) | at(d, 15), 4) +
    to64((at(d, 4) << 16) | (at(d, 10) << 8) | at(d, 5), 4) +
    to64(at(d, 11), 2);
  return `${magic}${saltText}$${encoded}`;
}

/** SHA-256-crypt of `password` under `setting` (`$5$[rounds=N$]salt`, or a whole stored hash). */
export function sha256Crypt(password: string, setting: string): Promise<string | undefined> {
  return shaCrypt(SHA256, password, setting);
}

/** SHA-512-crypt of `password` under `setting` (`$6$[rounds=N$]salt`, or a whole stored hash). */
export function sha512Crypt(password: string, setting: string): Promise<string | undefined> {
  return shaCrypt(SHA512, password, setting);
}

export interface ShaCryptSetting {
  rounds: number;
  /** Whether the setting named its rounds: then the result names them too (even 5000). */
  roundsCustom: boolean;
  salt: string;
}

interface ShaVariant {
  magic: '$5$' | '$6$';
  algorithm: 'sha256' | 'sha512';
  size: number;
  /** The digest's bytes, three at a time (most significant first), as the output encodes them. */
  groups: readonly (readonly [number, number, number])[];
  /** The bytes left over, encoded into `tailChars` characters. */
  tail: readonly [number, number, number];
  tailChars: number;
}

/**
 * The specification's byte order for the output: byte i goes with bytes i + n and i + 2n (n = 10
 * for SHA-256, 21 for SHA-512), the three rotated by one place at each step: SHA-256 rotates them
 * to the right (x y z, z x y, y z x), SHA-512 to the left (x y z, y z x, z x y).
 */
function permutation(n: number, direction: 'right' | 'left'): [number, number, number][] {
  const groups: [number, number, number][] = [];
  for (let i = 0; i < n; i++) {
    const x = i;
    const y = i + n;
    const z = i + 2 * n;
    const step = direction === 'right' ? i % 3 : (3 - (i % 3)) % 3;
    groups.push(step === 0 ? [x, y, z] : step === 1 ? [z, x, y] : [y, z, x]);
  }
  return groups;
}

const SHA256: ShaVariant = {
  magic: '$5$',
  algorithm: 'sha256',
  size: 32,
  groups: permutation(10, 'right'),
  tail: [-1, 31, 30],
  tailChars: 3,
};

const SHA512: ShaVariant = {
  magic: '$6$',
  algorithm: 'sha512',
  size: 64,
  groups: permutation(21, 'left'),
  tail: [-1, -1, 63],
  tailChars: 2,
};

/**
 * The rounds and salt of a SHA-crypt setting (after its `$5$` / `$6$`): `rounds=<decimal>$` is
 * optional; the salt runs to the next `$` (or the end), at most 16 characters. Undefined when a
 * `rounds=` part is not a decimal number followed by `$`.
 */
export function parseShaCryptSetting(afterMagic: string): ShaCryptSetting | undefined {
  let rest = afterMagic;
  let rounds: number = SHA_CRYPT_ROUNDS.default;
  let roundsCustom = false;
  if (rest.startsWith('rounds=')) {
    const match = /^rounds=(\d{1,10})\$/.exec(rest);
    if (!match?.[1]) return undefined;
    rounds = Math.min(SHA_CRYPT_ROUNDS.max, Math.max(SHA_CRYPT_ROUNDS.min, Number(match[1])));
    roundsCustom = true;
    rest = rest.slice(match[0].length);
  }
  const end = rest.indexOf('$');
  const salt = (end >= 0 ? rest.slice(0, end) : rest).slice(0, 16);
  return { rounds, roundsCustom, salt };
}

async function shaCrypt(variant: ShaVariant, password: string, setting: string): Promise<string | undefined> {
  if (!setting.startsWith(variant.magic)) return undefined;
  const parsed = parseShaCryptSetting(setting.slice(variant.magic.length));
  if (!parsed || parsed.rounds > MAX_ACCEPTED_SHA_ROUNDS) return undefined;
  const { rounds, salt: saltText } = parsed;
  const hash = () => createHash(variant.algorithm);
  const size = variant.size;
  const p = Buffer.from(password, 'utf8');
  const s = Buffer.from(saltText, 'utf8');

  // Digest B: password, salt, password.
  const b = hash().update(p).update(s).update(p).digest();

  // Digest A: password, salt, B once per whole block of the password's length plus what is left,
  // then for each bit of the length (lowest first) B for a one and the password for a zero.
  const a = hash().update(p).update(s);
  let left = p.length;
  for (; left > size; left -= size) a.update(b);
  a.update(b.subarray(0, left));
  for (let bits = p.length; bits > 0; bits >>= 1) a.update(bits & 1 ? b : p);
  let c: Buffer = a.digest();

  // Byte sequence P: the digest of the password repeated once per byte of it, cut to its length.
  const dp = hash();
  for (let i = 0; i < p.length; i++) dp.update(p);
  const pSeq = repeatTo(dp.digest(), p.length);

  // Byte sequence S: the digest of the salt repeated 16 + A[0] times, cut to the salt's length.
  const ds = hash();
  for (let i = 0; i < 16 + at(c, 0); i++) ds.update(s);
  const sSeq = repeatTo(ds.digest(), s.length);

  // Step 21, the costly part: on a pool thread (bounded, refused when busy), not the event loop.
  c = await passwordPool().shaCryptRounds(variant.algorithm, c, pSeq, sSeq, rounds);

  let encoded = '';
  for (const [x, y, z] of variant.groups) encoded += to64((at(c, x) << 16) | (at(c, y) << 8) | at(c, z), 4);
  const [tx, ty, tz] = variant.tail;
  encoded += to64((at(c, tx) << 16) | (at(c, ty) << 8) | at(c, tz), variant.tailChars);

  const roundsPart = parsed.roundsCustom ? `rounds=${rounds}$` : '';
  return `${variant.magic}${roundsPart}${saltText}$${encoded}`;
}

function md5(...parts: Buffer[]): Buffer {
  const context = createHash('md5');
  for (const part of parts) context.update(part);
  return context.digest();
}

/** `digest` repeated and cut to `length` bytes. */
function repeatTo(digest: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let offset = 0; offset < length; offset += digest.length) digest.copy(out, offset);
  return out;
}

/** The byte at `index`, or 0 for -1 (the padding the output encoding uses). */
function at(bytes: Buffer, index: number): number {
  return index < 0 ? 0 : (bytes[index] ?? 0);
}

/** `count` characters of crypt's base-64 alphabet, lowest six bits first. */
function to64(value: number, count: number): string {
  let out = '';
  let rest = value;
  for (let i = 0; i < count; i++) {
    out += ITOA64[rest & 0x3f];
    rest >>>= 6;
  }
  return out;
}
