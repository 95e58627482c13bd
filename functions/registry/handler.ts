import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { noParamsSchema, noQuerySchema } from '../contract/registry.js';
import { lambdaEntry, tableFromEnv } from '../core/handler/index.js';
import {
  allowsPool,
  authenticateBearer,
  type GatewayAuthorizer,
  hasScope,
  type Principal,
  principalFromGateway,
  type Route53Publisher,
  route53PublisherFromEnv,
  sharedTokenProblem,
} from '../core/registry/index.js';
import type { Table } from '../core/store/index.js';
import { RegistryError } from '../core/store/index.js';
import { entryLogger } from '../core/telemetry/index.js';
import {
  errorReply,
  fromRegistryError,
  HttpError,
  header,
  ifMatchVersion,
  invalid,
  jsonBody,
  type Reply,
  result,
} from './http.js';
import { buildOpenApiDocument, OPENAPI_PATH } from './openapi.js';
import type { Route } from './route.js';
import { createRouter, type RouteMatch } from './router.js';
import { registryRoutes } from './routes/index.js';

export interface RegistryDeps {
  table: Table;
  /** Epoch milliseconds; defaults to Date.now (tests pass a clock they move). */
  now?: () => number;
  /** A token that is an admin without being stored (to create the first tokens). Unset: none. */
  bootstrapToken?: string;
  /**
   * Deployed behind API Gateway with a JWT or IAM authorizer: take the caller from the authorizer's
   * context (see principalFromGateway) instead of a bearer token. Never set it where the event could
   * come from anyone but API Gateway. Requests without authorizer context still use bearer tokens.
   */
  trustGatewayAuthorizer?: boolean;
  /** Structured log lines (one per request; errors with their name). Defaults to JSON on stdout. */
  log?: (entry: Record<string, unknown>) => void;
  /** Route 53 publication of pools that have one (core/registry/publication.ts); unset: none. */
  publisher?: Route53Publisher;
}

type Event = APIGatewayProxyEventV2;
type Result = APIGatewayProxyStructuredResultV2;

/** The route of the document itself: public, no parameters. */
const openApiRoute = (document: () => unknown): Route => ({
  method: 'GET',
  path: OPENAPI_PATH,
  operationId: 'getOpenApiDocument',
  summary: 'This API as an OpenAPI 3.1 document',
  tag: 'meta',
  access: { kind: 'public' },
  params: noParamsSchema,
  query: noQuerySchema,
  ifMatch: false,
  responses: [{ status: 200, description: 'The document.' }],
  handle: async () => ({ status: 200, body: document() }),
});

/**
 * The registration API as an API Gateway HTTP API (payload 2.0) handler. Per request: route
 * (404/405), authenticate (401), validate path parameters (400), authorize (403, or 404 for a
 * GET outside the caller's pools), query and If-Match (400), body (415/400), then the route's
 * domain call; replies are checked against their schema on the way out, so a field that must not
 * leave (a password, a hash) is dropped even if domain code returned it.
 */
export function createRegistryHandler(deps: RegistryDeps) {
  // A short bootstrap token is an admin password anyone who reaches the API can guess at.
  const weak =
    deps.bootstrapToken !== undefined
      ? sharedTokenProblem('the bootstrap token', deps.bootstrapToken)
      : undefined;
  if (weak !== undefined) throw new TypeError(weak);
  const now = deps.now ?? Date.now;
  const log = deps.log ?? ((entry) => console.log(JSON.stringify(entry)));
  let document: unknown;
  const openApiDocument = () => {
    document ??= buildOpenApiDocument(registryRoutes);
    return document;
  };
  const openApi = openApiRoute(openApiDocument);
  const router = createRouter(
    [...registryRoutes, openApi].map((route) => ({ method: route.method, path: route.path, value: route })),
  );

  const handle = async (event: Event, context: Context | undefined): Promise<Result> => {
    const started = Date.now();
    const method = (event.requestContext?.http?.method ?? 'GET').toUpperCase();
    const requestId = event.requestContext?.requestId ?? context?.awsRequestId;
    let route: Route | undefined;
    let principal: Principal | undefined;
    let reply: Reply;
    try {
      const match = matchRequest(router, method, event);
      if (match.kind === 'not-found') throw new HttpError(404, 'not_found', 'no such resource');
      if (match.kind === 'method-not-allowed') {
        throw new HttpError(405, 'method_not_allowed', `${method} is not allowed here`, undefined, {
          allow: match.allow.join(', '),
        });
      }
      route = match.value;
      reply = await serve(route, match.params, event);
    } catch (err) {
      reply = errorReply(asHttpError(err, (entry) => log({ level: 'error', requestId, ...entry })));
    }
    log({
      level: 'info',
      msg: 'registry request',
      requestId,
      method,
      route: route?.path,
      status: reply.status,
      principal: principal?.id,
      ms: Date.now() - started,
    });
    return result(reply);

    async function serve(route: Route, rawParams: Record<string, string>, event: Event): Promise<Reply> {
      const nowMs = now();
      if (route === openApi) return { status: 200, body: openApiDocument() };
      principal = await authenticate(event, nowMs);
      if (!principal) {
        throw new HttpError(401, 'unauthorized', 'a valid bearer token is required', undefined, {
          'www-authenticate': 'Bearer realm="ftpx-registry"',
        });
      }
      const params = route.params.safeParse(rawParams);
      if (!params.success) throw invalid('path', params.error);
      authorize(route, principal, params.data as Record<string, unknown>, method);
      const query = route.query.safeParse(event.queryStringParameters ?? {});
      if (!query.success) throw invalid('query', query.error);
      const ifMatch = route.ifMatch ? ifMatchVersion(event) : undefined;
      let body: unknown;
      if (route.body) {
        const parsed = route.body.safeParse(jsonBody(event));
        if (!parsed.success) throw invalid('body', parsed.error);
        body = parsed.data;
      }
      const reply = await route.handle(
        { params: params.data, query: query.data, body, ifMatch },
        { table: deps.table, nowMs, principal, ...(deps.publisher ? { publisher: deps.publisher } : {}) },
      );
      return checked(route, reply);
    }
  };

  async function authenticate(event: Event, nowMs: number): Promise<Principal | undefined> {
    if (deps.trustGatewayAuthorizer) {
      const authorizer = (event.requestContext as { authorizer?: GatewayAuthorizer } | undefined)?.authorizer;
      if (authorizer?.jwt || authorizer?.iam) return principalFromGateway(authorizer);
    }
    return authenticateBearer(deps.table, header(event, 'authorization'), {
      bootstrapToken: deps.bootstrapToken,
      nowMs,
    });
  }

  return middy<Event, Result>().handler((event, context) => handle(event, context));
}

function authorize(
  route: Route,
  principal: Principal,
  params: Record<string, unknown>,
  method: string,
): void {
  const access = route.access;
  if (access.kind === 'admin' && !hasScope(principal, 'admin')) {
    throw new HttpError(403, 'forbidden', 'this needs an admin token');
  }
  if (access.kind === 'all-pools') {
    if (principal.pools !== '*')
      throw new HttpError(403, 'forbidden', 'this needs a token for all pools (*)');
    if (!hasScope(principal, access.scope)) {
      throw new HttpError(403, 'forbidden', `this needs a token with ${access.scope} scope`);
    }
    return;
  }
  if (access.kind !== 'pool') return;
  const pool = String(params.pool);
  if (!allowsPool(principal, pool)) {
    // Reads answer as if the pool did not exist; changes are refused whether it exists or not.
    if (method === 'GET') throw new HttpError(404, 'not_found', `pool "${pool}" not found`);
    throw new HttpError(403, 'forbidden', `this token may not change pool "${pool}"`);
  }
  if (!hasScope(principal, access.scope)) {
    throw new HttpError(403, 'forbidden', `this needs a token with ${access.scope} scope`);
  }
}

/** Parses a reply body with the route's schema for its status: unknown fields are dropped. */
function checked(route: Route, reply: Reply): Reply {
  const schema = route.responses.find((response) => response.status === reply.status)?.schema;
  if (!schema || reply.body === undefined) return reply;
  const parsed = schema.safeParse(reply.body);
  // Never echo the offending reply: it may be exactly what must not leave.
  if (!parsed.success) throw new Error(`reply of ${route.method} ${route.path} does not match its schema`);
  return { ...reply, body: parsed.data };
}

/**
 * Routes the raw path. Reached through API Gateway's default endpoint with a named stage, the path
 * starts with `/<stage>`; through a custom domain it does not. Both are tried, the raw path first.
 */
function matchRequest(
  router: ReturnType<typeof createRouter<Route>>,
  method: string,
  event: Event,
): RouteMatch<Route> {
  const path = event.rawPath ?? '/';
  const first = router.match(method, path);
  const stage = event.requestContext?.stage;
  if (first.kind !== 'not-found' || !stage || stage === '$default' || !path.startsWith(`/${stage}/`))
    return first;
  return router.match(method, path.slice(stage.length + 1));
}

function asHttpError(err: unknown, logError: (entry: Record<string, unknown>) => void): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof RegistryError) return fromRegistryError(err);
  // Only the error's name and our own message: never a request body, header or AWS SDK detail.
  const name = err instanceof Error ? err.name : typeof err;
  const message = err instanceof Error ? err.message : undefined;
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause.name : undefined;
  logError({ msg: 'registry request failed', error: name, message, cause });
  return new HttpError(500, 'internal', 'internal error');
}

/**
 * The Lambda entry point (built on first use; Powertools logging and metrics). Environment:
 * FTPX_TABLE_NAME (and optionally FTPX_STORE_ENDPOINT), FTPX_BOOTSTRAP_TOKEN (optional),
 * FTPX_TRUST_GATEWAY_AUTHORIZER=true when API Gateway's JWT or IAM authorizer fronts the function.
 */
export const handler: (event: Event, context: Context) => Promise<Result> = lambdaEntry(
  'registry',
  (telemetry) =>
    createRegistryHandler({
      table: tableFromEnv(),
      ...(process.env.FTPX_BOOTSTRAP_TOKEN ? { bootstrapToken: process.env.FTPX_BOOTSTRAP_TOKEN } : {}),
      trustGatewayAuthorizer: process.env.FTPX_TRUST_GATEWAY_AUTHORIZER === 'true',
      publisher: route53PublisherFromEnv(),
      log: entryLogger(telemetry.log),
    }),
);
