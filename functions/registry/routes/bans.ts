import { banCreateSchema, banListSchema, banParamsSchema, banSchema } from '../../contract/abuse.js';
import { noParamsSchema, noQuerySchema } from '../../contract/registry.js';
import { activeBans, addBan, InvalidBanError, removeBan } from '../../core/bans/index.js';
import { HttpError } from '../http.js';
import { noContent, ok, type Route, route } from '../route.js';

const ADMIN = { kind: 'admin' } as const;

/**
 * mod_ban's ban list (`ftpctl ban`), shared by every edge worker: each polls it, so a ban made here
 * refuses the client on every node within the poll interval (bans.pollInterval, 2 s by default).
 */
export const banRoutes: Route[] = [
  route({
    method: 'GET',
    path: '/v1/bans',
    operationId: 'listBans',
    summary: 'List the live bans (admin)',
    tag: 'bans',
    access: ADMIN,
    params: noParamsSchema,
    query: noQuerySchema,
    responses: [ok(banListSchema, 'Every ban not yet expired, autobans included.')],
    handle: async (_, { table, nowMs }) => ({ status: 200, body: { items: await activeBans(table, nowMs) } }),
  }),
  route({
    method: 'PUT',
    path: '/v1/bans/{kind}/{value}',
    operationId: 'putBan',
    summary: 'Ban a host (client address or network, %2F-encoded: 203.0.113.0%2F24), user or class (admin)',
    tag: 'bans',
    access: ADMIN,
    params: banParamsSchema,
    query: noQuerySchema,
    body: banCreateSchema,
    responses: [ok(banSchema, 'Banned (a ban of the same host, user or class is replaced).')],
    handle: async ({ params, body }, { table, nowMs }) => ({
      status: 200,
      body: await invalidAs400(() =>
        addBan(
          table,
          {
            kind: params.kind,
            value: params.value,
            reason: body.reason,
            ...(body.message !== undefined ? { message: body.message } : {}),
            ...(body.expiresInSeconds !== undefined ? { durationMs: body.expiresInSeconds * 1000 } : {}),
          },
          nowMs,
        ),
      ),
    }),
  }),
  route({
    method: 'DELETE',
    path: '/v1/bans/{kind}/{value}',
    operationId: 'deleteBan',
    summary: 'Lift a ban (admin)',
    tag: 'bans',
    access: ADMIN,
    params: banParamsSchema,
    query: noQuerySchema,
    responses: [noContent],
    handle: async ({ params }, { table }) => {
      if (!(await invalidAs400(() => removeBan(table, params.kind, params.value))))
        throw new HttpError(404, 'not_found', `no ban of ${params.kind} ${params.value}`);
      return { status: 204 };
    },
  }),
];

/** A host network that does not parse is the caller's mistake: 400 with the parser's reason. */
async function invalidAs400<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof InvalidBanError) throw new HttpError(400, 'invalid_request', err.message);
    throw err;
  }
}
