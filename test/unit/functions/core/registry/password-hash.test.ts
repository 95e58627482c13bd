import * as crypto from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';

vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

const {
  constantTimeEqual,
  formatPasswordHash,
  hashPassword,
  PASSWORD_HASH_DEFAULTS,
  parsePasswordHash,
  verifyPassword,
} = await import('../../../../../functions/core/registry/password-hash.js');

/** Cheap parameters for the tests that do not care about cost. */
const FAST = { N: 1024, r: 8, p: 1 };

describe('password hashes', () => {
  it('writes scrypt$N$r$p$salt$hash with the default cost', async () => {
    const stored = await hashPassword('hunter2');
    expect(stored).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    const parsed = parsePasswordHash(stored);
    expect(parsed).toMatchObject({ N: PASSWORD_HASH_DEFAULTS.N, r: 8, p: 1 });
    expect(parsed?.salt).toHaveLength(16);
    expect(parsed?.hash).toHaveLength(32);
    expect(await verifyPassword('hunter2', stored)).toBe(true);
    expect(await verifyPassword('hunter3', stored)).toBe(false);
  });

  it('salts every hash and verifies with the parameters the hash names', async () => {
    const a = await hashPassword('same', FAST);
    const b = await hashPassword('same', FAST);
    expect(a).not.toBe(b);
    expect(a.startsWith('scrypt$1024$8$1$')).toBe(true);
    expect(await verifyPassword('same', a)).toBe(true);
    expect(await verifyPassword('same', b)).toBe(true);
    expect(await verifyPassword('Same', a)).toBe(false);
    expect(await verifyPassword('', a)).toBe(false);
    expect(await verifyPassword('', await hashPassword('', FAST))).toBe(true);
    expect(await verifyPassword('pässwörd', await hashPassword('pässwörd', FAST))).toBe(true);
  });

  it('round-trips the format and refuses anything else (verify is then false)', async () => {
    const stored = await hashPassword('x', FAST);
    const parsed = parsePasswordHash(stored);
    expect(parsed && formatPasswordHash(parsed)).toBe(stored);
    const [, , , , salt, hash] = stored.split('$');
    for (const bad of [
      '',
      'plain',
      `bcrypt$1024$8$1$${salt}$${hash}`,
      `scrypt$1000$8$1$${salt}$${hash}`, // N not a power of two
      `scrypt$${2 ** 21}$8$1$${salt}$${hash}`, // N too large
      `scrypt$1024$0$1$${salt}$${hash}`,
      `scrypt$1024$8$99$${salt}$${hash}`,
      `scrypt$01024$8$1$${salt}$${hash}`,
      `scrypt$1024$8$1$${salt}`,
      `scrypt$1024$8$1$${salt}$${hash}$extra`,
      `scrypt$1024$8$1$not+base64$${hash}`,
      `scrypt$1024$8$1$${salt}$AAAA`, // hash too short
    ]) {
      expect(parsePasswordHash(bad), bad).toBeUndefined();
      expect(await verifyPassword('x', bad), bad).toBe(false);
    }
  });

  it('compares in constant time (crypto.timingSafeEqual), also for a wrong length', async () => {
    const spy = vi.mocked(crypto.timingSafeEqual);
    spy.mockClear();
    const stored = await hashPassword('secret', FAST);
    expect(await verifyPassword('not it', stored)).toBe(false);
    expect(spy).toHaveBeenCalledTimes(1);
    expect(constantTimeEqual(Buffer.from('abc'), Buffer.from('abc'))).toBe(true);
    expect(constantTimeEqual(Buffer.from('abc'), Buffer.from('abd'))).toBe(false);
    spy.mockClear();
    expect(constantTimeEqual(Buffer.from('abc'), Buffer.from('abcd'))).toBe(false);
    expect(spy).toHaveBeenCalledTimes(1);
  });
});
