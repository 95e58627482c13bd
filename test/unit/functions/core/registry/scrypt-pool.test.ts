import { scryptSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ScryptBusyError, ScryptPool } from '../../../../../functions/core/registry/scrypt-pool.js';

const OPTIONS = { N: 2 ** 14, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const SALT = Buffer.from('0123456789abcdef');

describe('ScryptPool: scrypt on threads of its own, with a bounded queue', () => {
  it('derives what crypto.scrypt derives', async () => {
    const pool = new ScryptPool({ threads: 1 });
    const key = await pool.derive('secret', SALT, 32, OPTIONS);
    expect(key.equals(scryptSync('secret', SALT, 32, OPTIONS))).toBe(true);
  });

  it('refuses at once past the queue limit, and serves the others', async () => {
    const pool = new ScryptPool({ threads: 1, queueLimit: 2 });
    const jobs = Array.from({ length: 4 }, (_, i) =>
      pool.derive(`password-${i}`, SALT, 32, OPTIONS).then(
        (key) => key.length,
        (err: unknown) => err,
      ),
    );
    expect(pool.load).toEqual({ running: 1, waiting: 2 });
    const results = await Promise.all(jobs);
    expect(results.slice(0, 3)).toEqual([32, 32, 32]);
    expect(results[3]).toBeInstanceOf(ScryptBusyError);
    expect(pool.load).toEqual({ running: 0, waiting: 0 });
  });

  it('reports a derivation the parameters make impossible as an error, and goes on', async () => {
    const pool = new ScryptPool({ threads: 1 });
    await expect(pool.derive('x', SALT, 32, { ...OPTIONS, maxmem: 1024 })).rejects.toThrow(/memory/i);
    expect((await pool.derive('x', SALT, 16, OPTIONS)).length).toBe(16);
  });
});
