import { noQuerySchema } from '../../contract/registry.js';
import {
  tlsCacheClearedSchema,
  tlsCacheClearQuerySchema,
  tlsCacheInfoQuerySchema,
  tlsCacheInfoSchema,
  tlsCacheParamsSchema,
} from '../../contract/tls-cache.js';
import { cacheInfo, clearCache, removeCache, TlsCacheRequestError } from '../../core/tls-cache/index.js';
import { HttpError } from '../http.js';
import { ok, type Route, route } from '../route.js';

/**
 * The shared frontend TLS caches, as mod_tls's `ftpdctl tls sesscache|ocspcache info|clear|remove`,
 * and the backend TLS session cache (mod_proxy's) with the same three; its `clear` may name a backend.
 * They serve every pool, so a token restricted to some pools may not see or change them; `remove`
 * (which mod_tls always refuses, its action missing from its ACL table) needs an admin.
 */
export const tlsCacheRoutes: Route[] = [
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
    summary:
      'Remove every entry of the cache, expired or not (`cache clear`); backend-sessions: `backend=` removes one backend’s',
    tag: 'tls-cache',
    access: { kind: 'all-pools', scope: 'write' },
    params: tlsCacheParamsSchema,
    query: tlsCacheClearQuerySchema,
    responses: [ok(tlsCacheClearedSchema, 'Cleared.')],
    handle: async ({ params, query }, { table, nowMs }) => {
      try {
        return { status: 200, body: await clearCache(table, params.kind, nowMs, { backend: query.backend }) };
      } catch (err) {
        if (err instanceof TlsCacheRequestError) throw new HttpError(400, 'invalid_request', err.message);
        throw err;
      }
    },
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
