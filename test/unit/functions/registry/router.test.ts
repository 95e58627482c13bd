import { describe, expect, it } from 'vitest';
import { createRouter, type RouteEntry } from '../../../../functions/registry/router.js';

const routes: RouteEntry<string>[] = [
  { method: 'GET', path: '/v1/pools', value: 'list' },
  { method: 'POST', path: '/v1/pools', value: 'create' },
  { method: 'GET', path: '/v1/pools/{pool}', value: 'get' },
  { method: 'DELETE', path: '/v1/pools/{pool}', value: 'delete' },
  { method: 'GET', path: '/v1/pools/{pool}/backends/{id}', value: 'backend' },
  { method: 'GET', path: '/v1/pools/special', value: 'literal' },
];

describe('registry router', () => {
  const router = createRouter(routes);

  it('matches literal paths and parameters, percent-decoded', () => {
    expect(router.match('GET', '/v1/pools')).toEqual({ kind: 'match', value: 'list', params: {} });
    expect(router.match('post', '/v1/pools')).toMatchObject({ kind: 'match', value: 'create' });
    expect(router.match('GET', '/v1/pools/a%2Fb%23c')).toEqual({
      kind: 'match',
      value: 'get',
      params: { pool: 'a/b#c' },
    });
    expect(router.match('GET', '/v1/pools/p%20q/backends/b-1')).toEqual({
      kind: 'match',
      value: 'backend',
      params: { pool: 'p q', id: 'b-1' },
    });
  });

  it('prefers a literal segment to a parameter', () => {
    expect(router.match('GET', '/v1/pools/special')).toMatchObject({ value: 'literal' });
    expect(router.match('DELETE', '/v1/pools/special')).toMatchObject({
      value: 'delete',
      params: { pool: 'special' },
    });
  });

  it('ignores one trailing slash', () => {
    expect(router.match('GET', '/v1/pools/')).toMatchObject({ value: 'list' });
    expect(router.match('GET', '/v1/pools//')).toEqual({ kind: 'not-found' });
  });

  it('tells 405 (with the allowed methods, in a fixed order) from 404', () => {
    expect(router.match('PUT', '/v1/pools')).toEqual({ kind: 'method-not-allowed', allow: ['GET', 'POST'] });
    expect(router.match('PATCH', '/v1/pools/x')).toEqual({
      kind: 'method-not-allowed',
      allow: ['GET', 'DELETE'],
    });
    for (const path of [
      '/',
      '',
      'v1/pools',
      '/v1',
      '/v1/pools/x/backends',
      '/v1//pools',
      '/v1/pools/%E0%A4%A',
    ]) {
      expect(router.match('GET', path), path).toEqual({ kind: 'not-found' });
    }
  });

  it('refuses ambiguous or malformed route tables', () => {
    expect(() =>
      createRouter([
        { method: 'GET', path: '/a/{x}', value: 1 },
        { method: 'GET', path: '/a/{y}', value: 2 },
      ]),
    ).toThrow(/two routes/);
    expect(() => createRouter([{ method: 'GET', path: 'a', value: 1 }])).toThrow(/start with/);
    expect(() => createRouter([{ method: 'GET', path: '/a/{x}/{x}', value: 1 }])).toThrow(/twice/);
    expect(() => createRouter([{ method: 'GET', path: '/a//b', value: 1 }])).toThrow(/bad segment/);
    expect(() => createRouter([{ method: 'GET', path: '/a/{x', value: 1 }])).toThrow(/bad segment/);
  });
});
