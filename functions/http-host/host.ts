import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createAbuseHandler } from '../abuse/handler.js';
import { createAuthHandler } from '../auth/handler.js';
import type { IdentityHookConfig } from '../core/auth/index.js';
import type { DiscoveryContext } from '../core/discovery/index.js';
import { errorResult, type HttpHandler, httpAdapter, lambdaContext } from '../core/handler/index.js';
import type { HealthSettings } from '../core/health/index.js';
import type { Random } from '../core/random.js';
import type { Table } from '../core/store/index.js';
import { parseTraceparent, traceLogFields } from '../core/telemetry/index.js';
import { createResolveBackendHandler } from '../resolve-backend/handler.js';
import { createSessionEventsHandler } from '../session-events/handler.js';
import { createSshHostKeysHandler } from '../ssh-host-keys/handler.js';
import { normalizeResult, toApiGatewayEvent } from './api-gateway-event.js';
import { FailedAuthLimiter, type FailedAuthLimiterOptions } from './failed-auth-limiter.js';

/** Structured logging, as the edge worker's Logger does it (which satisfies this). */
export interface HostLog {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** Whether lines of `level` are written; without it every line's fields are built. */
  isEnabled?(level: 'debug'): boolean;
}

export interface ControlPlaneHostOptions {
  /** Port 0 takes a free port; the returned url names the one taken. */
  listen: { host: string; port: number };
  table: Table;
  /**
   * When set, the edge-facing routes (resolve-backend, session-events, authenticate, tls-cache, ssh-host-keys) require
   * `Authorization: Bearer <edgeToken>`; without it they are open to whoever reaches the port.
   */
  edgeToken?: string;
  /**
   * HTTPS with this certificate chain and key (PEM); without it plain HTTP, which only loopback or
   * a private network the operator trusts should carry (tokens and backend credentials cross it).
   */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Failed bearer attempts per source (see FailedAuthLimiter); defaults to 10 in a burst, 10 a minute. */
  failedAuth?: FailedAuthLimiterOptions;
  /**
   * Serves everything else under /v1/ and GET /openapi.json (the registry API and its document);
   * without it those answer 404.
   */
  registry?: HttpHandler;
  log: HostLog;
  /** Largest request body accepted; larger ones get 413. Defaults to 1 MiB. */
  maxBodyBytes?: number;
  /** How long a handler may run before the request gets 504. Defaults to 10 s. */
  handlerTimeoutMs?: number;
  /** How long a client may take to send a whole request. Defaults to 30 s. */
  requestTimeoutMs?: number;
  /** How long close() waits for requests in flight before cutting connections. Defaults to 2 s. */
  closeGraceMs?: number;
  /** Passed to the session-events function: how long a lease lives without a heartbeat (30 s). */
  leaseTtlMs?: number;
  /** Passed to the auth function: external identity hooks (pools none covers use proxy users). */
  identityHook?: IdentityHookConfig | readonly IdentityHookConfig[];
  /** Passed to resolve-backend: the resolver and shared cache for `+srv` / `+txt` backends. */
  discovery?: DiscoveryContext;
  /** Passed to resolve-backend and session-events: passive health and whenAllUnhealthy. */
  health?: HealthSettings;
  /** Passed to the functions (tests). */
  now?: () => number;
  random?: Random;
}

export interface ControlPlaneHost {
  /** `http(s)://host:port`, the base URL edge workers are given. */
  url: string;
  host: string;
  port: number;
  /** Stops accepting, lets requests in flight finish (up to closeGraceMs), then closes every connection. */
  close(): Promise<void>;
}

/** The edge-facing routes: the functions every edge worker calls on every session. */
export const EDGE_ROUTES = {
  'POST /v1/resolve-backend': 'resolve-backend',
  'POST /v1/session-events': 'session-events',
  'POST /v1/authenticate': 'authenticate',
  'POST /v1/tls-cache': 'tls-cache',
  'POST /v1/ssh-host-keys': 'ssh-host-keys',
  'POST /v1/abuse': 'abuse',
} as const;

const DEFAULT_MAX_BODY = 1024 * 1024;
/** Past this much unread body after a 413, the connection is cut rather than drained. */
const MAX_DRAIN_FACTOR = 8;

interface Route {
  routeKey: string;
  functionName: string;
  handler: HttpHandler;
  /** Needs the edge token. */
  edge: boolean;
}

/**
 * The control plane on one port, for one machine or a private network: the functions Lambda runs
 * behind API Gateway, run here by node:http with the same events and the same adapter.
 *
 * - `POST /v1/resolve-backend`, `POST /v1/session-events`, `POST /v1/authenticate`,
 *   `POST /v1/tls-cache`, `POST /v1/ssh-host-keys`, `POST /v1/abuse`: the edge-facing functions (bearer edge token when configured).
 * - everything else under `/v1/`, and `GET /openapi.json`: the registry handler, when given.
 * - `GET /healthz`: 200 while the host runs (no auth, touches no state).
 */
export async function startControlPlaneHost(options: ControlPlaneHostOptions): Promise<ControlPlaneHost> {
  const { table, log } = options;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const handlerTimeoutMs = options.handlerTimeoutMs ?? 10_000;
  const closeGraceMs = options.closeGraceMs ?? 2000;
  const tokenDigest = options.edgeToken !== undefined ? digest(options.edgeToken) : undefined;
  const failedAuth = new FailedAuthLimiter(options.failedAuth);
  const onError = (error: unknown, event: { routeKey: string; requestContext: { requestId: string } }) =>
    log.error('handler failed', { route: event.routeKey, requestId: event.requestContext.requestId, error });

  const clock = options.now ? { now: options.now } : {};
  const random = options.random ? { random: options.random } : {};
  const discoveryAndHealth = {
    ...(options.discovery ? { discovery: options.discovery } : {}),
    ...(options.health ? { health: options.health } : {}),
  };
  // The TLS cache function (OCSP fetching, its ASN.1 schemas, undici) loads with its first call, as
  // in the in-process control plane: only TLS listeners and FTPS backends make one.
  let tlsCache: Promise<HttpHandler> | undefined;
  const tlsCacheHandler: HttpHandler = async (event, context) => {
    tlsCache ??= import('../tls-cache/handler.js').then((module) =>
      httpAdapter(module.createTlsCacheHandler({ table, ...clock }), { onError }),
    );
    return (await tlsCache)(event, context);
  };
  const routes = new Map<string, Route>([
    [
      'POST /v1/resolve-backend',
      {
        routeKey: 'POST /v1/resolve-backend',
        functionName: EDGE_ROUTES['POST /v1/resolve-backend'],
        handler: httpAdapter(
          createResolveBackendHandler({ table, ...clock, ...random, ...discoveryAndHealth }),
          { onError },
        ),
        edge: true,
      },
    ],
    [
      'POST /v1/session-events',
      {
        routeKey: 'POST /v1/session-events',
        functionName: EDGE_ROUTES['POST /v1/session-events'],
        handler: httpAdapter(
          createSessionEventsHandler({
            table,
            ...clock,
            ...random,
            ...(options.leaseTtlMs !== undefined ? { leaseTtlMs: options.leaseTtlMs } : {}),
            ...(options.health ? { health: options.health } : {}),
          }),
          { onError },
        ),
        edge: true,
      },
    ],
    [
      'POST /v1/ssh-host-keys',
      {
        routeKey: 'POST /v1/ssh-host-keys',
        functionName: EDGE_ROUTES['POST /v1/ssh-host-keys'],
        handler: httpAdapter(createSshHostKeysHandler({ table }), { onError }),
        edge: true,
      },
    ],
    [
      'POST /v1/authenticate',
      {
        routeKey: 'POST /v1/authenticate',
        functionName: EDGE_ROUTES['POST /v1/authenticate'],
        handler: httpAdapter(
          createAuthHandler({
            table,
            ...clock,
            ...(options.identityHook !== undefined ? { identityHook: options.identityHook } : {}),
          }),
          { onError },
        ),
        edge: true,
      },
    ],
    [
      'POST /v1/abuse',
      {
        routeKey: 'POST /v1/abuse',
        functionName: EDGE_ROUTES['POST /v1/abuse'],
        handler: httpAdapter(
          createAbuseHandler({
            table,
            ...clock,
            ...(options.leaseTtlMs !== undefined ? { slotTtlMs: options.leaseTtlMs } : {}),
          }),
          { onError },
        ),
        edge: true,
      },
    ],
    [
      'POST /v1/tls-cache',
      {
        routeKey: 'POST /v1/tls-cache',
        functionName: EDGE_ROUTES['POST /v1/tls-cache'],
        handler: tlsCacheHandler,
        edge: true,
      },
    ],
  ]);
  const edgePaths = new Set([...routes.keys()].map((key) => key.split(' ')[1]));

  const route = (method: string, path: string): Route | APIGatewayProxyStructuredResultV2 => {
    const exact = routes.get(`${method} ${path}`);
    if (exact) return exact;
    if (edgePaths.has(path)) return errorResult(405, 'method_not_allowed', 'use POST', { allow: 'POST' });
    if (method === 'GET' && path === '/healthz') return { statusCode: 200, body: '{"status":"ok"}' };
    if (path.startsWith('/v1/') || (method === 'GET' && path === '/openapi.json')) {
      if (options.registry) {
        return { routeKey: '$default', functionName: 'registry', handler: options.registry, edge: false };
      }
    }
    return errorResult(404, 'not_found', `no route for ${method} ${path}`);
  };

  const authorized = (request: IncomingMessage): boolean => {
    if (tokenDigest === undefined) return true;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    // Comparing digests keeps the comparison constant-time whatever the lengths.
    return match?.[1] !== undefined && timingSafeEqual(digest(match[1]), tokenDigest);
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const started = Date.now();
    const requestId = randomUUID();
    // The caller's trace (the edge worker's control-plane span): on every line of this request.
    const trace = traceLogFields(parseTraceparent(request.headers.traceparent));
    const method = (request.method ?? 'GET').toUpperCase();
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    let result: APIGatewayProxyStructuredResultV2;
    let functionName: string | undefined;
    const found = route(method, path);
    const source = request.socket.remoteAddress;
    // Only routes that may check a credential are limited: /healthz and the API document stay open.
    const limited = 'handler' in found && !(method === 'GET' && path === '/openapi.json');
    const waitMs = limited ? failedAuth.retryAfterMs(source) : 0;
    if (!('handler' in found)) {
      result = found;
    } else if (waitMs > 0) {
      result = errorResult(
        429,
        'too_many_failed_attempts',
        'too many failed authentication attempts from this address; try again later',
        { 'retry-after': String(Math.ceil(waitMs / 1000)) },
      );
    } else if (found.edge && !authorized(request)) {
      result = errorResult(401, 'unauthorized', 'a valid edge token is required (Authorization: Bearer)', {
        'www-authenticate': 'Bearer realm="ftpx-control-plane"',
      });
    } else {
      functionName = found.functionName;
      const body = await readBody(request, maxBodyBytes);
      if (body === 'too-large') {
        result = errorResult(413, 'payload_too_large', `the body is larger than ${maxBodyBytes} bytes`);
      } else if (body === 'aborted') {
        log.debug('request aborted by the client', { method, path, requestId, ...trace });
        return;
      } else {
        const now = Date.now();
        const event = toApiGatewayEvent({ request, body, routeKey: found.routeKey, requestId, now });
        const context = lambdaContext(found.functionName, requestId, now + handlerTimeoutMs);
        result = await runHandler(found.handler, event, context, handlerTimeoutMs).catch((error: unknown) => {
          log.error('handler failed', { route: found.routeKey, requestId, ...trace, error });
          return errorResult(500, 'internal', 'internal error');
        });
      }
    }
    writeResult(response, result, requestId);
    const status = result.statusCode ?? 200;
    if (limited && status === 401) {
      failedAuth.recordFailure(source);
      log.info('failed authentication', { method, path, source, requestId, ...trace });
    }
    // Every login's resolve-backend call ends here: the line's fields are built only when written.
    if (status >= 500 || log.isEnabled?.('debug') !== false) {
      const fields = {
        method,
        path,
        status,
        ms: Date.now() - started,
        requestId,
        ...trace,
        ...(functionName ? { function: functionName } : {}),
      };
      if (status >= 500) log.warn('request failed', fields);
      else log.debug('request', fields);
    }
  };

  const serverOptions = {
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    headersTimeout: Math.min(options.requestTimeoutMs ?? 30_000, 10_000),
    // Longer than the edge workers' idle keep-alive, so a pooled connection is never cut under a request.
    keepAliveTimeout: 65_000,
  };
  const onRequest = (request: IncomingMessage, response: ServerResponse) => {
    handle(request, response).catch((error: unknown) => {
      log.error('request handling failed', { error });
      if (!response.headersSent) writeResult(response, errorResult(500, 'internal', 'internal error'), '');
      else response.destroy();
    });
  };
  const server = options.tls
    ? createTlsServer({ ...serverOptions, cert: options.tls.cert, key: options.tls.key }, onRequest)
    : createServer(serverOptions, onRequest);
  // A client that does not trust the certificate (or speaks plain HTTP to HTTPS) ends here.
  server.on('tlsClientError', (error) => log.debug('TLS handshake failed', { error }));
  server.on('clientError', (error, socket) => {
    log.debug('bad HTTP request', { error });
    if (socket.writable)
      socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.listen.port, options.listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => log.error('control plane host error', { error }));
  const address = server.address() as AddressInfo;
  const hostPart = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `${options.tls ? 'https' : 'http'}://${hostPart}:${address.port}`;
  log.info('control plane host listening', {
    url,
    edgeAuth: tokenDigest !== undefined ? 'bearer' : 'none',
    tls: options.tls !== undefined,
    registry: options.registry !== undefined,
  });

  let closing: Promise<void> | undefined;
  return {
    url,
    host: address.address,
    port: address.port,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.closeAllConnections(), closeGraceMs);
        server.close(() => {
          clearTimeout(timer);
          log.info('control plane host closed', { url });
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** The whole body, or why there is none: too large (413), or the client went away. */
async function readBody(request: IncomingMessage, limit: number): Promise<Buffer | 'too-large' | 'aborted'> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    discardRest(request, limit * MAX_DRAIN_FACTOR);
    return 'too-large';
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        discardRest(request, limit * MAX_DRAIN_FACTOR - size);
        resolve('too-large');
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onAbort = () => {
      cleanup();
      resolve('aborted');
    };
    const cleanup = () => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onAbort);
      request.off('aborted', onAbort);
    };
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onAbort);
    request.on('aborted', onAbort);
  });
}

/**
 * After a 413, reads and drops the rest of the body, so that the client gets to read the answer
 * and the connection stays usable; past `budget` more bytes the connection is cut instead.
 */
function discardRest(request: IncomingMessage, budget: number): void {
  let left = budget;
  request.on('data', (chunk: Buffer) => {
    left -= chunk.length;
    if (left < 0) request.destroy();
  });
  request.on('error', () => {});
  request.resume();
}

async function runHandler(
  handler: HttpHandler,
  event: Parameters<HttpHandler>[0],
  context: Parameters<HttpHandler>[1],
  timeoutMs: number,
): Promise<APIGatewayProxyStructuredResultV2> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<APIGatewayProxyStructuredResultV2>((resolve) => {
    timer = setTimeout(
      () => resolve(errorResult(504, 'timeout', `the function did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    return normalizeResult(await Promise.race([handler(event, context), timeout]));
  } finally {
    clearTimeout(timer);
  }
}

function writeResult(response: ServerResponse, result: APIGatewayProxyStructuredResultV2, requestId: string) {
  const body =
    result.body === undefined
      ? Buffer.alloc(0)
      : result.isBase64Encoded
        ? Buffer.from(result.body, 'base64')
        : Buffer.from(result.body, 'utf8');
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {}))
    headers[name.toLowerCase()] = String(value);
  if (result.cookies && result.cookies.length > 0) headers['set-cookie'] = result.cookies;
  headers['content-type'] ??= 'application/json; charset=utf-8';
  headers['content-length'] = String(body.length);
  if (requestId) headers['x-request-id'] = requestId;
  response.writeHead(result.statusCode ?? 200, headers);
  response.end(body);
}
