import {
  backendCreateSchema,
  backendListSchema,
  backendParamsSchema,
  backendPatchSchema,
  backendSchema,
  poolParamsSchema,
} from '../../contract/registry.js';
import {
  backendView,
  createBackend,
  deleteBackend,
  getBackend,
  listBackends,
  patchBackend,
  publishPool,
  putBackend,
} from '../../core/registry/index.js';
import { pathOf } from '../http.js';
import { versionedItemRoutes } from '../versioned-item-routes.js';

/**
 * A pool's backends. Every change re-publishes the pool where it has a Route 53 publication: the
 * outcome comes with the backend's view; a deregistered backend's records are withdrawn before the
 * answer (its status is not returned).
 */
export const backendRoutes = versionedItemRoutes({
  tag: 'backends',
  singular: 'Backend',
  plural: 'Backends',
  collection: { path: '/v1/pools/{pool}/backends', params: poolParamsSchema },
  item: { path: '/v1/pools/{pool}/backends/{id}', params: backendParamsSchema },
  read: { kind: 'pool', scope: 'read' },
  write: { kind: 'pool', scope: 'write' },
  schema: backendSchema,
  view: backendView,
  what: (p) => `backend "${p.id}" of pool "${p.pool}"`,
  location: (p) => pathOf('v1', 'pools', p.pool, 'backends', p.id),
  changed: async (p, view, { table, publisher, nowMs }) => {
    const outcome = await publishPool(table, publisher, p.pool, nowMs);
    return outcome ? { ...view, publication: outcome } : view;
  },
  deleted: async (p, { table, publisher, nowMs }) => {
    await publishPool(table, publisher, p.pool, nowMs);
  },
  list: {
    summary: "List a pool's backends",
    description: 'One page of backends, in id order.',
    schema: backendListSchema,
    run: (p, page, { table, nowMs }) => listBackends(table, p.pool, page, nowMs),
  },
  create: {
    at: 'collection',
    summary: 'Register a backend (the server chooses its id)',
    body: backendCreateSchema,
    run: (p, body, { table, nowMs }) => createBackend(table, p.pool, body, nowMs),
    keyOf: (p, record) => ({ pool: p.pool, id: record.id }),
  },
  get: {
    summary: 'Read a backend',
    description: 'The backend.',
    run: (p, { table, nowMs }) => getBackend(table, p.pool, p.id, nowMs),
  },
  put: {
    summary: 'Create or replace a backend under an id of your choice',
    body: backendCreateSchema,
    run: (p, body, options, { table }) => putBackend(table, p.pool, p.id, body, options),
  },
  patch: {
    summary: 'Change some of a backend',
    body: backendPatchSchema,
    run: (p, body, options, { table }) => patchBackend(table, p.pool, p.id, body, options),
  },
  delete: {
    summary: 'Remove a backend',
    run: (p, options, { table }) => deleteBackend(table, p.pool, p.id, options),
  },
});
