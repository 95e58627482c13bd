import { poolHealthSchema } from '../../contract/health.js';
import { noQuerySchema, poolParamsSchema } from '../../contract/registry.js';
import { DEFAULT_HEALTH_SETTINGS, poolHealthView } from '../../core/health/index.js';
import { type Route, route } from '../route.js';

/**
 * `GET /v1/pools/{pool}/health`: the pool's backend health (passive failures, cool-downs, the last
 * active check). States are judged with the default passive window; the stored times are exact.
 */
export const healthRoutes: Route[] = [
  route({
    method: 'GET',
    path: '/v1/pools/{pool}/health',
    operationId: 'getPoolHealth',
    summary: "A pool's backend health",
    tag: 'health',
    access: { kind: 'pool', scope: 'read' },
    params: poolParamsSchema,
    query: noQuerySchema,
    responses: [
      {
        status: 200,
        description: 'Every backend with a health record (the others are healthy), in backend order.',
        schema: poolHealthSchema,
      },
    ],
    handle: async ({ params }, { table, nowMs }) => ({
      status: 200,
      body: await poolHealthView(table, params.pool, nowMs, DEFAULT_HEALTH_SETTINGS),
    }),
  }),
];
