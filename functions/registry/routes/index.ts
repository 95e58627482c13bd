import type { Route } from '../route.js';
import { backendRoutes } from './backends.js';
import { banRoutes } from './bans.js';
import { healthRoutes } from './health.js';
import { mappingRoutes } from './mappings.js';
import { poolRoutes } from './pools.js';
import { proxyUserRoutes } from './proxy-users.js';
import { publicationRoutes } from './publication.js';
import { sshHostKeyRoutes } from './ssh-host-keys.js';
import { tlsCacheRoutes } from './tls-cache.js';
import { tokenRoutes } from './tokens.js';

/**
 * Every route of the API but `GET /openapi.json` (handler.ts adds that one), one module a resource.
 * The OpenAPI document lists paths and tags in this order.
 */
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
  ...banRoutes,
];
