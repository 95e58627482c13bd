import { scryptSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyBcrypt } from '../../../../functions/core/auth/bcrypt-hash.js';
import { sha512Crypt } from '../../../../functions/core/auth/crypt.js';
import {
  PasswordPool,
  PasswordPoolBusyError,
  passwordPool,
} from '../../../../functions/core/password-pool.js';

const OPTIONS = { N: 2 ** 14, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const SALT = Buffer.from('0123456789abcdef');

describe('PasswordPool: scrypt and SHA-crypt rounds on threads of their own, with a bounded queue', () => {
  it('derives what crypto.scrypt derives', async () => {
    const pool = new PasswordPool({ threads: 1 });
    const key = await pool.derive('secret', SALT, 32, OPTIONS);
    expect(key.equals(scryptSync('secret', SALT, 32, OPTIONS))).toBe(true);
  });

  it('refuses at once past the queue limit, and serves the others', async () => {
    const pool = new PasswordPool({ threads: 1, queueLimit: 2 });
    const jobs = Array.from({ length: 4 }, (_, i) =>
      pool.derive(`password-${i}`, SALT, 32, OPTIONS).then(
        (key) => key.length,
        (err: unknown) => err,
      ),
    );
    expect(pool.load).toEqual({ running: 1, waiting: 2 });
    const results = await Promise.all(jobs);
    expect(results.slice(0, 3)).toEqual([32, 32, 32]);
    expect(results[3]).toBeInstanceOf(PasswordPoolBusyError);
    expect(pool.load).toEqual({ running: 0, waiting: 0 });
  });

  it('reports a derivation the parameters make impossible as an error, and goes on', async () => {
    const pool = new PasswordPool({ threads: 1 });
    await expect(pool.derive('x', SALT, 32, { ...OPTIONS, maxmem: 1024 })).rejects.toThrow(/memory/i);
    expect((await pool.derive('x', SALT, 16, OPTIONS)).length).toBe(16);
  });

  it('runs the SHA-crypt rounds of a check on a pool thread, not the event loop', async () => {
    const before = passwordPool().load.running;
    // Ulrich Drepper's test vector ("Unix crypt using SHA-256 and SHA-512").
    const check = sha512Crypt('Hello world!', '$6$rounds=10000$saltstringsaltstring');
    // Submitted at once: the rounds are running on a thread while this (event-loop) code goes on.
    expect(passwordPool().load.running).toBe(before + 1);
    expect(await check).toBe(
      '$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.',
    );
  });

  it('refuses SHA-crypt rounds past the queue limit like scrypt', async () => {
    const pool = new PasswordPool({ threads: 1, queueLimit: 1 });
    const start = Buffer.alloc(64, 1);
    const jobs = Array.from({ length: 3 }, () =>
      pool.shaCryptRounds('sha512', start, Buffer.from('pw'), Buffer.from('salt'), 5000).then(
        (digest) => digest.length,
        (err: unknown) => err,
      ),
    );
    const results = await Promise.all(jobs);
    expect(results.slice(0, 2)).toEqual([64, 64]);
    expect(results[2]).toBeInstanceOf(PasswordPoolBusyError);
  });

  it('checks a bcrypt hash on a pool thread, not the event loop', async () => {
    const { default: bcrypt } = await import('bcryptjs');
    const stored = bcrypt.hashSync('right horse', 8);
    const before = passwordPool().load.running;
    const check = verifyBcrypt('right horse', stored);
    // The hash is resolved and the job submitted before the first await inside resolves.
    await Promise.resolve();
    expect(passwordPool().load.running).toBe(before + 1);
    expect(await check).toBe(true);
    expect(await verifyBcrypt('wrong horse', stored)).toBe(false);
  });
});
