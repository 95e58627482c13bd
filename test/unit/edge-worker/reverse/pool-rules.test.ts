import { describe, expect, it } from 'vitest';
import { ClientClasses } from '../../../../edge-worker/forward/client-class.js';
import type { Pool } from '../../../../edge-worker/reverse/pool.js';
import { PoolRules } from '../../../../edge-worker/reverse/pool-rules.js';

/** Pools stand in by name: the rules only hand back the object they were given. */
const pool = (name: string) => ({ config: { name } }) as unknown as Pool;
const pools = new Map(['special', 'others', 'alice', 'admins', 'lan'].map((name) => [name, pool(name)]));
const classes = new ClientClasses([{ name: 'proxied-clients', from: ['127.0.0.2', '127.0.0.3'] }]);
const name = (found: Pool | undefined) => found?.config.name;

describe('PoolRules', () => {
  it('chooses by class at connect, the negated class taking every other client', () => {
    const rules = new PoolRules(
      [
        { pool: 'others', class: '!proxied-clients' },
        { pool: 'special', class: 'proxied-clients' },
      ],
      pools,
      classes,
    );
    expect(name(rules.select({ clientAddress: '127.0.0.2' }))).toBe('special');
    expect(name(rules.select({ clientAddress: '::ffff:127.0.0.3' }))).toBe('special');
    expect(name(rules.select({ clientAddress: '127.0.0.1' }))).toBe('others');
  });

  it('considers user rules from USER on and group rules once the groups are known, first match winning', () => {
    const rules = new PoolRules(
      [
        { pool: 'admins', groups: ['admins'] },
        { pool: 'alice', users: ['alice', 'bob'] },
        { pool: 'lan', from: ['127.0.0.0/8'] },
      ],
      pools,
      classes,
    );
    expect(name(rules.select({ clientAddress: '127.0.0.9' }))).toBe('lan');
    expect(name(rules.select({ clientAddress: '192.0.2.1' }))).toBeUndefined();
    expect(name(rules.select({ clientAddress: '127.0.0.9', user: 'alice' }))).toBe('alice');
    expect(name(rules.select({ clientAddress: '192.0.2.1', user: 'carol' }))).toBeUndefined();
    expect(
      name(rules.select({ clientAddress: '127.0.0.9', user: 'alice', groups: ['staff', 'admins'] })),
    ).toBe('admins');
    expect(name(rules.select({ clientAddress: '127.0.0.9', user: 'alice', groups: ['staff'] }))).toBe(
      'alice',
    );
  });

  it('needs every condition of a rule to hold', () => {
    const rules = new PoolRules(
      [{ pool: 'special', class: 'proxied-clients', users: ['alice'] }],
      pools,
      classes,
    );
    expect(rules.select({ clientAddress: '127.0.0.2' })).toBeUndefined();
    expect(rules.select({ clientAddress: '127.0.0.1', user: 'alice' })).toBeUndefined();
    expect(name(rules.select({ clientAddress: '127.0.0.2', user: 'alice' }))).toBe('special');
  });
});
