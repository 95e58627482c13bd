import { createHash } from 'node:crypto';
import type { TokenScope } from '../../contract/registry.js';
import type { Table } from '../store/index.js';
import { findTokenBySecret, touchToken } from './api-tokens.js';
import { constantTimeEqual } from './password-hash.js';

/**
 * Who is calling the registry API and what they may do. Scopes are ordered: `read` may GET inside
 * its pools; `write` may also change those pools' contents (backends, mappings, proxy users) and an
 * existing pool's settings; `admin` may do everything, including creating and deleting pools and
 * managing tokens, and always covers every pool.
 */
export interface Principal {
  /** bootstrap: the configured bootstrap token; token: a stored API token; gateway: API Gateway's authorizer. */
  kind: 'bootstrap' | 'token' | 'gateway';
  /** For logs: the token id, `bootstrap`, or the authorizer's subject. Never a secret. */
  id: string;
  scope: TokenScope;
  pools: '*' | readonly string[];
}

const RANK: Record<TokenScope, number> = { read: 0, write: 1, admin: 2 };

export function hasScope(principal: Principal, needed: TokenScope): boolean {
  return RANK[principal.scope] >= RANK[needed];
}

export function allowsPool(principal: Principal, pool: string): boolean {
  return principal.pools === '*' || principal.pools.includes(pool);
}

/** The token of an `Authorization: Bearer <token>` header, if that is what it is. */
export function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i.exec(authorization ?? '');
  return match?.[1];
}

/**
 * The principal of a bearer token: the bootstrap token (compared in constant time) is an admin;
 * anything else must be a live stored token, found by its hash. Undefined when neither.
 */
export async function authenticateBearer(
  table: Table,
  authorization: string | undefined,
  options: { bootstrapToken?: string | undefined; nowMs: number },
): Promise<Principal | undefined> {
  const token = bearerToken(authorization);
  if (token === undefined) return undefined;
  if (options.bootstrapToken && constantTimeEqual(digest(token), digest(options.bootstrapToken))) {
    return { kind: 'bootstrap', id: 'bootstrap', scope: 'admin', pools: '*' };
  }
  const record = await findTokenBySecret(table, token, options.nowMs);
  if (!record) return undefined;
  await touchToken(table, record, options.nowMs).catch(() => undefined);
  return { kind: 'token', id: record.id, scope: record.scope, pools: record.pools };
}

/** What API Gateway's authorizer put in an HTTP API (payload 2.0) event's request context. */
export interface GatewayAuthorizer {
  jwt?: { claims?: Record<string, unknown>; scopes?: string[] | null };
  iam?: { userArn?: string | null; userId?: string | null };
}

/** The claim naming a JWT caller's pools: "*", or pool names separated by commas or spaces. */
export const JWT_POOLS_CLAIM = 'ftpx:pools';

/**
 * The principal of a request API Gateway already authorized (deployed mode, when the handler is
 * told to trust it). JWT: the scope is the highest of `ftpx/read`, `ftpx/write`, `ftpx/admin`
 * found in the token's scopes (`scope`/`scp` claims), the pools come from the `ftpx:pools` claim.
 * IAM: the route-level IAM policy (execute-api:Invoke on method and path) is the authorization, so
 * the caller is treated as admin; restrict IAM callers to pools with resource ARNs in the policy.
 */
export function principalFromGateway(authorizer: GatewayAuthorizer | undefined): Principal | undefined {
  if (authorizer?.jwt) {
    const claims = authorizer.jwt.claims ?? {};
    const scopes = new Set([...(authorizer.jwt.scopes ?? []), ...words(claims.scope), ...words(claims.scp)]);
    const scope = (['admin', 'write', 'read'] as const).find((name) => scopes.has(`ftpx/${name}`));
    if (!scope) return undefined;
    const id = typeof claims.sub === 'string' ? `jwt:${claims.sub}` : 'jwt';
    if (scope === 'admin') return { kind: 'gateway', id, scope, pools: '*' };
    const pools = words(claims[JWT_POOLS_CLAIM]);
    if (pools.length === 0) return undefined;
    return { kind: 'gateway', id, scope, pools: pools.includes('*') ? '*' : pools };
  }
  if (authorizer?.iam) {
    return {
      kind: 'gateway',
      id: `iam:${authorizer.iam.userArn ?? authorizer.iam.userId ?? 'unknown'}`,
      scope: 'admin',
      pools: '*',
    };
  }
  return undefined;
}

function words(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  if (typeof value !== 'string') return [];
  // HTTP APIs pass array claims as "[a b]".
  return value
    .replace(/^\[|\]$/g, '')
    .split(/[\s,]+/)
    .filter((word) => word !== '');
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
