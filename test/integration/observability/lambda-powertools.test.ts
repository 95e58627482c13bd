import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type EmbeddedStoreServer, startEmbeddedStore } from '../../../edge-worker/embedded/store-server.js';
import { createAuthHandler } from '../../../functions/auth/handler.js';
import { lambdaContext } from '../../../functions/core/handler/index.js';
import { lambdaObservability, observedHandler } from '../../../functions/core/handler/powertools.js';
import { createDynamoDbClient } from '../../../functions/core/store/dynamodb-client.js';
import { ensureTable, type Table } from '../../../functions/core/store/table.js';
import { REDACTED } from '../../../functions/core/telemetry/index.js';
import { createResolveBackendHandler } from '../../../functions/resolve-backend/handler.js';
import { createTlsCacheHandler } from '../../../functions/tls-cache/handler.js';

/** What Powertools writes (JSON lines on standard output, as in Lambda), parsed. */
function captureStdout() {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  });
  return {
    raw: () => lines.join('\n'),
    json: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    restore: () => spy.mockRestore(),
  };
}

/** The EMF documents among the lines: metric name → { value, dimensions }. */
function emfMetrics(lines: Record<string, unknown>[]) {
  const found: { name: string; value: unknown; dimensions: Record<string, unknown>; namespace: string }[] =
    [];
  for (const line of lines) {
    const aws = line._aws as
      | { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] }
      | undefined;
    if (!aws) continue;
    for (const directive of aws.CloudWatchMetrics) {
      const dimensions = Object.fromEntries((directive.Dimensions[0] ?? []).map((key) => [key, line[key]]));
      for (const metric of directive.Metrics)
        found.push({
          name: metric.Name,
          value: line[metric.Name],
          dimensions,
          namespace: directive.Namespace,
        });
    }
  }
  return found;
}

describe('Lambda handlers log and measure with Powertools', () => {
  let store: EmbeddedStoreServer;
  let table: Table;
  let output: ReturnType<typeof captureStdout> | undefined;
  const context = (name: string) => lambdaContext(name, `req-${name}-1`, Date.now() + 10_000);

  beforeAll(async () => {
    store = await startEmbeddedStore(undefined);
    table = { client: createDynamoDbClient({ endpoint: store.endpoint, region: 'us-east-1' }), name: 'obs' };
    await ensureTable(table);
  });
  afterEach(() => {
    output?.restore();
    output = undefined;
  });
  afterAll(async () => {
    table?.client.destroy();
    await store?.close();
  });

  it('logs an event whole with its password and token fields masked, with the Lambda context', async () => {
    const observability = lambdaObservability('auth', { logEvent: true });
    const handler = observedHandler(createAuthHandler({ table }), observability);
    output = captureStdout();
    const reply = await handler(
      {
        pool: 'nobody-here',
        user: 'alice',
        password: 'hunter2-secret-pw',
        protocol: 'ftp',
        clientAddress: '127.0.0.1',
      } as never,
      context('auth'),
    );
    observability.telemetry.log.info('identity hook called', {
      user: 'alice',
      token: 'tok-abc-123',
      url: 'https://hook:pw-in-url@example.test/x',
    });
    const raw = output.raw();
    output.restore();
    expect(reply).toMatchObject({ allowed: false });
    expect(raw).not.toContain('hunter2-secret-pw');
    expect(raw).not.toContain('tok-abc-123');
    expect(raw).not.toContain('pw-in-url');
    const lines = output.json();
    const event = lines.find((line) => line.msg === 'Lambda invocation event');
    expect(event).toMatchObject({
      level: 'info',
      service: 'ftpx-auth',
      requestId: 'req-auth-1',
      function: 'auth',
      event: { user: 'alice', password: REDACTED },
    });
    expect(lines.find((line) => line.msg === 'identity hook called')).toMatchObject({
      user: 'alice',
      token: REDACTED,
      url: `https://hook:${REDACTED}@example.test/x`,
    });
  });

  it('publishes ResolveLatency and PolicyDecisions (policy, result) in namespace ftpx, and ColdStart', async () => {
    // What Lambda sets in an on-demand execution environment: Powertools counts its first invocation as cold.
    vi.stubEnv('AWS_LAMBDA_INITIALIZATION_TYPE', 'on-demand');
    const observability = lambdaObservability('resolve-backend');
    vi.unstubAllEnvs();
    const handler = observedHandler(
      createResolveBackendHandler({ table, telemetry: observability.telemetry }),
      observability,
    );
    output = captureStdout();
    const reply = await handler(
      { pool: 'p', policy: 'RoundRobin', backends: ['ftp://127.0.0.1:2121'] } as never,
      context('resolve-backend'),
    );
    output.restore();
    expect(reply.candidates).toHaveLength(1);
    const metrics = emfMetrics(output.json());
    expect(metrics.every((metric) => metric.namespace === 'ftpx')).toBe(true);
    const latency = metrics.find((metric) => metric.name === 'ResolveLatency');
    expect(latency?.dimensions).toEqual({});
    expect(typeof latency?.value).toBe('number');
    expect(metrics.find((metric) => metric.name === 'PolicyDecisions')).toMatchObject({
      value: 1,
      dimensions: { policy: 'RoundRobin', result: 'candidates' },
    });
    expect(metrics.some((metric) => metric.name === 'ColdStart')).toBe(true);
  });

  it('counts shared TLS session cache lookups as TlsSessionCacheHits / TlsSessionCacheMisses', async () => {
    const observability = lambdaObservability('tls-cache');
    const handler = observedHandler(
      createTlsCacheHandler({ table, telemetry: observability.telemetry }),
      observability,
    );
    output = captureStdout();
    const reply = await handler({ op: 'session-get', id: 'ab'.repeat(16) } as never, context('tls-cache'));
    output.restore();
    expect(reply).toMatchObject({ op: 'session-get', result: 'miss' });
    const metrics = emfMetrics(output.json());
    expect(metrics.find((metric) => metric.name === 'TlsSessionCacheMisses')).toMatchObject({ value: 1 });
    expect(metrics.some((metric) => metric.name === 'TlsSessionCacheHits')).toBe(false);
  });

  it("puts an API Gateway event's traceparent on the invocation's lines, and only on that invocation's", async () => {
    const observability = lambdaObservability('resolve-backend', { logEvent: true });
    const handler = observedHandler(async () => {
      observability.telemetry.log.info('resolving', { pool: 'main' });
      return { ok: true };
    }, observability);
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentSpanId = '00f067aa0ba902b7';
    output = captureStdout();
    await handler(
      { headers: { traceparent: `00-${traceId}-${parentSpanId}-01` } },
      context('resolve-backend'),
    );
    await handler({ headers: {} }, context('resolve-backend'));
    await handler(
      { headers: { traceparent: `00-${traceId.toUpperCase()}-${parentSpanId}-01` } },
      context('resolve-backend'),
    );
    output.restore();
    const resolving = output.json().filter((line) => line.msg === 'resolving');
    expect(resolving).toHaveLength(3);
    expect(resolving[0]).toMatchObject({ traceId, parentSpanId, pool: 'main' });
    expect(output.json().find((line) => line.msg === 'Lambda invocation event')).toMatchObject({ traceId });
    // The next invocation, without a header, does not inherit the trace; a malformed one is ignored.
    expect(resolving[1]).not.toHaveProperty('traceId');
    expect(resolving[2]).not.toHaveProperty('traceId');
    expect(resolving[2]).not.toHaveProperty('parentSpanId');
  });
});
