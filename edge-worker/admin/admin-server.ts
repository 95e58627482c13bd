import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../log/logger.js';
import type { SessionSummary } from './session-registry.js';
import { STATUS_PAGE_HTML } from './status-page.js';
import type { StatusSnapshot } from './status-snapshot.js';

/** Where the admin endpoint gets its answers: one worker, or the cluster primary asking its workers. */
export interface AdminSource {
  ready(): boolean;
  metrics(): Promise<string>;
  sessions(): Promise<SessionSummary[]>;
  /** Closes one session with 421; false when no such session is open. */
  kick(id: string): Promise<boolean>;
  status(): Promise<StatusSnapshot>;
}

export interface AdminServerOptions {
  host: string;
  port: number;
  /** Required as `Authorization: Bearer <token>` on everything but /healthz, /readyz and the page itself. */
  token?: string;
  source: AdminSource;
  log: Logger;
}

export interface RunningAdminServer {
  /** `http://host:port` */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** What an operator's kick tells the client. */
export const KICK_REPLY = 'Service not available, session closed by the administrator.';

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** The admin endpoint needs a token anywhere but on loopback (checked before anything starts). */
export class AdminTokenRequiredError extends Error {
  override readonly name = 'AdminTokenRequiredError';
}

/**
 * The admin HTTP endpoint: /healthz (the process answers), /readyz (listeners up, not draining),
 * /metrics (Prometheus text), /sessions and DELETE /sessions/:id, /status.json and the status page
 * at /. Read-only except for the kick.
 */
export async function startAdminServer(options: AdminServerOptions): Promise<RunningAdminServer> {
  const { source, log } = options;
  if (options.token === undefined && !isLoopbackHost(options.host)) {
    throw new AdminTokenRequiredError(
      `the admin endpoint on ${options.host} needs a token (admin.token or FTPX_ADMIN_TOKEN); without one it may only listen on loopback`,
    );
  }
  const expected = options.token !== undefined ? Buffer.from(`Bearer ${options.token}`) : undefined;
  const authorized = (request: IncomingMessage) => {
    if (!expected) return true;
    const given = Buffer.from(request.headers.authorization ?? '');
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  const server: Server = createServer((request, response) => {
    handle(request, response).catch((err: unknown) => {
      log.error('admin request failed', { path: request.url, error: err });
      if (!response.headersSent) send(response, 500, 'text/plain', 'internal error\n');
      else response.destroy();
    });
  });
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const path = new URL(request.url ?? '/', 'http://admin').pathname;
    const method = request.method ?? 'GET';
    if (method === 'GET' && path === '/healthz') return send(response, 200, 'text/plain', 'ok\n');
    if (method === 'GET' && path === '/readyz') {
      const ready = source.ready();
      return send(response, ready ? 200 : 503, 'text/plain', ready ? 'ready\n' : 'not ready\n');
    }
    // The page holds no data: it fetches /status.json with the token from its URL fragment.
    if (method === 'GET' && (path === '/' || path === '/status')) {
      return send(response, 200, 'text/html; charset=utf-8', STATUS_PAGE_HTML);
    }
    if (!authorized(request)) {
      response.setHeader('www-authenticate', 'Bearer');
      return send(response, 401, 'text/plain', 'unauthorized\n');
    }
    if (method === 'GET' && path === '/metrics') {
      return send(response, 200, 'text/plain; version=0.0.4; charset=utf-8', await source.metrics());
    }
    if (method === 'GET' && path === '/sessions')
      return json(response, 200, { sessions: await source.sessions() });
    if (method === 'GET' && path === '/status.json') return json(response, 200, await source.status());
    const kick = /^\/sessions\/([0-9a-f]{1,64})$/.exec(path);
    if (kick && method === 'DELETE') {
      const id = kick[1] ?? '';
      const found = await source.kick(id);
      log.info('session kicked by the administrator', { kicked: id, found });
      return found ? json(response, 200, { closed: id }) : json(response, 404, { error: `no session ${id}` });
    }
    const known = ['/metrics', '/sessions', '/status.json'].includes(path) || kick !== null;
    return known
      ? send(response, 405, 'text/plain', 'method not allowed\n')
      : send(response, 404, 'text/plain', 'not found\n');
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = address !== null && typeof address === 'object' ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  log.info('admin endpoint listening', { address: options.host, port });
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function send(response: ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  response.end(body);
}

function json(response: ServerResponse, status: number, body: unknown): void {
  send(response, status, 'application/json', `${JSON.stringify(body)}\n`);
}
