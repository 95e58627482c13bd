import {
  groupMappingListSchema,
  groupMappingParamsSchema,
  groupMappingSchema,
  type MappingPatch,
  type MappingReplace,
  mappingPatchSchema,
  mappingReplaceSchema,
  poolParamsSchema,
  userMappingListSchema,
  userMappingParamsSchema,
  userMappingSchema,
} from '../../contract/registry.js';
import {
  createMapping,
  deleteMapping,
  getMapping,
  groupMappingView,
  listMappings,
  type MappingKind,
  type MappingRecord,
  patchMapping,
  putMapping,
  userMappingView,
} from '../../core/registry/index.js';
import { pathOf } from '../http.js';
import type { Route } from '../route.js';
import { versionedItemRoutes } from '../versioned-item-routes.js';

type MappingParams = { pool: string; user?: string; group?: string };

/**
 * The backends a user (or a group) of a pool may reach: `/v1/pools/{pool}/users/{user}/backends`
 * and `/v1/pools/{pool}/groups/{group}/backends`. POST at the item's path creates (409 if the name
 * has a mapping), PUT creates or replaces.
 */
export function mappingRoutes(kind: MappingKind): Route[] {
  const plural = kind === 'user' ? 'users' : 'groups';
  const Kind = kind === 'user' ? 'User' : 'Group';
  const nameOf = (p: MappingParams) => (kind === 'user' ? p.user : p.group) ?? '';
  type Record = MappingRecord;
  return versionedItemRoutes<
    { pool: string },
    MappingParams,
    Record,
    MappingReplace,
    MappingReplace,
    MappingPatch
  >({
    tag: `${kind} mappings`,
    singular: `${Kind}Mapping`,
    plural: `${Kind}Mappings`,
    collection: { path: `/v1/pools/{pool}/${plural}`, params: poolParamsSchema },
    item: {
      path: `/v1/pools/{pool}/${plural}/{${kind}}/backends`,
      params: kind === 'user' ? userMappingParamsSchema : groupMappingParamsSchema,
    },
    read: { kind: 'pool', scope: 'read' },
    write: { kind: 'pool', scope: 'write' },
    schema: kind === 'user' ? userMappingSchema : groupMappingSchema,
    view: kind === 'user' ? userMappingView : groupMappingView,
    what: (p) => `${kind} mapping "${nameOf(p)}" of pool "${p.pool}"`,
    location: (p) => pathOf('v1', 'pools', p.pool, plural, nameOf(p), 'backends'),
    list: {
      summary: `List the ${kind} mappings of a pool`,
      description: `One page of ${kind} mappings, in name order.`,
      schema: kind === 'user' ? userMappingListSchema : groupMappingListSchema,
      run: (p, page, { table, nowMs }) => listMappings(table, kind, p.pool, page, nowMs),
    },
    create: {
      at: 'item',
      summary: `Create a ${kind}'s backends (409 if the ${kind} has a mapping)`,
      body: mappingReplaceSchema,
      run: (p, body, { table, nowMs }) => createMapping(table, kind, p.pool, nameOf(p), body, nowMs),
    },
    get: {
      summary: `Read a ${kind}'s backends`,
      description: `The ${kind} mapping.`,
      run: (p, { table, nowMs }) => getMapping(table, kind, p.pool, nameOf(p), nowMs),
    },
    put: {
      summary: `Create or replace a ${kind}'s backends`,
      body: mappingReplaceSchema,
      run: (p, body, options, { table }) => putMapping(table, kind, p.pool, nameOf(p), body, options),
    },
    patch: {
      summary: `Add or remove some of a ${kind}'s backends`,
      body: mappingPatchSchema,
      run: (p, body, options, { table }) => patchMapping(table, kind, p.pool, nameOf(p), body, options),
    },
    delete: {
      summary: `Remove a ${kind}'s mapping`,
      run: (p, options, { table }) => deleteMapping(table, kind, p.pool, nameOf(p), options),
    },
  });
}
