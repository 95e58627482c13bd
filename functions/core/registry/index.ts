/** The public surface of functions/core/registry/: import from here, not from its files (docs/layers.md). */

export {
  createToken,
  deleteToken,
  getToken,
  listTokens,
  patchToken,
  putToken,
  tokenView,
} from './api-tokens.js';
export {
  allowsPool,
  authenticateBearer,
  type GatewayAuthorizer,
  hasScope,
  type Principal,
  principalFromGateway,
} from './auth.js';
export {
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
} from './backend-mappings.js';
export {
  backendView,
  createBackend,
  deleteBackend,
  getBackend,
  listBackends,
  patchBackend,
  putBackend,
} from './backends.js';
export {
  formatPasswordHash,
  PASSWORD_HASH_DEFAULTS,
  parsePasswordHash,
  verifyPassword,
} from './password-hash.js';
export {
  createPool,
  deletePool,
  getPool,
  listPools,
  patchPool,
  poolGuard,
  poolView,
  putPool,
} from './pools.js';
export {
  createProxyUser,
  deleteProxyUser,
  getProxyUserRecord,
  listProxyUsers,
  patchProxyUser,
  proxyUserKind,
  proxyUserView,
  putProxyUser,
} from './proxy-users.js';
export { publishPool } from './publication.js';
export {
  deletePublication,
  getPublication,
  publicationConfigSchema,
  putPublication,
} from './publication-config.js';
export { type Route53Publisher, route53PublisherFromEnv } from './publication-route53.js';
export { listPoolBackends, lookupGroupBackends, lookupUserBackends } from './read-side.js';
export { MIN_SHARED_TOKEN_LENGTH, sharedTokenProblem } from './token-secret.js';
