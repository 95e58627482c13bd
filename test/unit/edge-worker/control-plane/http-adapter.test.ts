import middy from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type EmbeddedStoreServer,
  startEmbeddedStore,
} from '../../../../edge-worker/embedded/store-server.js';
import { resolveBackendRequestSchema } from '../../../../functions/contract/resolve-backend.js';
import { httpAdapter } from '../../../../functions/core/handler/http-adapter.js';
import { validateEvent } from '../../../../functions/core/handler/validate-event.js';
import { createDynamoDbClient } from '../../../../functions/core/store/dynamodb-client.js';
import { ensureTable, type Table } from '../../../../functions/core/store/table.js';
import { createResolveBackendHandler } from '../../../../functions/resolve-backend/handler.js';

/** An API Gateway HTTP API (payload 2.0) event, as Lambda receives it. */
function event(
  body: string | undefined,
  options: { method?: string; contentType?: string | null; base64?: boolean } = {},
): APIGatewayProxyEventV2 {
  const method = options.method ?? 'POST';
  const headers: Record<string, string> = { host: 'api.example.com' };
  if (options.contentType !== null) headers['content-type'] = options.contentType ?? 'application/json';
  return {
    version: '2.0',
    routeKey: `${method} /v1/resolve-backend`,
    rawPath: '/v1/resolve-backend',
    rawQueryString: '',
    headers,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: {
        method,
        path: '/v1/resolve-backend',
        protocol: 'HTTP/1.1',
        sourceIp: '10.0.0.1',
        userAgent: 'test',
      },
      requestId: 'req-1',
      routeKey: `${method} /v1/resolve-backend`,
      stage: '$default',
      time: '01/Jan/2030:00:00:00 +0000',
      timeEpoch: 1893456000000,
    },
    ...(body === undefined
      ? { isBase64Encoded: false }
      : options.base64
        ? { body: Buffer.from(body).toString('base64'), isBase64Encoded: true }
        : { body, isBase64Encoded: false }),
  };
}

const context = {} as Context;
const request = { pool: 'p', policy: 'RoundRobin', backends: ['ftp://a:21', 'ftp://b:21'] };

describe('httpAdapter around the resolve-backend function', () => {
  let store: EmbeddedStoreServer;
  let table: Table;

  beforeAll(async () => {
    store = await startEmbeddedStore(undefined);
    table = {
      client: createDynamoDbClient({ endpoint: store.endpoint, region: 'us-east-1' }),
      name: 'adapter',
    };
    await ensureTable(table);
  });

  afterAll(async () => {
    table?.client.destroy();
    await store?.close();
  });

  it('passes the JSON body as the event and answers 200 with the result as JSON', async () => {
    const handler = httpAdapter(createResolveBackendHandler({ table }));
    const first = await handler(event(JSON.stringify(request)), context);
    expect(first.statusCode).toBe(200);
    expect(first.headers?.['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(first.body ?? '')).toEqual({
      candidates: [
        { index: 0, backend: 'ftp://a:21' },
        { index: 1, backend: 'ftp://b:21' },
      ],
      list: 'pool',
    });
    // A base64 body (API Gateway sends binary media types so) and a charset parameter are fine too.
    const second = await handler(
      event(JSON.stringify(request), { base64: true, contentType: 'application/json; charset=utf-8' }),
      context,
    );
    expect(JSON.parse(second.body ?? '').candidates[0].index).toBe(1);
  });

  it('answers 400 invalid_request with every issue when validation fails', async () => {
    const handler = httpAdapter(createResolveBackendHandler({ table }));
    const result = await handler(
      event(JSON.stringify({ pool: '', policy: 'PerUser', backends: ['x'], extra: 1 })),
      context,
    );
    expect(result.statusCode).toBe(400);
    const body = JSON.parse(result.body ?? '');
    expect(body.error.code).toBe('invalid_request');
    expect(body.error.message).toMatch(/^invalid request: /);
    expect(body.error.issues.map((issue: { path: string }) => issue.path).sort()).toEqual([
      'extra',
      'pool',
      'stickyKey',
    ]);
  });

  it('answers 400 for malformed JSON and for an empty body', async () => {
    const handler = httpAdapter(createResolveBackendHandler({ table }));
    const malformed = await handler(event('{"pool": "p",'), context);
    expect(malformed.statusCode).toBe(400);
    expect(JSON.parse(malformed.body ?? '').error).toMatchObject({
      code: 'invalid_request',
      message: 'the body is not valid JSON',
    });
    const empty = await handler(event(undefined), context);
    expect(empty.statusCode).toBe(400);
    expect(JSON.parse(empty.body ?? '').error.message).toBe('a JSON body is required');
  });

  it('answers 415 when the body is not declared JSON, and 405 for another method', async () => {
    const handler = httpAdapter(createResolveBackendHandler({ table }));
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', null]) {
      const result = await handler(event(JSON.stringify(request), { contentType }), context);
      expect(result.statusCode, String(contentType)).toBe(415);
      expect(JSON.parse(result.body ?? '').error.code).toBe('unsupported_media_type');
    }
    const result = await handler(event(undefined, { method: 'GET' }), context);
    expect(result.statusCode).toBe(405);
    expect(result.headers?.allow).toBe('POST');
  });
});

describe('httpAdapter and unexpected errors', () => {
  it('answers 500 without anything of the error, and hands the error to onError', async () => {
    const seen: unknown[] = [];
    const failing = middy<unknown, unknown>()
      .use(validateEvent(resolveBackendRequestSchema))
      .handler(async () => {
        throw new Error('connect to dynamodb.internal:8000 failed, secret=hunter2');
      });
    const handler = httpAdapter(failing, { onError: (error) => seen.push(error) });
    const result = await handler(event(JSON.stringify(request)), context);
    expect(result.statusCode).toBe(500);
    expect(JSON.parse(result.body ?? '')).toEqual({ error: { code: 'internal', message: 'internal error' } });
    expect(result.body).not.toContain('hunter2');
    expect(result.body).not.toContain('dynamodb');
    expect(seen).toHaveLength(1);
    expect((seen[0] as Error).message).toContain('hunter2');
  });
});
