import { Readable } from 'node:stream';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ControlPlaneError,
  ControlPlaneRejectedError,
} from '../../../edge-worker/control-plane/control-plane-client.js';
import {
  createHttpControlPlane,
  type HttpControlPlane,
} from '../../../edge-worker/control-plane/http-transport.js';
import { type EmbeddedStoreServer, startEmbeddedStore } from '../../../edge-worker/embedded/store-server.js';
import { Logger } from '../../../edge-worker/log/logger.js';
import { jsonResult } from '../../../functions/core/handler/http-adapter.js';
import { createDynamoDbClient } from '../../../functions/core/store/dynamodb-client.js';
import { ensureTable, type Table } from '../../../functions/core/store/table.js';
import { type ControlPlaneHost, startControlPlaneHost } from '../../../functions/http-host/host.js';

const TOKEN = 'edge-token-for-tests-0123456789abcdef';
const BACKENDS = ['ftp://10.0.0.1:21', 'ftp://10.0.0.2:21'];

/** The local HTTP host on dynalite, called over real HTTP by the edge worker's transport and by undici. */
describe('control-plane HTTP host', () => {
  let store: EmbeddedStoreServer;
  let table: Table;
  let host: ControlPlaneHost;
  const registryEvents: APIGatewayProxyEventV2[] = [];
  const lines: string[] = [];
  const clients: HttpControlPlane[] = [];

  beforeAll(async () => {
    store = await startEmbeddedStore(undefined);
    table = {
      client: createDynamoDbClient({ endpoint: store.endpoint, region: 'us-east-1' }),
      name: 'http-host',
    };
    await ensureTable(table);
    host = await startControlPlaneHost({
      listen: { host: '127.0.0.1', port: 0 },
      table,
      edgeToken: TOKEN,
      // Stands in for the registry API (another function): records what the host hands it.
      registry: async (event) => {
        registryEvents.push(event);
        return jsonResult(200, { path: event.rawPath, method: event.requestContext.http.method });
      },
      log: new Logger({ write: (line) => lines.push(line) }, 'debug'),
    });
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await host?.close();
    table?.client.destroy();
    await store?.close();
  });

  const transport = (token?: string) => {
    const client = createHttpControlPlane({
      url: host.url,
      ...(token !== undefined ? { token } : {}),
      timeoutMs: 2000,
      retries: 0,
      log: new Logger({ write: () => {} }),
    });
    clients.push(client);
    return client;
  };

  const post = (path: string, body: string | Buffer, headers: Record<string, string> = {}) =>
    request(`${host.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
      body,
    });

  it('serves resolve-backend: RoundRobin moves its shared cursor on every call', async () => {
    const client = transport(TOKEN);
    const picks: number[] = [];
    for (let i = 0; i < 4; i++) {
      const { candidates } = await client.resolveBackend({
        pool: 'rr',
        policy: 'RoundRobin',
        backends: BACKENDS,
      });
      picks.push(candidates[0]?.index ?? -1);
    }
    expect(picks).toEqual([0, 1, 0, 1]);
  });

  it('serves session-events: connects, heartbeats and ends count against the lease', async () => {
    const client = transport(TOKEN);
    const where = { pool: 'lc', backend: BACKENDS[0] as string, workerId: 'worker-1' };
    await expect(client.sessionEvent({ type: 'connected', ...where, connectMs: 12 })).resolves.toMatchObject({
      type: 'connected',
      leaseCount: 1,
    });
    await expect(client.sessionEvent({ type: 'connected', ...where, connectMs: 8 })).resolves.toMatchObject({
      leaseCount: 2,
    });
    await expect(
      client.sessionEvent({
        type: 'heartbeat',
        workerId: 'worker-1',
        leases: [{ pool: 'lc', backend: where.backend }],
      }),
    ).resolves.toEqual({ type: 'heartbeat', extended: 1, expired: [] });
    // LeastConns now prefers the other backend.
    const { candidates } = await client.resolveBackend({
      pool: 'lc',
      policy: 'LeastConns',
      backends: BACKENDS,
    });
    expect(candidates.map((candidate) => candidate.index)).toEqual([1, 0]);
    await expect(client.sessionEvent({ type: 'ended', ...where })).resolves.toEqual({
      type: 'ended',
      released: true,
      leaseCount: 1,
    });
  });

  it('refuses the edge routes without the right bearer token (401)', async () => {
    for (const token of [undefined, 'wrong', `${TOKEN}x`]) {
      const error = await transport(token)
        .resolveBackend({ pool: 'rr', policy: 'RoundRobin', backends: BACKENDS })
        .catch((err: unknown) => err);
      expect(error, String(token)).toBeInstanceOf(ControlPlaneRejectedError);
      expect((error as ControlPlaneRejectedError).status).toBe(401);
    }
    const response = await post('/v1/resolve-backend', '{}', { authorization: 'Basic Zm9vOmJhcg==' });
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(await response.body.json()).toEqual({
      error: { code: 'unauthorized', message: 'a valid edge token is required (Authorization: Bearer)' },
    });
  });

  it('answers a request the contract refuses with 400 and every issue', async () => {
    const response = await post(
      '/v1/resolve-backend',
      JSON.stringify({ pool: 'p', policy: 'PerHost', backends: [''] }),
    );
    expect(response.statusCode).toBe(400);
    const body = (await response.body.json()) as { error: { code: string; issues: { path: string }[] } };
    expect(body.error.code).toBe('invalid_request');
    expect(body.error.issues.map((issue) => issue.path).sort()).toEqual(['backends.0', 'stickyKey']);

    const malformed = await post('/v1/session-events', '{"type":');
    expect(malformed.statusCode).toBe(400);
    expect(((await malformed.body.json()) as { error: { message: string } }).error.message).toBe(
      'the body is not valid JSON',
    );

    const text = await post('/v1/session-events', 'hello', { 'content-type': 'text/plain' });
    expect(text.statusCode).toBe(415);
    await text.body.dump();

    // Through the transport: a refusal with the issues in its message, not retried.
    const error = await transport(TOKEN)
      .resolveBackend({ pool: 'p', policy: 'PerUser', backends: BACKENDS })
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ControlPlaneRejectedError);
    expect((error as Error).message).toMatch(/HTTP 400 invalid_request: .*stickyKey/);
  });

  it('refuses bodies over 1 MiB with 413, declared or streamed', async () => {
    const big = JSON.stringify({ pool: 'p', policy: 'RoundRobin', backends: ['x'.repeat(1024 * 1024 + 10)] });
    const declared = await post('/v1/resolve-backend', big);
    expect(declared.statusCode).toBe(413);
    expect(((await declared.body.json()) as { error: { code: string } }).error.code).toBe(
      'payload_too_large',
    );

    // No content-length: the host counts while reading.
    const chunks = () => Readable.from(Array.from({ length: 20 }, () => Buffer.alloc(64 * 1024, 0x20)));
    const streamed = await request(`${host.url}/v1/resolve-backend`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: chunks(),
    });
    expect(streamed.statusCode).toBe(413);
    await streamed.body.dump();
  });

  it('routes other /v1/ paths and GET /openapi.json to the registry, and the rest to 404', async () => {
    const openapi = await request(`${host.url}/openapi.json`);
    expect(openapi.statusCode).toBe(200);
    expect(await openapi.body.json()).toEqual({ path: '/openapi.json', method: 'GET' });

    const pools = await request(`${host.url}/v1/pools/main?limit=5&x=1&x=2`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'X-Custom': 'a', cookie: 'a=1; b=2' },
      body: '{"backends":[]}',
    });
    expect(pools.statusCode).toBe(200);
    await pools.body.dump();
    const event = registryEvents.at(-1);
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: '$default',
      rawPath: '/v1/pools/main',
      rawQueryString: 'limit=5&x=1&x=2',
      queryStringParameters: { limit: '5', x: '1,2' },
      cookies: ['a=1', 'b=2'],
      body: '{"backends":[]}',
      isBase64Encoded: false,
      requestContext: { http: { method: 'PUT', path: '/v1/pools/main', sourceIp: '127.0.0.1' } },
    });
    expect(event?.headers['x-custom']).toBe('a');
    expect(event?.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);

    const missing = await request(`${host.url}/nothing-here`);
    expect(missing.statusCode).toBe(404);
    await missing.body.dump();
    const wrongMethod = await request(`${host.url}/v1/resolve-backend`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(wrongMethod.statusCode).toBe(405);
    await wrongMethod.body.dump();
    const health = await request(`${host.url}/healthz`);
    expect(await health.body.json()).toEqual({ status: 'ok' });
  });

  it('logs requests without the token', () => {
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('')).not.toContain(TOKEN);
  });

  it('stops answering once closed, and the transport says the control plane is unreachable', async () => {
    const client = transport(TOKEN);
    await client.resolveBackend({ pool: 'rr', policy: 'RoundRobin', backends: BACKENDS });
    await host.close();
    const error = await client
      .resolveBackend({ pool: 'rr', policy: 'RoundRobin', backends: BACKENDS })
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ControlPlaneError);
    expect((error as Error).message).toMatch(/unreachable|connection failed/);
  });
});
