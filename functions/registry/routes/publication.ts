import { z } from 'zod';
import { publicationOutcomeSchema } from '../../contract/publication.js';
import { noQuerySchema, poolParamsSchema } from '../../contract/registry.js';
import { notFound } from '../../shared/registry/errors.js';
import { publishPool } from '../../shared/registry/publication.js';
import {
  deletePublication,
  getPublication,
  publicationConfigSchema,
  putPublication,
} from '../../shared/registry/publication-config.js';
import { type Route, route } from '../route.js';

const publicationSchema = publicationConfigSchema.extend({
  pool: z.string(),
  outcome: publicationOutcomeSchema.optional(),
});

/**
 * A pool's Route 53 publication: `PUT` sets it and publishes the pool's enabled backends, `DELETE`
 * withdraws every record it wrote and removes it, `POST .../sync` publishes again (after a Route 53
 * failure), `GET` shows it.
 */
export const publicationRoutes: Route[] = [
  route({
    method: 'GET',
    path: '/v1/pools/{pool}/publication',
    operationId: 'getPublication',
    summary: "A pool's Route 53 publication",
    tag: 'publication',
    access: { kind: 'pool', scope: 'read' },
    params: poolParamsSchema,
    query: noQuerySchema,
    responses: [{ status: 200, description: 'The publication.', schema: publicationSchema }],
    handle: async ({ params }, { table }) => {
      const config = await getPublication(table, params.pool);
      if (!config) throw notFound(`the publication of pool "${params.pool}"`);
      return { status: 200, body: { pool: params.pool, ...config } };
    },
  }),
  route({
    method: 'PUT',
    path: '/v1/pools/{pool}/publication',
    operationId: 'putPublication',
    summary: "Publish a pool's backends in a Route 53 hosted zone",
    tag: 'publication',
    access: { kind: 'pool', scope: 'write' },
    params: poolParamsSchema,
    query: noQuerySchema,
    body: publicationConfigSchema,
    responses: [{ status: 200, description: 'Set, and published.', schema: publicationSchema }],
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
    operationId: 'syncPublication',
    summary: "Publish a pool's backends again",
    tag: 'publication',
    access: { kind: 'pool', scope: 'write' },
    params: poolParamsSchema,
    query: noQuerySchema,
    responses: [{ status: 200, description: 'What publishing did.', schema: publicationOutcomeSchema }],
    handle: async ({ params }, { table, nowMs, publisher }) => {
      const outcome = await publishPool(table, publisher, params.pool, nowMs);
      if (!outcome) throw notFound(`the publication of pool "${params.pool}"`);
      return { status: 200, body: outcome };
    },
  }),
  route({
    method: 'DELETE',
    path: '/v1/pools/{pool}/publication',
    operationId: 'deletePublication',
    summary: "Withdraw a pool's published records and stop publishing",
    tag: 'publication',
    access: { kind: 'pool', scope: 'write' },
    params: poolParamsSchema,
    query: noQuerySchema,
    responses: [{ status: 200, description: 'Withdrawn.', schema: publicationOutcomeSchema }],
    handle: async ({ params }, { table, nowMs, publisher }) => {
      const outcome = await publishPool(table, publisher, params.pool, nowMs, { withdraw: true });
      if (!outcome) throw notFound(`the publication of pool "${params.pool}"`);
      if (outcome.status === 'failed') return { status: 200, body: outcome };
      await deletePublication(table, params.pool);
      return { status: 200, body: outcome };
    },
  }),
];
