import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { handler as authHandler } from '../../../functions/auth/http-handler.js';
import { lambdaContext } from '../../../functions/core/handler/lambda-context.js';
import { handler as resolveBackendHandler } from '../../../functions/resolve-backend/http-handler.js';
import { handler as sessionEventsHandler } from '../../../functions/session-events/http-handler.js';

/**
 * The Lambda entry points behind the HTTP API (functions/<name>/http-handler.ts, what the CDK app
 * deploys for the edge routes): API Gateway payload 2.0 in, the contract's checks applied, JSON out.
 * Only requests refused before any table access are sent, so no store is needed.
 */
const event = (body: string | undefined, contentType = 'application/json'): APIGatewayProxyEventV2 =>
  ({
    version: '2.0',
    routeKey: 'POST /v1/x',
    rawPath: '/v1/x',
    rawQueryString: '',
    headers: { 'content-type': contentType },
    body,
    isBase64Encoded: false,
    requestContext: { http: { method: 'POST', path: '/v1/x' }, requestId: 'req-1' },
  }) as unknown as APIGatewayProxyEventV2;

const ENTRIES = [
  ['resolve-backend', resolveBackendHandler],
  ['session-events', sessionEventsHandler],
  ['auth', authHandler],
] as const;

beforeAll(() => {
  process.env.FTPX_TABLE_NAME ??= 'ftpx-http-handler-test';
});

describe.each(ENTRIES)('functions/%s/http-handler.ts', (name, handler) => {
  const context = (): Context => lambdaContext(name, 'req-1', Date.now() + 10_000);

  it('refuses a body that is not JSON with 415', async () => {
    const reply = await handler(event('x', 'text/plain'), context());
    expect(reply.statusCode).toBe(415);
  });

  it('validates the contract: 400 naming the bad fields', async () => {
    const reply = await handler(event(JSON.stringify({ unexpected: true })), context());
    expect(reply.statusCode).toBe(400);
    const body = JSON.parse(reply.body ?? '{}') as { error: { code: string; issues: unknown[] } };
    expect(body.error.code).toBe('invalid_request');
    expect(body.error.issues.length).toBeGreaterThan(0);
  });
});
