import { createRequire } from 'node:module';
import { passwordPool } from '../password-pool.js';

/**
 * bcrypt (`$2a$`, `$2b$`, `$2y$`: OpenBSD's, PHP's and htpasswd -B's, libxcrypt's) verified by
 * bcryptjs on the password pool's threads (a cost-10 check is ~100 ms of CPU: on the event loop,
 * even in bcryptjs's slices, a sprayer's guesses would stall every session of the worker). Where
 * bcryptjs is not a file to load (a Lambda bundle), it runs here, in its slices. `$2x$` (the hashes of the buggy
 * pre-2011 crypt_blowfish, meant only for their migration) and bare `$2$` are not verified.
 */

/**
 * Highest cost accepted from a stored hash: each step doubles the work, and a corrupt or hostile
 * value (up to 31) must not tie a function up. Common choices are 5 (htpasswd -B), 10 (PHP) and 12.
 */
export const MAX_ACCEPTED_BCRYPT_COST = 14;

const BCRYPT = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;

/**
 * Whether `password` matches the bcrypt hash `stored`; undefined when `stored` is not a bcrypt hash
 * this verifies (malformed, `$2x$`, or a cost above MAX_ACCEPTED_BCRYPT_COST).
 */
export async function verifyBcrypt(password: string, stored: string): Promise<boolean | undefined> {
  const match = BCRYPT.exec(stored);
  const cost = Number(match?.[1]);
  if (!match || cost < 4 || cost > MAX_ACCEPTED_BCRYPT_COST) return undefined;
  const modulePath = bcryptjsPath();
  if (modulePath) return passwordPool().bcrypt(modulePath, password, stored);
  // Loaded on first use: most pools have no bcrypt users, and the auth function's cold start does
  // not pay for it (esbuild keeps a dynamically imported module's evaluation lazy in the bundle).
  const { default: bcrypt } = await import('bcryptjs');
  return bcrypt.compare(password, stored);
}

let resolved: string | null | undefined;

/** bcryptjs's CommonJS entry, for a worker thread to require; null in a bundle that inlined it. */
function bcryptjsPath(): string | null {
  if (resolved === undefined) {
    try {
      resolved = createRequire(import.meta.url).resolve('bcryptjs');
    } catch {
      resolved = null;
    }
  }
  return resolved;
}
