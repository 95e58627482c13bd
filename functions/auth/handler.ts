import middy from '@middy/core';
import { type AuthRequestParsed, type AuthResponse, authRequestSchema } from '../contract/auth.js';
import {
  type AuthenticateOptions,
  authenticate,
  type IdentityHookConfig,
  identityHookConfigSchema,
} from '../core/auth/index.js';
import { lambdaEntry, tableFromEnv, validateEvent } from '../core/handler/index.js';
import type { Table } from '../core/store/index.js';

export interface AuthDeps {
  table: Table;
  /** External identity hooks (identity-hook.ts); pools none covers use the store's proxy users. */
  identityHook?: IdentityHookConfig | readonly IdentityHookConfig[];
  /** Epoch milliseconds; defaults to Date.now. */
  now?: () => number;
}

/** Builds the handler around its dependencies: Lambda takes them from the environment, embedded mode passes its own. */
export function createAuthHandler(deps: AuthDeps) {
  const { table, ...rest } = deps;
  // Checked now, so a wrong configuration fails at start rather than at every login.
  const hooks =
    rest.identityHook === undefined
      ? []
      : Array.isArray(rest.identityHook)
        ? rest.identityHook
        : [rest.identityHook];
  for (const hook of hooks as IdentityHookConfig[]) identityHookConfigSchema.parse(hook);
  const options: AuthenticateOptions = rest;
  return middy<AuthRequestParsed, AuthResponse>()
    .use(validateEvent(authRequestSchema))
    .handler(async (event) => authenticate(table, event, options));
}

/**
 * The identity hook as Lambda is given it: `FTPX_IDENTITY_HOOK_URL` (https), and optionally
 * `FTPX_IDENTITY_HOOK_TIMEOUT_MS`, `FTPX_IDENTITY_HOOK_TOKEN` (bearer), `FTPX_IDENTITY_HOOK_SECRET_HEADER`
 * with `FTPX_IDENTITY_HOOK_SECRET` (a shared-secret header), `FTPX_IDENTITY_HOOK_CA` (PEM) and
 * `FTPX_IDENTITY_HOOK_POOLS` (comma-separated; all pools without it). Undefined without a URL.
 */
export function identityHookFromEnv(env: NodeJS.ProcessEnv = process.env): IdentityHookConfig | undefined {
  const url = env.FTPX_IDENTITY_HOOK_URL;
  if (!url) return undefined;
  const config: IdentityHookConfig = { url };
  if (env.FTPX_IDENTITY_HOOK_TIMEOUT_MS) config.timeoutMs = Number(env.FTPX_IDENTITY_HOOK_TIMEOUT_MS);
  if (env.FTPX_IDENTITY_HOOK_TOKEN) config.bearerToken = env.FTPX_IDENTITY_HOOK_TOKEN;
  if (env.FTPX_IDENTITY_HOOK_SECRET) {
    config.secretHeader = {
      name: env.FTPX_IDENTITY_HOOK_SECRET_HEADER ?? 'x-ftpx-hook-secret',
      value: env.FTPX_IDENTITY_HOOK_SECRET,
    };
  }
  if (env.FTPX_IDENTITY_HOOK_CA) config.ca = env.FTPX_IDENTITY_HOOK_CA;
  if (env.FTPX_IDENTITY_HOOK_POOLS) {
    config.pools = env.FTPX_IDENTITY_HOOK_POOLS.split(',')
      .map((pool) => pool.trim())
      .filter((pool) => pool !== '');
  }
  return identityHookConfigSchema.parse(config);
}

/** The Lambda entry point (Powertools logging and metrics). Built on first use so importing this module has no side effects. */
export const handler = lambdaEntry('auth', () => {
  const identityHook = identityHookFromEnv();
  return createAuthHandler({ table: tableFromEnv(), ...(identityHook ? { identityHook } : {}) });
});
