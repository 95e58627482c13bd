import {
  noParamsSchema,
  poolCreateSchema,
  poolListSchema,
  poolParamsSchema,
  poolPatchSchema,
  poolReplaceSchema,
  poolSchema,
} from '../../contract/registry.js';
import {
  createPool,
  deletePool,
  getPool,
  listPools,
  patchPool,
  poolView,
  putPool,
} from '../../core/registry/index.js';
import { pathOf } from '../http.js';
import { versionedItemRoutes } from '../versioned-item-routes.js';

/** Pools: anyone lists the pools their token names; creating and deleting one needs an admin. */
export const poolRoutes = versionedItemRoutes({
  tag: 'pools',
  singular: 'Pool',
  plural: 'Pools',
  collection: { path: '/v1/pools', params: noParamsSchema },
  item: { path: '/v1/pools/{pool}', params: poolParamsSchema },
  read: { kind: 'pool', scope: 'read' },
  write: { kind: 'pool', scope: 'write' },
  schema: poolSchema,
  view: poolView,
  what: (p) => `pool "${p.pool}"`,
  location: (p) => pathOf('v1', 'pools', p.pool),
  list: {
    summary: 'List pools (a token restricted to pools sees only those)',
    access: { kind: 'authenticated' },
    description: 'One page of pools, in name order.',
    schema: poolListSchema,
    run: (_, page, { table, nowMs, principal }) =>
      listPools(table, {
        ...page,
        ...(principal.pools === '*' ? {} : { only: principal.pools }),
        nowMs,
      }),
  },
  create: {
    at: 'collection',
    summary: 'Create a pool (admin)',
    access: { kind: 'admin' },
    body: poolCreateSchema,
    run: (_, body, { table, nowMs }) => createPool(table, body, nowMs),
    keyOf: (_, record) => ({ pool: record.name }),
  },
  get: {
    summary: 'Read a pool',
    description: 'The pool.',
    run: (p, { table, nowMs }) => getPool(table, p.pool, nowMs),
  },
  put: {
    summary: 'Create (admin) or replace a pool',
    body: poolReplaceSchema,
    run: (p, body, options, { table, principal }) =>
      putPool(table, p.pool, body, { ...options, mayCreate: principal.scope === 'admin' }),
  },
  patch: {
    summary: "Change some of a pool's settings",
    body: poolPatchSchema,
    run: (p, body, options, { table }) => patchPool(table, p.pool, body, options),
  },
  delete: {
    summary: 'Delete an empty pool (admin)',
    access: { kind: 'admin' },
    run: (p, options, { table, nowMs }) => deletePool(table, p.pool, { ...options, nowMs }),
  },
});
