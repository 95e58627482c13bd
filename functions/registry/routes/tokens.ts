import {
  createdTokenSchema,
  noParamsSchema,
  noQuerySchema,
  tokenCreateSchema,
  tokenListSchema,
  tokenParamsSchema,
  tokenPatchSchema,
  tokenSchema,
} from '../../contract/registry.js';
import {
  createToken,
  deleteToken,
  getToken,
  listTokens,
  patchToken,
  putToken,
  tokenView,
} from '../../core/registry/index.js';
import { pathOf } from '../http.js';
import { created, route } from '../route.js';
import { item, versionedItemRoutes } from '../versioned-item-routes.js';

const ADMIN = { kind: 'admin' } as const;

/** API tokens (admin only). A token's secret is shown once, in the reply that creates it. */
export const tokenRoutes = versionedItemRoutes({
  tag: 'tokens',
  singular: 'Token',
  plural: 'Tokens',
  collection: { path: '/v1/tokens', params: noParamsSchema },
  item: { path: '/v1/tokens/{id}', params: tokenParamsSchema },
  read: ADMIN,
  write: ADMIN,
  schema: tokenSchema,
  view: tokenView,
  what: (p) => `API token "${p.id}"`,
  location: (p) => pathOf('v1', 'tokens', p.id),
  list: {
    summary: 'List API tokens (admin; never their secrets)',
    description: 'One page of live tokens, in id order.',
    schema: tokenListSchema,
    run: (_, page, { table, nowMs }) => listTokens(table, page, nowMs),
  },
  create: route({
    method: 'POST',
    path: '/v1/tokens',
    operationId: 'createToken',
    summary: 'Create an API token (admin); its secret is in this response only',
    tag: 'tokens',
    access: ADMIN,
    params: noParamsSchema,
    query: noQuerySchema,
    body: tokenCreateSchema,
    responses: [created(createdTokenSchema, 'Created; `secret` is shown this once.')],
    handle: async ({ body }, { table, nowMs }) => {
      const { record, secret } = await createToken(table, body, nowMs);
      const view = { ...tokenView(record), secret };
      return item(201, view, { location: pathOf('v1', 'tokens', record.id) });
    },
  }),
  get: {
    summary: 'Read an API token (admin)',
    description: 'The token, without its secret.',
    run: (p, { table, nowMs }) => getToken(table, p.id, nowMs),
  },
  put: {
    summary: "Replace a token's name, scope, pools and expiry (admin; tokens are created by POST)",
    body: tokenCreateSchema,
    creates: false,
    run: (p, body, options, { table }) => putToken(table, p.id, body, options),
  },
  patch: {
    summary: 'Change some of a token (admin)',
    body: tokenPatchSchema,
    run: (p, body, options, { table }) => patchToken(table, p.id, body, options),
  },
  delete: {
    summary: 'Revoke an API token (admin)',
    run: (p, options, { table }) => deleteToken(table, p.id, options),
  },
});
