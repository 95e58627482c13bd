import type { z } from 'zod';
import {
  backendCreateSchema,
  backendListSchema,
  backendParamsSchema,
  backendPatchSchema,
  backendSchema,
  createdTokenSchema,
  DEFAULT_PAGE_SIZE,
  groupMappingListSchema,
  groupMappingParamsSchema,
  groupMappingSchema,
  type ListQuery,
  listQuerySchema,
  mappingPatchSchema,
  mappingReplaceSchema,
  noParamsSchema,
  noQuerySchema,
  poolCreateSchema,
  poolListSchema,
  poolParamsSchema,
  poolPatchSchema,
  poolReplaceSchema,
  poolSchema,
  proxyUserCreateSchema,
  proxyUserListSchema,
  proxyUserParamsSchema,
  proxyUserPatchSchema,
  proxyUserReplaceSchema,
  proxyUserSchema,
  sshHostKeyPinnedSchema,
  sshHostKeyPinSchema,
  type TokenScope,
  tokenCreateSchema,
  tokenListSchema,
  tokenParamsSchema,
  tokenPatchSchema,
  tokenSchema,
  userMappingListSchema,
  userMappingParamsSchema,
  userMappingSchema,
} from '../contract/registry.js';
import {
  tlsCacheClearedSchema,
  tlsCacheInfoQuerySchema,
  tlsCacheInfoSchema,
  tlsCacheParamsSchema,
} from '../contract/tls-cache.js';
import { backendKey, parseBackendUrl } from '../shared/backend-url.js';
import * as tokens from '../shared/registry/api-tokens.js';
import type { Principal } from '../shared/registry/auth.js';
import * as mappings from '../shared/registry/backend-mappings.js';
import * as backends from '../shared/registry/backends.js';
import { notFound } from '../shared/registry/errors.js';
import * as pools from '../shared/registry/pools.js';
import * as proxyUsers from '../shared/registry/proxy-users.js';
import { publishPool } from '../shared/registry/publication.js';
import type { Route53Publisher } from '../shared/registry/publication-route53.js';
import type { SaveOutcome } from '../shared/registry/versioned-store.js';
import { writeSshHostKey } from '../shared/store/ssh-host-keys.js';
import type { Table } from '../shared/store/table.js';
import { cacheInfo, clearCache, removeCache } from '../shared/tls-cache/admin.js';
import { healthRoutes } from './health-routes.js';
import { etag, pathOf, type Reply } from './http.js';
import { publicationRoutes } from './publication-routes.js';
import type { HttpMethod } from './router.js';

/**
 * The registry API's routes: each names its method and path, who may call it, the zod schemas of
 * its path parameters, query and body, its responses, and a thin handler calling the domain code
 * in shared/registry. The dispatcher (handler.ts) validates and authorizes before a handler runs;
 * the OpenAPI document (openapi.ts) is generated from this same table.
 */

/**
 * Who may call a route. `pool`: the principal's pools must include the `pool` path parameter and
 * its scope must be at least `scope`. A pool outside the principal's pools answers 404 to GET (as a
 * missing pool would: no tenant learns another's pool names) and 403 to changes (whether the pool
 * exists or not). `authenticated`: any valid token (lists filter to the principal's pools).
 */
export type Access =
  | { kind: 'public' }
  | { kind: 'authenticated' }
  | { kind: 'pool'; scope: Exclude<TokenScope, 'admin'> }
  /** State shared by every pool (the TLS caches): a token for all pools (`*`) with at least `scope`. */
  | { kind: 'all-pools'; scope: TokenScope }
  | { kind: 'admin' };

export interface RouteContext {
  table: Table;
  nowMs: number;
  principal: Principal;
  /** Route 53 publication (pools with a publication); absent: not configured. */
  publisher?: Route53Publisher;
}

export interface RouteResponse {
  status: number;
  description: string;
  /** Replies with this status are parsed with it on the way out (unknown fields stripped). */
  schema?: z.ZodType;
}

export interface RouteInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  /** The If-Match header as a version (routes with `ifMatch` only). */
  ifMatch: number | undefined;
}

export interface Route {
  method: HttpMethod;
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  access: Access;
  params: z.ZodType;
  query: z.ZodType;
  body?: z.ZodType;
  /** Whether the route honours If-Match (PUT, PATCH, DELETE of a versioned item). */
  ifMatch: boolean;
  responses: RouteResponse[];
  handle(input: RouteInput<unknown, unknown, unknown>, context: RouteContext): Promise<Reply>;
}

interface RouteDefinition<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType | undefined> {
  method: HttpMethod;
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  access: Access;
  params: P;
  query: Q;
  body?: B;
  ifMatch?: boolean;
  responses: RouteResponse[];
  handle(
    input: RouteInput<z.output<P>, z.output<Q>, B extends z.ZodType ? z.output<B> : undefined>,
    context: RouteContext,
  ): Promise<Reply>;
}

export function route<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType | undefined = undefined>(
  definition: RouteDefinition<P, Q, B>,
): Route {
  return {
    ...definition,
    ifMatch: definition.ifMatch ?? false,
    handle: definition.handle as Route['handle'],
  };
}

const ok = (schema: z.ZodType, description: string): RouteResponse => ({ status: 200, description, schema });
const created = (schema: z.ZodType, description: string): RouteResponse => ({
  status: 201,
  description,
  schema,
});
const noContent: RouteResponse = { status: 204, description: 'Deleted.' };

/** An item reply with its version as ETag. */
function item(status: number, view: { version: number }, headers: Record<string, string> = {}): Reply {
  return { status, body: view, headers: { etag: etag(view.version), ...headers } };
}

/** PUT answers 201 when it created the item, 200 when it replaced it or found it already so. */
function saved(outcome: SaveOutcome, view: { version: number }, location: string): Reply {
  return outcome === 'created' ? item(201, view, { location }) : item(200, view);
}

function page(query: ListQuery) {
  return { limit: query.limit ?? DEFAULT_PAGE_SIZE, cursor: query.cursor };
}

function listReply<R, V>(result: { items: R[]; nextCursor?: string }, view: (record: R) => V): Reply {
  return {
    status: 200,
    body: { items: result.items.map(view), ...(result.nextCursor ? { nextCursor: result.nextCursor } : {}) },
  };
}

function found<R>(record: R | undefined, what: string): R {
  if (record === undefined) throw notFound(what);
  return record;
}

const deleted: Reply = { status: 204 };

/** A backend view with the outcome of re-publishing its pool, when the pool has a publication. */
async function published<V extends { version: number }>(
  context: RouteContext,
  pool: string,
  view: V,
): Promise<V & { publication?: unknown }> {
  const outcome = await publishPool(context.table, context.publisher, pool, context.nowMs);
  return outcome ? { ...view, publication: outcome } : view;
}

const poolRoutes: Route[] = [
  route({
    method: 'GET',
    path: '/v1/pools',
    operationId: 'listPools',
    summary: 'List pools (a token restricted to pools sees only those)',
    tag: 'pools',
    access: { kind: 'authenticated' },
    params: noParamsSchema,
    query: listQuerySchema,
    responses: [ok(poolListSchema, 'One page of pools, in name order.')],
    handle: async ({ query }, { table, nowMs, principal }) =>
      listReply(
        await pools.listPools(table, {
          ...page(query),
          ...(principal.pools === '*' ? {} : { only: principal.pools }),
          nowMs,
        }),
        pools.poolView,
      ),
  }),
  route({
    method: 'POST',
    path: '/v1/pools',
    operationId: 'createPool',
    summary: 'Create a pool (admin)',
    tag: 'pools',
    access: { kind: 'admin' },
    params: noParamsSchema,
    query: noQuerySchema,
    body: poolCreateSchema,
    responses: [created(poolSchema, 'Created.')],
    handle: async ({ body }, { table, nowMs }) => {
      const record = await pools.createPool(table, body, nowMs);
      return item(201, pools.poolView(record), { location: pathOf('v1', 'pools', record.name) });
    },
  }),
  route({
    method: 'GET',
    path: '/v1/pools/{pool}',
    operationId: 'getPool',
    summary: 'Read a pool',
    tag: 'pools',
    access: { kind: 'pool', scope: 'read' },
    params: poolParamsSchema,
    query: noQuerySchema,
    responses: [ok(poolSchema, 'The pool.')],
    handle: async ({ params }, { table, nowMs }) =>
      item(
        200,
        pools.poolView(found(await pools.getPool(table, params.pool, nowMs), `pool "${params.pool}"`)),
      ),
  }),
  route({
    method: 'PUT',
    path: '/v1/pools/{pool}',
    operationId: 'putPool',
    summary: 'Create (admin) or replace a pool',
    tag: 'pools',
    access: { kind: 'pool', scope: 'write' },
    params: poolParamsSchema,
    query: noQuerySchema,
    body: poolReplaceSchema,
    ifMatch: true,
    responses: [ok(poolSchema, 'Replaced, or already so.'), created(poolSchema, 'Created.')],
    handle: async ({ params, body, ifMatch }, { table, nowMs, principal }) => {
      const { record, outcome } = await pools.putPool(table, params.pool, body, {
        ...(ifMatch !== undefined ? { ifMatch } : {}),
        mayCreate: principal.scope === 'admin',
        nowMs,
      });
      return saved(outcome, pools.poolView(record), pathOf('v1', 'pools', params.pool));
    },
  }),
  route({
    method: 'PATCH',
    path: '/v1/pools/{pool}',
    operationId: 'patchPool',
    summary: "Change some of a pool's settings",
    tag: 'pools',
    access: { kind: 'pool', scope: 'write' },
    params: poolParamsSchema,
    query: noQuerySchema,
    body: poolPatchSchema,
    ifMatch: true,
    responses: [ok(poolSchema, 'Updated.')],
    handle: async ({ params, body, ifMatch }, { table, nowMs }) => {
      const { record } = await pools.patchPool(table, params.pool, body, {
        ...(ifMatch !== undefined ? { ifMatch } : {}),
        nowMs,
      });
      return item(200, pools.poolView(record));
    },
  }),
  route({
    method: 'DELETE',
    path: '/v1/pools/{pool}',
    operationId: 'deletePool',
    summary: 'Delete an empty pool (admin)',
    tag: 'pools',
    access: { kind: 'admin' },
    params: poolParamsSchema,
    query: noQuerySchema,
    ifMatch: true,
    responses: [noContent],
    handle: async ({ params, ifMatch }, { table, nowMs }) => {
      await pools.deletePool(table, params.pool, { ...(ifMatch !== undefined ? { ifMatch } : {}), nowMs });
      return deleted;
    },
  }),
];

const backendRoutes: Route[] = [
  route({
    method: 'GET',
    path: '/v1/pools/{pool}/backends',
    operationId: 'listBackends',
    summary: "List a pool's backends",
    tag: 'backends',
    access: { kind: 'pool', scope: 'read' },
    params: poolParamsSchema,
    query: listQuerySchema,
    responses: [ok(backendListSchema, 'One page of backends, in id order.')],
    handle: async ({ params, query }, { table, nowMs }) =>
      listReply(await backends.listBackends(table, params.pool, page(query), nowMs), backends.backendView),
  }),
  route({
    method: 'POST',
    path: '/v1/pools/{pool}/backends',
    operationId: 'createBackend',
    summary: 'Register a backend (the server chooses its id)',
    tag: 'backends',
    access: { kind: 'pool', scope: 'write' },
    params: poolParamsSchema,
    query: noQuerySchema,
    body: backendCreateSchema,
    responses: [created(backendSchema, 'Created.')],
    handle: async ({ params, body }, context) => {
      const record = await backends.createBackend(context.table, params.pool, body, context.nowMs);
      return item(201, await published(context, params.pool, backends.backendView(record)), {
        location: pathOf('v1', 'pools', params.pool, 'backends', record.id),
      });
    },
  }),
  route({
    method: 'GET',
    path: '/v1/pools/{pool}/backends/{id}',
    operationId: 'getBackend',
    summary: 'Read a backend',
    tag: 'backends',
    access: { kind: 'pool', scope: 'read' },
    params: backendParamsSchema,
    query: noQuerySchema,
    responses: [ok(backendSchema, 'The backend.')],
    handle: async ({ params }, { table, nowMs }) => {
      const record = await backends.getBackend(table, params.pool, params.id, nowMs);
      return item(
        200,
        backends.backendView(found(record, `backend "${params.id}" of pool "${params.pool}"`)),
      );
    },
  }),
  route({
    method: 'PUT',
    path: '/v1/pools/{pool}/backends/{id}',
    operationId: 'putBackend',
    summary: 'Create or replace a backend under an id of your choice',
    tag: 'backends',
    access: { kind: 'pool', scope: 'write' },
    params: backendParamsSchema,
    query: noQuerySchema,
    body: backendCreateSchema,
    ifMatch: true,
    responses: [ok(backendSchema, 'Replaced, or already so.'), created(backendSchema, 'Created.')],
    handle: async ({ params, body, ifMatch }, context) => {
      const { table, nowMs } = context;
      const { record, outcome } = await backends.putBackend(table, params.pool, params.id, body, {
        ...(ifMatch !== undefined ? { ifMatch } : {}),
        nowMs,
      });
      return saved(
        outcome,
        await published(context, params.pool, backends.backendView(record)),
        pathOf('v1', 'pools', params.pool, 'backends', params.id),
      );
    },
  }),
  route({
    method: 'PATCH',
    path: '/v1/pools/{pool}/backends/{id}',
    operationId: 'patchBackend',
    summary: 'Change some of a backend',
    tag: 'backends',
    access: { kind: 'pool', scope: 'write' },
    params: backendParamsSchema,
    query: noQuerySchema,
    body: backendPatchSchema,
    ifMatch: true,
    responses: [ok(backendSchema, 'Updated.')],
    handle: async ({ params, body, ifMatch }, context) => {
      const { table, nowMs } = context;
      const { record } = await backends.patchBackend(table, params.pool, params.id, body, {
        ...(ifMatch !== undefined ? { ifMatch } : {}),
        nowMs,
      });
      return item(200, await published(context, params.pool, backends.backendView(record)));
    },
  }),
  route({
    method: 'DELETE',
    path: '/v1/pools/{pool}/backends/{id}',
    operationId: 'deleteBackend',
    summary: 'Remove a backend',
    tag: 'backends',
    access: { kind: 'pool', scope: 'write' },
    params: backendParamsSchema,
    query: noQuerySchema,
    ifMatch: true,
    responses: [noContent],
    handle: async ({ params, ifMatch }, context) => {
      await backends.deleteBackend(
        context.table,
        params.pool,
        params.id,
        ifMatch !== undefined ? { ifMatch } : {},
      );
      // A deregistered backend's records are withdrawn before the answer (its status is not returned).
      await publishPool(context.table, context.publisher, params.pool, context.nowMs);
      return deleted;
    },
  }),
];

function mappingRoutes(kind: mappings.MappingKind): Route[] {
  const plural = kind === 'user' ? 'users' : 'groups';
  const Kind = kind === 'user' ? 'User' : 'Group';
  const params = kind === 'user' ? userMappingParamsSchema : groupMappingParamsSchema;
  const schema = kind === 'user' ? userMappingSchema : groupMappingSchema;
  const listSchema = kind === 'user' ? userMappingListSchema : groupMappingListSchema;
  const view: (record: mappings.MappingRecord) => { version: number } =
    kind === 'user' ? mappings.userMappingView : mappings.groupMappingView;
  const path = `/v1/pools/{pool}/${plural}/{${kind}}/backends`;
  const nameOf = (input: { pool: string; user?: string; group?: string }) =>
    (kind === 'user' ? input.user : input.group) ?? '';
  const what = (p: { pool: string; user?: string; group?: string }) =>
    `${kind} mapping "${nameOf(p)}" of pool "${p.pool}"`;
  const location = (p: { pool: string; user?: string; group?: string }) =>
    pathOf('v1', 'pools', p.pool, plural, nameOf(p), 'backends');
  const tag = `${kind} mappings`;
  return [
    route({
      method: 'GET',
      path: `/v1/pools/{pool}/${plural}`,
      operationId: `list${Kind}Mappings`,
      summary: `List the ${kind} mappings of a pool`,
      tag,
      access: { kind: 'pool', scope: 'read' },
      params: poolParamsSchema,
      query: listQuerySchema,
      responses: [ok(listSchema, `One page of ${kind} mappings, in name order.`)],
      handle: async ({ params: p, query }, { table, nowMs }) =>
        listReply(await mappings.listMappings(table, kind, p.pool, page(query), nowMs), view),
    }),
    route({
      method: 'GET',
      path,
      operationId: `get${Kind}Mapping`,
      summary: `Read a ${kind}'s backends`,
      tag,
      access: { kind: 'pool', scope: 'read' },
      params,
      query: noQuerySchema,
      responses: [ok(schema, `The ${kind} mapping.`)],
      handle: async ({ params: p }, { table, nowMs }) =>
        item(200, view(found(await mappings.getMapping(table, kind, p.pool, nameOf(p), nowMs), what(p)))),
    }),
    route({
      method: 'POST',
      path,
      operationId: `create${Kind}Mapping`,
      summary: `Create a ${kind}'s backends (409 if the ${kind} has a mapping)`,
      tag,
      access: { kind: 'pool', scope: 'write' },
      params,
      query: noQuerySchema,
      body: mappingReplaceSchema,
      responses: [created(schema, 'Created.')],
      handle: async ({ params: p, body }, { table, nowMs }) => {
        const record = await mappings.createMapping(table, kind, p.pool, nameOf(p), body, nowMs);
        return item(201, view(record), { location: location(p) });
      },
    }),
    route({
      method: 'PUT',
      path,
      operationId: `put${Kind}Mapping`,
      summary: `Create or replace a ${kind}'s backends`,
      tag,
      access: { kind: 'pool', scope: 'write' },
      params,
      query: noQuerySchema,
      body: mappingReplaceSchema,
      ifMatch: true,
      responses: [ok(schema, 'Replaced, or already so.'), created(schema, 'Created.')],
      handle: async ({ params: p, body, ifMatch }, { table, nowMs }) => {
        const { record, outcome } = await mappings.putMapping(table, kind, p.pool, nameOf(p), body, {
          ...(ifMatch !== undefined ? { ifMatch } : {}),
          nowMs,
        });
        return saved(outcome, view(record), location(p));
      },
    }),
    route({
      method: 'PATCH',
      path,
      operationId: `patch${Kind}Mapping`,
      summary: `Add or remove some of a ${kind}'s backends`,
      tag,
      access: { kind: 'pool', scope: 'write' },
      params,
      query: noQuerySchema,
      body: mappingPatchSchema,
      ifMatch: true,
      responses: [ok(schema, 'Updated.')],
      handle: async ({ params: p, body, ifMatch }, { table, nowMs }) => {
        const { record } = await mappings.patchMapping(table, kind, p.pool, nameOf(p), body, {
          ...(ifMatch !== undefined ? { ifMatch } : {}),
          nowMs,
        });
        return item(200, view(record));
      },
    }),
    route({
      method: 'DELETE',
      path,
      operationId: `delete${Kind}Mapping`,
      summary: `Remove a ${kind}'s mapping`,
      tag,
      access: { kind: 'pool', scope: 'write' },
      params,
      query: noQuerySchema,
      ifMatch: true,
      responses: [noContent],
      handle: async ({ params: p, ifMatch }, { table }) => {
        await mappings.deleteMapping(
          table,
          kind,
          p.pool,
          nameOf(p),
          ifMatch !== undefined ? { ifMatch } : {},
        );
        return deleted;
      },
    }),
  ];
}

const proxyUserRoutes: Route[] = [
  route({
    method: 'GET',
    path: '/v1/pools/{pool}/proxy-users',
    operationId: 'listProxyUsers',
    summary: "List a pool's proxy users",
    tag: 'proxy users',
    access: { kind: 'pool', scope: 'read' },
    params: poolParamsSchema,
    query: listQuerySchema,
    responses: [ok(proxyUserListSchema, 'One page of proxy users, in name order.')],
    handle: async ({ params, query }, { table, nowMs }) =>
      listReply(
        await proxyUsers.listProxyUsers(table, params.pool, page(query), nowMs),
        proxyUsers.proxyUserView,
      ),
  }),
  route({
    method: 'POST',
    path: '/v1/pools/{pool}/proxy-users',
    operationId: 'createProxyUser',
    summary: 'Create a proxy user',
    tag: 'proxy users',
    access: { kind: 'pool', scope: 'write' },
    params: poolParamsSchema,
    query: noQuerySchema,
    body: proxyUserCreateSchema,
    responses: [created(proxyUserSchema, 'Created.')],
    handle: async ({ params, body }, { table, nowMs }) => {
      const record = await proxyUsers.createProxyUser(table, params.pool, body, nowMs);
      return item(201, proxyUsers.proxyUserView(record), {
        location: pathOf('v1', 'pools', params.pool, 'proxy-users', record.name),
      });
    },
  }),
  route({
    method: 'GET',
    path: '/v1/pools/{pool}/proxy-users/{name}',
    operationId: 'getProxyUser',
    summary: 'Read a proxy user (never its password)',
    tag: 'proxy users',
    access: { kind: 'pool', scope: 'read' },
    params: proxyUserParamsSchema,
    query: noQuerySchema,
    responses: [ok(proxyUserSchema, 'The proxy user.')],
    handle: async ({ params }, { table, nowMs }) => {
      const record = await proxyUsers.getProxyUserRecord(table, params.pool, params.name, nowMs);
      return item(
        200,
        proxyUsers.proxyUserView(found(record, `proxy user "${params.name}" of pool "${params.pool}"`)),
      );
    },
  }),
  route({
    method: 'PUT',
    path: '/v1/pools/{pool}/proxy-users/{name}',
    operationId: 'putProxyUser',
    summary: 'Create or replace a proxy user',
    tag: 'proxy users',
    access: { kind: 'pool', scope: 'write' },
    params: proxyUserParamsSchema,
    query: noQuerySchema,
    body: proxyUserReplaceSchema,
    ifMatch: true,
    responses: [ok(proxyUserSchema, 'Replaced, or already so.'), created(proxyUserSchema, 'Created.')],
    handle: async ({ params, body, ifMatch }, { table, nowMs }) => {
      const { record, outcome } = await proxyUsers.putProxyUser(table, params.pool, params.name, body, {
        ...(ifMatch !== undefined ? { ifMatch } : {}),
        nowMs,
      });
      return saved(
        outcome,
        proxyUsers.proxyUserView(record),
        pathOf('v1', 'pools', params.pool, 'proxy-users', params.name),
      );
    },
  }),
  route({
    method: 'PATCH',
    path: '/v1/pools/{pool}/proxy-users/{name}',
    operationId: 'patchProxyUser',
    summary: 'Change some of a proxy user (password included)',
    tag: 'proxy users',
    access: { kind: 'pool', scope: 'write' },
    params: proxyUserParamsSchema,
    query: noQuerySchema,
    body: proxyUserPatchSchema,
    ifMatch: true,
    responses: [ok(proxyUserSchema, 'Updated.')],
    handle: async ({ params, body, ifMatch }, { table, nowMs }) => {
      const { record } = await proxyUsers.patchProxyUser(table, params.pool, params.name, body, {
        ...(ifMatch !== undefined ? { ifMatch } : {}),
        nowMs,
      });
      return item(200, proxyUsers.proxyUserView(record));
    },
  }),
  route({
    method: 'DELETE',
    path: '/v1/pools/{pool}/proxy-users/{name}',
    operationId: 'deleteProxyUser',
    summary: 'Delete a proxy user',
    tag: 'proxy users',
    access: { kind: 'pool', scope: 'write' },
    params: proxyUserParamsSchema,
    query: noQuerySchema,
    ifMatch: true,
    responses: [noContent],
    handle: async ({ params, ifMatch }, { table }) => {
      await proxyUsers.deleteProxyUser(
        table,
        params.pool,
        params.name,
        ifMatch !== undefined ? { ifMatch } : {},
      );
      return deleted;
    },
  }),
];

const tokenRoutes: Route[] = [
  route({
    method: 'GET',
    path: '/v1/tokens',
    operationId: 'listTokens',
    summary: 'List API tokens (admin; never their secrets)',
    tag: 'tokens',
    access: { kind: 'admin' },
    params: noParamsSchema,
    query: listQuerySchema,
    responses: [ok(tokenListSchema, 'One page of live tokens, in id order.')],
    handle: async ({ query }, { table, nowMs }) =>
      listReply(await tokens.listTokens(table, page(query), nowMs), tokens.tokenView),
  }),
  route({
    method: 'POST',
    path: '/v1/tokens',
    operationId: 'createToken',
    summary: 'Create an API token (admin); its secret is in this response only',
    tag: 'tokens',
    access: { kind: 'admin' },
    params: noParamsSchema,
    query: noQuerySchema,
    body: tokenCreateSchema,
    responses: [created(createdTokenSchema, 'Created; `secret` is shown this once.')],
    handle: async ({ body }, { table, nowMs }) => {
      const { record, secret } = await tokens.createToken(table, body, nowMs);
      const view = { ...tokens.tokenView(record), secret };
      return item(201, view, { location: pathOf('v1', 'tokens', record.id) });
    },
  }),
  route({
    method: 'GET',
    path: '/v1/tokens/{id}',
    operationId: 'getToken',
    summary: 'Read an API token (admin)',
    tag: 'tokens',
    access: { kind: 'admin' },
    params: tokenParamsSchema,
    query: noQuerySchema,
    responses: [ok(tokenSchema, 'The token, without its secret.')],
    handle: async ({ params }, { table, nowMs }) =>
      item(
        200,
        tokens.tokenView(found(await tokens.getToken(table, params.id, nowMs), `API token "${params.id}"`)),
      ),
  }),
  route({
    method: 'PUT',
    path: '/v1/tokens/{id}',
    operationId: 'putToken',
    summary: "Replace a token's name, scope, pools and expiry (admin; tokens are created by POST)",
    tag: 'tokens',
    access: { kind: 'admin' },
    params: tokenParamsSchema,
    query: noQuerySchema,
    body: tokenCreateSchema,
    ifMatch: true,
    responses: [ok(tokenSchema, 'Replaced, or already so.')],
    handle: async ({ params, body, ifMatch }, { table, nowMs }) => {
      const { record } = await tokens.putToken(table, params.id, body, {
        ...(ifMatch !== undefined ? { ifMatch } : {}),
        nowMs,
      });
      return item(200, tokens.tokenView(record));
    },
  }),
  route({
    method: 'PATCH',
    path: '/v1/tokens/{id}',
    operationId: 'patchToken',
    summary: 'Change some of a token (admin)',
    tag: 'tokens',
    access: { kind: 'admin' },
    params: tokenParamsSchema,
    query: noQuerySchema,
    body: tokenPatchSchema,
    ifMatch: true,
    responses: [ok(tokenSchema, 'Updated.')],
    handle: async ({ params, body, ifMatch }, { table, nowMs }) => {
      const { record } = await tokens.patchToken(table, params.id, body, {
        ...(ifMatch !== undefined ? { ifMatch } : {}),
        nowMs,
      });
      return item(200, tokens.tokenView(record));
    },
  }),
  route({
    method: 'DELETE',
    path: '/v1/tokens/{id}',
    operationId: 'deleteToken',
    summary: 'Revoke an API token (admin)',
    tag: 'tokens',
    access: { kind: 'admin' },
    params: tokenParamsSchema,
    query: noQuerySchema,
    ifMatch: true,
    responses: [noContent],
    handle: async ({ params, ifMatch }, { table }) => {
      await tokens.deleteToken(table, params.id, ifMatch !== undefined ? { ifMatch } : {});
      return deleted;
    },
  }),
];

/**
 * The shared frontend TLS caches, as mod_tls's `ftpdctl tls sesscache|ocspcache info|clear|remove`.
 * They serve every pool, so a token restricted to some pools may not see or change them; `remove`
 * (which mod_tls always refuses, its action missing from its ACL table) needs an admin.
 */
const tlsCacheRoutes: Route[] = [
  route({
    method: 'GET',
    path: '/v1/tls-cache/{kind}',
    operationId: 'getTlsCacheInfo',
    summary: 'TLS session or OCSP cache statistics (`cache info`; verbose=true lists the entries)',
    tag: 'tls-cache',
    access: { kind: 'all-pools', scope: 'read' },
    params: tlsCacheParamsSchema,
    query: tlsCacheInfoQuerySchema,
    responses: [ok(tlsCacheInfoSchema, 'The statistics.')],
    handle: async ({ params, query }, { table, nowMs }) => ({
      status: 200,
      body: await cacheInfo(table, params.kind, { verbose: query.verbose ?? false, nowMs }),
    }),
  }),
  route({
    method: 'POST',
    path: '/v1/tls-cache/{kind}/clear',
    operationId: 'clearTlsCache',
    summary: 'Remove every entry of the TLS session or OCSP cache, expired or not (`cache clear`)',
    tag: 'tls-cache',
    access: { kind: 'all-pools', scope: 'write' },
    params: tlsCacheParamsSchema,
    query: noQuerySchema,
    responses: [ok(tlsCacheClearedSchema, 'Cleared.')],
    handle: async ({ params }, { table, nowMs }) => ({
      status: 200,
      body: await clearCache(table, params.kind, nowMs),
    }),
  }),
  route({
    method: 'DELETE',
    path: '/v1/tls-cache/{kind}',
    operationId: 'removeTlsCache',
    summary: 'Remove the TLS session or OCSP cache: every entry and its statistics (`cache remove`; admin)',
    tag: 'tls-cache',
    access: { kind: 'admin' },
    params: tlsCacheParamsSchema,
    query: noQuerySchema,
    responses: [ok(tlsCacheClearedSchema, 'Removed.')],
    handle: async ({ params }, { table, nowMs }) => ({
      status: 200,
      body: await removeCache(table, params.kind, nowMs),
    }),
  }),
];

const sshHostKeyRoutes: Route[] = [
  route({
    method: 'PUT',
    path: '/v1/pools/{pool}/ssh-host-keys',
    operationId: 'pinSshHostKey',
    summary: 'Pin the SSH host key of an sftp:// backend (ProxySFTPVerifyServer)',
    tag: 'backends',
    access: { kind: 'pool', scope: 'write' },
    params: poolParamsSchema,
    query: noQuerySchema,
    body: sshHostKeyPinSchema,
    responses: [ok(sshHostKeyPinnedSchema, 'Pinned.')],
    handle: async ({ params, body }, { table, nowMs }) => {
      const parsed = parseBackendUrl(body.backend);
      if (!parsed.ok) throw new Error(parsed.error); // the body schema checked it already
      const backend = backendKey(parsed.url);
      const blob = body.key.split(' ')[1] as string;
      await writeSshHostKey(table, params.pool, backend, blob, { pinned: true, nowMs });
      return { status: 200, body: { backend, key: body.key.split(' ').slice(0, 2).join(' '), pinned: true } };
    },
  }),
];

/** Every route of the API but `GET /openapi.json` (handler.ts adds that one). */
export const registryRoutes: readonly Route[] = [
  ...poolRoutes,
  ...backendRoutes,
  ...mappingRoutes('user'),
  ...mappingRoutes('group'),
  ...proxyUserRoutes,
  ...tokenRoutes,
  ...tlsCacheRoutes,
  ...healthRoutes,
  ...publicationRoutes,
  ...sshHostKeyRoutes,
];
