import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { LocalJwtIssuer } from './jwt-authorizer.js';
import type { LocalFunction } from './lambda-function.js';
import { type LocalCredentials, verifySigV4 } from './sigv4-authorizer.js';
import { StackLocalError } from './template.js';

export interface LocalRoute {
  routeKey: string;
  authorizationType: 'AWS_IAM' | 'JWT' | 'NONE';
  jwt?: { issuer: string; audience: string[]; scopes: string[] };
  target: LocalFunction;
}

export interface LocalHttpApiOptions {
  apiId: string;
  region: string;
  routes: LocalRoute[];
  throttle: { rateLimit: number; burstLimit: number } | undefined;
  credentials: LocalCredentials;
  jwtIssuer: LocalJwtIssuer;
  tls: { cert: string; key: string };
  /** Addresses to listen on (the same port on each). */
  hosts: string[];
  log: (line: string) => void;
}

export interface LocalApi {
  port: number;
  close(): Promise<void>;
}

interface CompiledRoute extends LocalRoute {
  method: string;
  pattern: RegExp;
  names: string[];
  /** Literal routes before parameterised ones, greedy ({proxy+}) last, as API Gateway matches. */
  rank: number;
}

const MAX_BODY = 10 * 1024 * 1024;

function compile(route: LocalRoute): CompiledRoute {
  const [method, path] = route.routeKey.split(' ');
  if (!method || !path)
    throw new StackLocalError(`route key ${route.routeKey} is not understood by the local stack`);
  const names: string[] = [];
  let rank = 0;
  const source = path
    .split('/')
    .map((segment) => {
      const greedy = /^\{(\w+)\+\}$/.exec(segment);
      if (greedy) {
        names.push(greedy[1] as string);
        rank += 100;
        return '(.+)';
      }
      const param = /^\{(\w+)\}$/.exec(segment);
      if (param) {
        names.push(param[1] as string);
        rank += 1;
        return '([^/]+)';
      }
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { ...route, method, pattern: new RegExp(`^${source}$`), names, rank };
}

/** The HTTP API of the template: routes, authorisers, throttling, Lambda proxy integrations (payload 2.0). */
export async function startHttpApi(options: LocalHttpApiOptions): Promise<LocalApi> {
  const routes = options.routes.map(compile).sort((a, b) => a.rank - b.rank);
  let tokens = options.throttle?.burstLimit ?? Number.POSITIVE_INFINITY;
  let refilledAt = Date.now();
  const takeToken = (): boolean => {
    if (!options.throttle) return true;
    const now = Date.now();
    tokens = Math.min(
      options.throttle.burstLimit,
      tokens + ((now - refilledAt) / 1000) * options.throttle.rateLimit,
    );
    refilledAt = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const reply = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(typeof payload === 'string' ? payload : JSON.stringify(payload));
    };
    if (!takeToken()) return reply(429, { message: 'Too Many Requests' });
    const url = new URL(req.url ?? '/', 'https://local');
    const method = req.method ?? 'GET';
    let matched: { route: CompiledRoute; params: Record<string, string> } | undefined;
    for (const route of routes) {
      if (route.method !== 'ANY' && route.method !== method) continue;
      const m = route.pattern.exec(url.pathname);
      if (!m) continue;
      matched = {
        route,
        params: Object.fromEntries(
          route.names.map((name, i) => [name, decodeURIComponent(m[i + 1] as string)]),
        ),
      };
      break;
    }
    if (!matched) return reply(404, { message: 'Not Found' });
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : String(value);
    }
    let authorizer: Record<string, unknown> | undefined;
    if (matched.route.authorizationType === 'AWS_IAM') {
      const verdict = await verifySigV4(
        {
          method,
          hostHeader: headers.host ?? '',
          path: url.pathname,
          query: url.searchParams,
          headers,
          body,
        },
        options.credentials,
        options.region,
      );
      if (!verdict.ok) return reply(403, { message: verdict.reason });
      authorizer = { iam: verdict.iam };
    } else if (matched.route.authorizationType === 'JWT') {
      const verdict = options.jwtIssuer.verify(
        headers.authorization,
        matched.route.jwt as NonNullable<LocalRoute['jwt']>,
      );
      if (!verdict.ok) return reply(401, { message: 'Unauthorized' }, { 'www-authenticate': 'Bearer' });
      authorizer = { jwt: verdict.jwt };
    }
    const now = new Date();
    const text = body.toString('utf8');
    const binary = !Buffer.from(text, 'utf8').equals(body);
    const event = {
      version: '2.0',
      routeKey: matched.route.routeKey,
      rawPath: url.pathname,
      rawQueryString: url.search.slice(1),
      headers,
      ...(url.search ? { queryStringParameters: Object.fromEntries(url.searchParams) } : {}),
      ...(matched.route.names.length > 0 ? { pathParameters: matched.params } : {}),
      requestContext: {
        accountId: options.credentials.accountId,
        apiId: options.apiId,
        domainName: headers.host,
        domainPrefix: options.apiId,
        http: {
          method,
          path: url.pathname,
          protocol: 'HTTP/1.1',
          sourceIp: req.socket.remoteAddress ?? '',
          userAgent: headers['user-agent'] ?? '',
        },
        requestId: randomUUID(),
        routeKey: matched.route.routeKey,
        stage: '$default',
        time: now.toUTCString(),
        timeEpoch: now.getTime(),
        ...(authorizer ? { authorizer } : {}),
      },
      ...(body.length > 0 ? { body: binary ? body.toString('base64') : text } : {}),
      isBase64Encoded: binary,
    };
    let result: unknown;
    try {
      result = await matched.route.target.invoke(event);
    } catch (err) {
      options.log(`api: ${matched.route.routeKey}: ${(err as Error).message}`);
      return reply(500, { message: 'Internal Server Error' });
    }
    // Payload 2.0: a result without statusCode is a 200 JSON body.
    const shaped =
      result !== null && typeof result === 'object' && 'statusCode' in (result as object)
        ? (result as {
            statusCode: number;
            headers?: Record<string, string>;
            body?: string;
            isBase64Encoded?: boolean;
          })
        : { statusCode: 200, body: typeof result === 'string' ? result : JSON.stringify(result) };
    res.writeHead(shaped.statusCode, { 'content-type': 'application/json', ...(shaped.headers ?? {}) });
    res.end(
      shaped.body === undefined ? '' : Buffer.from(shaped.body, shaped.isBase64Encoded ? 'base64' : 'utf8'),
    );
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        res.writeHead(413).end();
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks)).catch((err: unknown) => {
        options.log(`api: ${(err as Error).message}`);
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
  };

  const servers: Server[] = [];
  let port = 0;
  for (const host of options.hosts) {
    const server = createServer({ cert: options.tls.cert, key: options.tls.key }, onRequest);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    port = (server.address() as AddressInfo).port;
    servers.push(server);
  }
  return {
    port,
    close: async () => {
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeAllConnections();
            }),
        ),
      );
    },
  };
}
