import type { z } from 'zod';
import type { TokenScope } from '../contract/registry.js';
import type { Principal, Route53Publisher } from '../core/registry/index.js';
import type { Table } from '../core/store/index.js';
import type { Reply } from './http.js';
import type { HttpMethod } from './router.js';

/**
 * One row of the registry API: its method and path, who may call it, the zod schemas of its path
 * parameters, query and body, its responses, and a thin handler calling the domain code in
 * core/registry. The dispatcher (handler.ts) validates and authorizes before a handler runs; the
 * OpenAPI document (openapi.ts) is generated from the same rows (routes/index.ts lists them).
 */

/**
 * Who may call a route. `pool`: the principal's pools must include the `pool` path parameter and
 * its scope must be at least `scope`. A pool outside the principal's pools answers 404 to GET (as a
 * missing pool would: no tenant learns another's pool names) and 403 to changes (whether the pool
 * exists or not). `authenticated`: any valid token (lists filter to the principal's pools).
 */
export type Access =
  | { kind: 'public' }
  | { kind: 'authenticated' }
  | { kind: 'pool'; scope: Exclude<TokenScope, 'admin'> }
  /** State shared by every pool (the TLS caches): a token for all pools (`*`) with at least `scope`. */
  | { kind: 'all-pools'; scope: TokenScope }
  | { kind: 'admin' };

export interface RouteContext {
  table: Table;
  nowMs: number;
  principal: Principal;
  /** Route 53 publication (pools with a publication); absent: not configured. */
  publisher?: Route53Publisher;
}

export interface RouteResponse {
  status: number;
  description: string;
  /** Replies with this status are parsed with it on the way out (unknown fields stripped). */
  schema?: z.ZodType;
}

export interface RouteInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  /** The If-Match header as a version (routes with `ifMatch` only). */
  ifMatch: number | undefined;
}

/** What every row names: method, path, the operation in the OpenAPI document, who may call it, its replies. */
interface RouteRow {
  method: HttpMethod;
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  access: Access;
  responses: RouteResponse[];
}

export interface Route extends RouteRow {
  params: z.ZodType;
  query: z.ZodType;
  body?: z.ZodType;
  /** Whether the route honours If-Match (PUT, PATCH, DELETE of a versioned item). */
  ifMatch: boolean;
  handle(input: RouteInput<unknown, unknown, unknown>, context: RouteContext): Promise<Reply>;
}

export interface RouteDefinition<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType | undefined>
  extends RouteRow {
  params: P;
  query: Q;
  body?: B;
  ifMatch?: boolean;
  handle(
    input: RouteInput<z.output<P>, z.output<Q>, B extends z.ZodType ? z.output<B> : undefined>,
    context: RouteContext,
  ): Promise<Reply>;
}

/** A row, its handler typed by its own schemas (the dispatcher has parsed the input with them). */
export function route<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType | undefined = undefined>(
  definition: RouteDefinition<P, Q, B>,
): Route {
  return {
    ...definition,
    ifMatch: definition.ifMatch ?? false,
    handle: definition.handle as Route['handle'],
  };
}

export const ok = (schema: z.ZodType, description: string): RouteResponse => ({
  status: 200,
  description,
  schema,
});
export const created = (schema: z.ZodType, description: string): RouteResponse => ({
  status: 201,
  description,
  schema,
});
export const noContent: RouteResponse = { status: 204, description: 'Deleted.' };
