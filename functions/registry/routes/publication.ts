import { z } from 'zod';
import { publicationOutcomeSchema } from '../../contract/publication.js';
import { noQuerySchema, poolParamsSchema } from '../../contract/registry.js';
import {
  deletePublication,
  getPublication,
  publicationConfigSchema,
  publishPool,
  putPublication,
} from '../../core/registry/index.js';
import { notFound } from '../../core/store/index.js';
import { ok, type Route, type RouteContext, route } from '../route.js';

const publicationSchema = publicationConfigSchema.extend({
  pool: z.string(),
  outcome: publicationOutcomeSchema.optional(),
});

/** What the publication's routes share: the tag, the pool as path parameter, no query. */
const ofPool = { tag: 'publication', params: poolParamsSchema, query: noQuerySchema } as const;

const missing = (pool: string) => notFound(`the publication of pool "${pool}"`);

/** Publishes (or withdraws) a pool's records; 404 when the pool has no publication. */
async function publishOrMissing(
  { table, publisher, nowMs }: RouteContext,
  pool: string,
  options: { withdraw?: boolean } = {},
) {
  const outcome = await publishPool(table, publisher, pool, nowMs, options);
  if (!outcome) throw missing(pool);
  return outcome;
}

/**
 * A pool's Route 53 publication: `PUT` sets it and publishes the pool's enabled backends, `DELETE`
 * withdraws every record it wrote and removes it, `POST .../sync` publishes again (after a Route 53
 * failure), `GET` shows it.
 */
export const publicationRoutes: Route[] = [
  route({
    method: 'GET',
    path: '/v1/pools/{pool}/publication',
    ...ofPool,
    operationId: 'getPublication',
    summary: "A pool's Route 53 publication",
    access: { kind: 'pool', scope: 'read' },
    responses: [ok(publicationSchema, 'The publication.')],
    handle: async ({ params }, { table }) => {
      const config = await getPublication(table, params.pool);
      if (!config) throw missing(params.pool);
      return { status: 200, body: { pool: params.pool, ...config } };
    },
  }),
  route({
    method: 'PUT',
    path: '/v1/pools/{pool}/publication',
    ...ofPool,
    operationId: 'putPublication',
    summary: "Publish a pool's backends in a Route 53 hosted zone",
    access: { kind: 'pool', scope: 'write' },
    body: publicationConfigSchema,
    responses: [ok(publicationSchema, 'Set, and published.')],
    handle: async ({ params, body }, { table, nowMs, publisher }) => {
      const previous = await getPublication(table, params.pool);
      if (previous && (previous.hostedZoneId !== body.hostedZoneId || previous.domain !== body.domain)) {
        // Moving elsewhere: the old records go first, so none is left behind.
        await publishPool(table, publisher, params.pool, nowMs, { withdraw: true, config: previous });
      }
      await putPublication(table, params.pool, body, nowMs);
      const outcome = await publishPool(table, publisher, params.pool, nowMs, { config: body });
      return { status: 200, body: { pool: params.pool, ...body, ...(outcome ? { outcome } : {}) } };
    },
  }),
  route({
    method: 'POST',
    path: '/v1/pools/{pool}/publication/sync',
    ...ofPool,
    operationId: 'syncPublication',
    summary: "Publish a pool's backends again",
    access: { kind: 'pool', scope: 'write' },
    responses: [ok(publicationOutcomeSchema, 'What publishing did.')],
    handle: async ({ params }, context) => ({
      status: 200,
      body: await publishOrMissing(context, params.pool),
    }),
  }),
  route({
    method: 'DELETE',
    path: '/v1/pools/{pool}/publication',
    ...ofPool,
    operationId: 'deletePublication',
    summary: "Withdraw a pool's published records and stop publishing",
    access: { kind: 'pool', scope: 'write' },
    responses: [ok(publicationOutcomeSchema, 'Withdrawn.')],
    handle: async ({ params }, context) => {
      const outcome = await publishOrMissing(context, params.pool, { withdraw: true });
      if (outcome.status === 'failed') return { status: 200, body: outcome };
      await deletePublication(context.table, params.pool);
      return { status: 200, body: outcome };
    },
  }),
];
