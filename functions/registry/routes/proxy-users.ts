import {
  poolParamsSchema,
  proxyUserCreateSchema,
  proxyUserListSchema,
  proxyUserParamsSchema,
  proxyUserPatchSchema,
  proxyUserReplaceSchema,
  proxyUserSchema,
} from '../../contract/registry.js';
import {
  createProxyUser,
  deleteProxyUser,
  getProxyUserRecord,
  listProxyUsers,
  patchProxyUser,
  proxyUserView,
  putProxyUser,
} from '../../core/registry/index.js';
import { pathOf } from '../http.js';
import { versionedItemRoutes } from '../versioned-item-routes.js';

/** A pool's proxy users (ProxyReverseProxyAuth logins); no reply ever shows a password or its hash. */
export const proxyUserRoutes = versionedItemRoutes({
  tag: 'proxy users',
  singular: 'ProxyUser',
  plural: 'ProxyUsers',
  collection: { path: '/v1/pools/{pool}/proxy-users', params: poolParamsSchema },
  item: { path: '/v1/pools/{pool}/proxy-users/{name}', params: proxyUserParamsSchema },
  read: { kind: 'pool', scope: 'read' },
  write: { kind: 'pool', scope: 'write' },
  schema: proxyUserSchema,
  view: proxyUserView,
  what: (p) => `proxy user "${p.name}" of pool "${p.pool}"`,
  location: (p) => pathOf('v1', 'pools', p.pool, 'proxy-users', p.name),
  list: {
    summary: "List a pool's proxy users",
    description: 'One page of proxy users, in name order.',
    schema: proxyUserListSchema,
    run: (p, page, { table, nowMs }) => listProxyUsers(table, p.pool, page, nowMs),
  },
  create: {
    at: 'collection',
    summary: 'Create a proxy user',
    body: proxyUserCreateSchema,
    run: (p, body, { table, nowMs }) => createProxyUser(table, p.pool, body, nowMs),
    keyOf: (p, record) => ({ pool: p.pool, name: record.name }),
  },
  get: {
    summary: 'Read a proxy user (never its password)',
    description: 'The proxy user.',
    run: (p, { table, nowMs }) => getProxyUserRecord(table, p.pool, p.name, nowMs),
  },
  put: {
    summary: 'Create or replace a proxy user',
    body: proxyUserReplaceSchema,
    run: (p, body, options, { table }) => putProxyUser(table, p.pool, p.name, body, options),
  },
  patch: {
    summary: 'Change some of a proxy user (password included)',
    body: proxyUserPatchSchema,
    run: (p, body, options, { table }) => patchProxyUser(table, p.pool, p.name, body, options),
  },
  delete: {
    summary: 'Delete a proxy user',
    run: (p, options, { table }) => deleteProxyUser(table, p.pool, p.name, options),
  },
});
