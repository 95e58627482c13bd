import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../../edge-worker/config/schema.js';
import { type EmbeddedStoreServer, startEmbeddedStore } from '../../../edge-worker/embedded/store-server.js';
import { Logger } from '../../../edge-worker/log/logger.js';
import { type RunningEdgeWorker, startEdgeWorker } from '../../../edge-worker/runtime/edge-worker.js';
import { startTracing, type Tracing } from '../../../edge-worker/tracing/start-tracing.js';
import { tracingRequested } from '../../../edge-worker/tracing/tracing-from-env.js';
import { createDynamoDbClient } from '../../../functions/core/store/dynamodb-client.js';
import { ensureTable, type Table } from '../../../functions/core/store/table.js';
import { type ControlPlaneHost, startControlPlaneHost } from '../../../functions/http-host/host.js';
import { type FtpBackend, startFtpBackend } from '../../support/ftp-backends.js';
import { RawFtp } from '../../support/raw-ftp.js';

const TOKEN = 'trace-test-edge-token-0123456789abcdef';

/** A loopback forwarder in front of the control plane that keeps every request's headers. */
async function recordingForwarder(target: URL) {
  const seen: { path: string; headers: IncomingHttpHeaders }[] = [];
  const server: Server = createServer((incoming, outgoing) => {
    seen.push({ path: incoming.url ?? '', headers: incoming.headers });
    const forwarded = request(
      {
        host: target.hostname,
        port: target.port,
        path: incoming.url,
        method: incoming.method,
        headers: incoming.headers,
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', () => outgoing.destroy());
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('OpenTelemetry trace of a login (edge → control plane over HTTP → backend)', () => {
  let store: EmbeddedStoreServer;
  let table: Table;
  let host: ControlPlaneHost;
  let forwarder: Awaited<ReturnType<typeof recordingForwarder>>;
  let backend: FtpBackend;
  let worker: RunningEdgeWorker;
  let tracing: Tracing;
  const exporter = new InMemorySpanExporter();
  const hostLines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    store = await startEmbeddedStore(undefined);
    table = {
      client: createDynamoDbClient({ endpoint: store.endpoint, region: 'us-east-1' }),
      name: 'trace',
    };
    await ensureTable(table);
    host = await startControlPlaneHost({
      listen: { host: '127.0.0.1', port: 0 },
      table,
      edgeToken: TOKEN,
      // Debug: the host's per-request line is a debug line.
      log: new Logger(
        { write: (line) => hostLines.push(JSON.parse(line) as Record<string, unknown>) },
        'debug',
      ),
    });
    forwarder = await recordingForwarder(new URL(host.url));
    backend = await startFtpBackend('proftpd', { name: 'trace-backend' });
    tracing = startTracing({ exporter });
    worker = await startEdgeWorker(
      configSchema.parse({
        dataDir: join(tmpdir(), `ftpx-trace-${process.pid}`),
        listeners: [{ address: '127.0.0.1', port: 0, pool: 'main' }],
        pools: [{ name: 'main', backends: [backend.url] }],
        controlPlane: { url: forwarder.url, token: TOKEN, timeout: '2s', retries: 0 },
      }),
      new Logger({ write: () => {} }, 'error'),
    );
  });

  afterAll(async () => {
    await worker?.close();
    await tracing?.shutdown();
    await forwarder?.close();
    await host?.close();
    await backend?.stop();
    table?.client.destroy();
    await store?.close();
  });

  it('records the login path as one trace and carries it to the control plane in traceparent', async () => {
    const client = await RawFtp.open(worker.listeners[0]?.port ?? 0);
    await client.login(backend.user, backend.password);
    await client.command('QUIT');
    client.destroy();

    const spans = exporter.getFinishedSpans();
    const login = spans.find((span) => span.name === 'ftpx.session.login');
    expect(login).toBeDefined();
    expect(login?.kind).toBe(SpanKind.SERVER);
    expect(login?.attributes).toMatchObject({
      'ftpx.pool': 'main',
      'ftpx.protocol': 'ftp',
      'ftpx.login': 'ok',
      'ftpx.user': backend.user,
      'ftpx.backend': backend.url,
    });
    expect(login?.events.map((event) => event.name)).toContain('backend connected');
    const traceId = login?.spanContext().traceId;
    const resolve = spans.find((span) => span.name === 'control-plane resolve-backend');
    expect(resolve?.kind).toBe(SpanKind.CLIENT);
    expect(resolve?.spanContext().traceId).toBe(traceId);
    expect(resolve?.parentSpanContext?.spanId).toBe(login?.spanContext().spanId);
    // The control plane got the resolve call's own span as parent, in W3C form.
    const call = forwarder.seen.find((seen) => seen.path.includes('resolve-backend'));
    expect(call?.headers.traceparent).toBe(`00-${traceId}-${resolve?.spanContext().spanId}-01`);
    // ...and its log line for that request names the same trace, with the edge span as parent.
    const logged = hostLines.find((line) => line.function === 'resolve-backend');
    expect(logged).toMatchObject({ traceId, parentSpanId: resolve?.spanContext().spanId, status: 200 });
    // Neither the password nor the token reaches a span.
    const everything = JSON.stringify(spans.map((span) => [span.attributes, span.events]));
    expect(everything).not.toContain(backend.password);
    expect(everything).not.toContain(TOKEN);
  });

  it('ignores a malformed traceparent: the request is served, its line has no trace', async () => {
    hostLines.length = 0;
    const answer = await fetch(`${host.url}/healthz`, { headers: { traceparent: '00-not-a-trace-01' } });
    expect(answer.status).toBe(200);
    await answer.arrayBuffer();
    const logged = hostLines.find((line) => line.path === '/healthz');
    expect(logged).toBeDefined();
    expect(logged).not.toHaveProperty('traceId');
    expect(logged).not.toHaveProperty('parentSpanId');
  });

  it('is off unless OTEL_EXPORTER_OTLP_* names an endpoint', () => {
    expect(tracingRequested({})).toBe(false);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).toBe(true);
    expect(
      tracingRequested({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
        OTEL_TRACES_EXPORTER: 'none',
      }),
    ).toBe(false);
  });
});
