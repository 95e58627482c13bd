import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ControlPlaneError,
  ControlPlaneRejectedError,
  isControlPlaneUnavailable,
} from '../../../../edge-worker/control-plane/control-plane-client.js';
import {
  backoffDelay,
  createHttpControlPlane,
  type HttpControlPlane,
  type HttpControlPlaneOptions,
} from '../../../../edge-worker/control-plane/http-transport.js';
import { Logger } from '../../../../edge-worker/log/logger.js';

/** What the scripted server does with one request. */
type Step =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  | { hang: true }
  | { headersThenHang: true }
  | { raw: string };

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

const RESOLVE_OK = { candidates: [{ index: 1, backend: 'ftp://b:21' }] };
const REQUEST = { pool: 'p', policy: 'RoundRobin' as const, backends: ['ftp://a:21', 'ftp://b:21'] };

/** A real HTTP server that answers each request with the next scripted step. */
describe('HTTP control-plane transport', () => {
  let server: Server;
  let base: string;
  let script: Step[] = [];
  let seen: Seen[] = [];
  const hanging: ServerResponse[] = [];
  const lines: string[] = [];
  const log = new Logger({ write: (line) => lines.push(line) }, 'debug');
  const clients: HttpControlPlane[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        seen.push({
          method: request.method ?? '',
          url: request.url ?? '',
          headers: request.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        });
        const step = script.shift() ?? { status: 500 };
        if ('hang' in step) {
          hanging.push(response);
          return;
        }
        if ('headersThenHang' in step) {
          response.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
          response.write('{"candidates":');
          hanging.push(response);
          return;
        }
        if ('raw' in step) {
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end(step.raw);
          return;
        }
        response.writeHead(step.status, { 'content-type': 'application/json', ...step.headers });
        response.end(step.body === undefined ? '' : JSON.stringify(step.body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    for (const response of hanging) response.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(() => {
    script = [];
    seen = [];
    lines.length = 0;
  });

  /** A client whose waits are recorded instead of slept, with jitter fixed at one half. */
  const client = (options: Partial<HttpControlPlaneOptions> = {}) => {
    const delays: number[] = [];
    const created = createHttpControlPlane({
      url: base,
      timeoutMs: 1000,
      retries: 2,
      log,
      random: () => 0.5,
      sleep: async (ms) => {
        delays.push(ms);
      },
      ...options,
    });
    clients.push(created);
    return { client: created, delays };
  };

  it('POSTs the request as JSON with the bearer token, and checks the answer against the contract', async () => {
    const { client: cp } = client({ token: 'edge-secret' });
    script = [{ status: 200, body: RESOLVE_OK }];
    await expect(cp.resolveBackend(REQUEST)).resolves.toEqual(RESOLVE_OK);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/v1/resolve-backend' });
    expect(seen[0]?.headers.authorization).toBe('Bearer edge-secret');
    expect(seen[0]?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(seen[0]?.body ?? '')).toEqual(REQUEST);
    // The token never reaches the log.
    expect(lines.join('')).not.toContain('edge-secret');
  });

  it('keeps a base path (an API stage) in front of the routes', async () => {
    const { client: cp } = client({ url: `${base}/prod/` });
    script = [{ status: 200, body: { type: 'ended', released: true, leaseCount: 0 } }];
    await cp.sessionEvent({ type: 'ended', pool: 'p', backend: 'ftp://a:21', workerId: 'w' });
    expect(seen[0]?.url).toBe('/prod/v1/session-events');
  });

  it('retries 5xx with exponential backoff and full jitter, then succeeds', async () => {
    const { client: cp, delays } = client();
    script = [{ status: 503 }, { status: 500 }, { status: 200, body: RESOLVE_OK }];
    await expect(cp.resolveBackend(REQUEST)).resolves.toEqual(RESOLVE_OK);
    expect(seen).toHaveLength(3);
    // Half of min(2000, 100 * 2^(n-1)).
    expect(delays).toEqual([50, 100]);
  });

  it('gives up after the configured retries with a ControlPlaneError saying how often it tried', async () => {
    const { client: cp, delays } = client({ retries: 2 });
    script = [
      { status: 500, body: { error: { code: 'internal', message: 'internal error' } } },
      { status: 502 },
      { status: 500, body: { error: { code: 'internal', message: 'internal error' } } },
    ];
    const error = await cp.resolveBackend(REQUEST).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ControlPlaneError);
    expect(error).not.toBeInstanceOf(ControlPlaneRejectedError);
    expect((error as Error).message).toBe(
      'control plane resolve-backend: HTTP 500 internal: internal error (after 3 attempts)',
    );
    expect(isControlPlaneUnavailable(error)).toBe(true);
    expect(seen).toHaveLength(3);
    expect(delays).toHaveLength(2);
  });

  it('never retries a 4xx refusal, and reports its issues', async () => {
    const { client: cp, delays } = client();
    script = [
      {
        status: 400,
        body: {
          error: {
            code: 'invalid_request',
            message: 'invalid request: stickyKey: required',
            issues: [{ path: 'stickyKey', message: 'required' }],
          },
        },
      },
    ];
    const error = await cp.resolveBackend(REQUEST).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ControlPlaneRejectedError);
    expect((error as ControlPlaneRejectedError).status).toBe(400);
    expect((error as Error).message).toBe(
      'control plane resolve-backend: HTTP 400 invalid_request: invalid request: stickyKey: required',
    );
    expect(isControlPlaneUnavailable(error)).toBe(false);
    expect(seen).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it('says to check the token on 401', async () => {
    const { client: cp } = client({ token: 'wrong' });
    script = [
      { status: 401, body: { error: { code: 'unauthorized', message: 'a valid edge token is required' } } },
    ];
    await expect(cp.resolveBackend(REQUEST)).rejects.toThrow(
      /HTTP 401 unauthorized: .*check the control plane token/,
    );
  });

  it('waits at least what Retry-After asks on 429, up to the backoff cap', async () => {
    const { client: cp, delays } = client({ backoff: { baseMs: 10, maxMs: 700 } });
    script = [
      { status: 429, headers: { 'retry-after': '0.3' } },
      { status: 429, headers: { 'retry-after': '60' } },
      { status: 200, body: RESOLVE_OK },
    ];
    await expect(cp.resolveBackend(REQUEST)).resolves.toEqual(RESOLVE_OK);
    expect(delays).toEqual([300, 700]);
  });

  it('repeats a session event that may have been applied only when it is a heartbeat', async () => {
    const { client: cp } = client();
    script = [
      { status: 500 },
      { status: 200, body: { type: 'connected', leaseCount: 1, leaseExpiresAt: 1 } },
    ];
    await expect(
      cp.sessionEvent({ type: 'connected', pool: 'p', backend: 'ftp://a:21', workerId: 'w', connectMs: 3 }),
    ).rejects.toThrow('HTTP 500');
    expect(seen).toHaveLength(1);

    script = [{ status: 500 }, { status: 200, body: { type: 'heartbeat', extended: 1, expired: [] } }];
    await expect(
      cp.sessionEvent({ type: 'heartbeat', workerId: 'w', leases: [{ pool: 'p', backend: 'ftp://a:21' }] }),
    ).resolves.toEqual({ type: 'heartbeat', extended: 1, expired: [] });
    expect(seen).toHaveLength(3);

    // A 429 was not applied: even a connect event is sent again.
    script = [{ status: 429 }, { status: 200, body: { type: 'ended', released: true, leaseCount: 0 } }];
    await expect(
      cp.sessionEvent({ type: 'ended', pool: 'p', backend: 'ftp://a:21', workerId: 'w' }),
    ).resolves.toMatchObject({ released: true });
    expect(seen).toHaveLength(5);
  });

  it('retries when nothing listens (not sent, so any call may be repeated)', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const { client: cp, delays } = client({ url: `http://127.0.0.1:${port}`, retries: 3 });
    const error = await cp
      .sessionEvent({ type: 'connected', pool: 'p', backend: 'ftp://a:21', workerId: 'w', connectMs: 1 })
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ControlPlaneError);
    expect((error as Error).message).toMatch(/unreachable: .*ECONNREFUSED.*\(after 4 attempts\)/);
    expect(delays).toEqual([50, 100, 200]);
    expect(isControlPlaneUnavailable(error)).toBe(true);
  });

  /** A client the test closes itself (not closed again at the end). */
  const createdAlone = () => ({
    client: createHttpControlPlane({ url: base, timeoutMs: 1000, retries: 0, log }),
  });

  it('gives each attempt timeoutMs, then retries', async () => {
    const { client: cp, delays } = client({ timeoutMs: 80, retries: 1 });
    script = [{ hang: true }, { status: 200, body: RESOLVE_OK }];
    const started = Date.now();
    await expect(cp.resolveBackend(REQUEST)).resolves.toEqual(RESOLVE_OK);
    expect(Date.now() - started).toBeGreaterThanOrEqual(70);
    expect(delays).toEqual([50]);
    script = [{ hang: true }];
    const { client: once } = client({ timeoutMs: 80, retries: 0 });
    await expect(once.resolveBackend(REQUEST)).rejects.toThrow(
      'control plane resolve-backend: no answer within 80 ms',
    );
  });

  it('bounds the body of the answer by the same deadline, and the next call still gets an answer', async () => {
    const { client: cp } = client({ timeoutMs: 80, retries: 0 });
    script = [{ headersThenHang: true }];
    const started = Date.now();
    await expect(cp.resolveBackend(REQUEST)).rejects.toThrow(
      'control plane resolve-backend: no answer within 80 ms',
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(70);
    script = [{ status: 200, body: RESOLVE_OK }];
    await expect(cp.resolveBackend(REQUEST)).resolves.toEqual(RESOLVE_OK);
  });

  it('refuses an answer the contract does not allow, without retrying', async () => {
    const { client: cp } = client();
    script = [{ status: 200, body: { candidates: [{ index: -1 }] } }];
    await expect(cp.resolveBackend(REQUEST)).rejects.toThrow(
      'control plane resolve-backend: malformed response',
    );
    script = [{ raw: '<html>proxy error</html>' }];
    await expect(cp.resolveBackend(REQUEST)).rejects.toThrow('malformed response: not JSON');
    expect(seen).toHaveLength(2);
  });

  it('refuses an answer larger than 1 MiB, without retrying', async () => {
    const { client: cp } = client();
    script = [{ raw: `{"candidates":[],"pad":"${'x'.repeat(1024 * 1024)}"}` }];
    await expect(cp.resolveBackend(REQUEST)).rejects.toThrow(
      'control plane resolve-backend: malformed response: too large',
    );
    expect(seen).toHaveLength(1);
  });

  it('lets a call under way finish before it closes', async () => {
    const { client: cp } = createdAlone();
    script = [{ status: 200, body: RESOLVE_OK }];
    const answer = cp.resolveBackend(REQUEST);
    await cp.close();
    await expect(answer).resolves.toEqual(RESOLVE_OK);
  });

  it('refuses URLs it cannot use', () => {
    expect(() => createHttpControlPlane({ url: 'ftp://x', timeoutMs: 1, retries: 0, log })).toThrow(
      /http or https/,
    );
    expect(() =>
      createHttpControlPlane({ url: 'http://u:p@127.0.0.1:1', timeoutMs: 1, retries: 0, log }),
    ).toThrow(/credentials/);
  });
});

describe('backoffDelay', () => {
  it('is uniform below an exponential cap (full jitter)', () => {
    const almostOne = () => 0.999_999;
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, almostOne))).toEqual([
      99, 199, 399, 799, 1599, 1999,
    ]);
    expect(backoffDelay(30, almostOne, { baseMs: 10, maxMs: 250 })).toBe(249);
    expect(backoffDelay(3, () => 0)).toBe(0);
  });
});
