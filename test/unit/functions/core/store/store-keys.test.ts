import { describe, expect, it } from 'vitest';
import { epochSeconds, expiresAtFor, isLive } from '../../../../../functions/core/store/expiry.js';
import { backendId, keys, part } from '../../../../../functions/core/store/keys.js';

describe('store keys', () => {
  it('escapes # and % in free-form parts so keys cannot collide', () => {
    expect(part('a#b%c')).toBe('a%23b%25c');
    const one = keys.stickyMapping('p#PerUser', 'PerUser', 'x');
    const two = keys.stickyMapping('p', 'PerUser', 'PerUser#x');
    expect(one.pk).not.toBe(two.pk);
    expect(keys.policyCursor('pool', 'RoundRobin')).toEqual({ pk: 'POOL#pool', sk: 'CURSOR#RoundRobin' });
  });

  it('names backends by a fixed-length digest in sort keys', () => {
    const id = backendId('ftp://127.0.0.1:2121');
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(backendId('ftp://127.0.0.1:2121')).toBe(id);
    const long = keys.lease('pool', `ftp://${'h'.repeat(1000)}:21`, 'w'.repeat(256));
    expect(Buffer.byteLength(long.sk)).toBeLessThan(1024);
    expect(long.sk.startsWith('LEASE#')).toBe(true);
  });
});

describe('expiry', () => {
  it('compares epoch seconds, rounding expiry up', () => {
    expect(epochSeconds(1_999)).toBe(1);
    expect(expiresAtFor(1_000, 30_000)).toBe(31);
    expect(expiresAtFor(1_001, 30_000)).toBe(32);
    expect(isLive(31, 30_999)).toBe(true);
    expect(isLive(31, 31_000)).toBe(false);
    expect(isLive(undefined, 1e15)).toBe(true);
  });
});
