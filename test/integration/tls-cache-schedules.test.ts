import { createHash, X509Certificate } from 'node:crypto';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type TlsCacheRequest,
  type TlsCacheResponse,
  type TlsCacheResponseOf,
  tlsCacheScheduledRequestSchema,
} from '../../functions/contract/tls-cache.js';
import { certificateFields } from '../../functions/core/ocsp/certificate-fields.js';
import { obtainOcspResponse } from '../../functions/core/ocsp/obtain-response.js';
import { parseOcspResponse } from '../../functions/core/ocsp/ocsp-message.js';
import { keyOf } from '../../functions/core/store/attributes.js';
import { createDynamoDbClient } from '../../functions/core/store/dynamodb-client.js';
import { tlsCacheKeys } from '../../functions/core/store/keys.js';
import { ensureTable, type Table } from '../../functions/core/store/table.js';
import { noMetrics, silentLog } from '../../functions/core/telemetry/index.js';
import { cacheInfo } from '../../functions/core/tls-cache/admin.js';
import { readOcspSource } from '../../functions/core/tls-cache/ocsp-entry.js';
import { createTlsCacheHandler, createTlsCacheScheduledHandler } from '../../functions/tls-cache/handler.js';
import { handler as deployedHandler } from '../../functions/tls-cache/http-handler.js';
import { FUNCTIONS } from '../../infra/lib/functions.js';
import { parseParameters } from '../../infra/lib/parameters.js';
import type { ServerProcess } from '../support/process.js';
import { createTestCaOcsp, type IssuedCertificate, type TestCaOcsp } from '../support/test-ca-ocsp.js';
import { dynaliteStore, type StoreServer } from '../support/test-stores.js';

/**
 * The tls-cache function's scheduled requests, as the deployed entry point (http-handler.ts)
 * receives them from EventBridge: the ticket-key rotation (the manifest's own input) and the OCSP
 * refresh against a real `openssl ocsp` responder on loopback, with the real store (dynalite)
 * behind the real SDK client.
 */
const TABLE = 'ftpx-tls-cache-schedules';
const CONTEXT = { awsRequestId: 'test' } as Context;
/** The responder's nextUpdate: responses go stale 5 minutes after thisUpdate, expire after 10. */
const NEXT_UPDATE_MINUTES = 10;

let store: StoreServer;
let ca: TestCaOcsp;
let table: Table;
let cert: IssuedCertificate;
let responder: ServerProcess | undefined;
const savedEnv = { ...process.env };

const tlsCacheSpec = FUNCTIONS.find((spec) => spec.name === 'tls-cache');
const scheduleInput = (key: string) => {
  const schedule = tlsCacheSpec?.schedules.find((candidate) => candidate.key === key);
  if (!schedule) throw new Error(`no ${key} schedule in the manifest`);
  return schedule.input(parseParameters({}));
};

beforeAll(async () => {
  [store, ca] = await Promise.all([dynaliteStore.start(), createTestCaOcsp()]);
  table = { client: createDynamoDbClient({ endpoint: store.endpoint, region: 'us-east-1' }), name: TABLE };
  await ensureTable(table);
  cert = await ca.issue('refresh.test');
  // What the deployed entry point reads on its first call (tableFromEnv).
  process.env.FTPX_TABLE_NAME = TABLE;
  process.env.FTPX_STORE_ENDPOINT = store.endpoint;
  process.env.AWS_REGION = 'us-east-1';
}, 60_000);

afterAll(async () => {
  process.env = savedEnv;
  await Promise.all([responder?.stop(), store?.close(), ca?.close()]);
});

describe('the deployed entry point (http-handler.ts)', () => {
  const httpEvent = (body: unknown): APIGatewayProxyEventV2 =>
    ({
      version: '2.0',
      routeKey: 'POST /v1/tls-cache',
      rawPath: '/v1/tls-cache',
      rawQueryString: '',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      isBase64Encoded: false,
      requestContext: { http: { method: 'POST', path: '/v1/tls-cache' }, requestId: 'r1' },
    }) as unknown as APIGatewayProxyEventV2;

  it('runs the ticket-key rotation schedule’s own input and creates the current and the next key', async () => {
    const input = scheduleInput('ticketKeyRotation');
    expect(input).toEqual({ op: 'ticket-keys', rotateEveryS: 43_200, lifetimeS: 1800 });
    expect(tlsCacheScheduledRequestSchema.safeParse(input).success).toBe(true);
    const answer = (await deployedHandler(input, CONTEXT)) as TlsCacheResponseOf<'ticket-keys'>;
    expect(answer.op).toBe('ticket-keys');
    const period = 43_200_000;
    expect(answer.current.activeFrom).toBe(Math.floor(Date.now() / period) * period);
    expect(answer.next.activeFrom).toBe(answer.current.activeUntil);
    // The next period's key is in the store before any worker asked for it.
    const stored = await table.client.send(
      new GetItemCommand({ TableName: TABLE, Key: keyOf(tlsCacheKeys.ticketKey(answer.next.epoch)) }),
    );
    expect(stored.Item?.key && 'B' in stored.Item.key ? Buffer.from(stored.Item.key.B ?? []).length : 0).toBe(
      48,
    );
    // A worker with the same YAML (worker-config.ts) gets the same keys over HTTP.
    const reply = await deployedHandler(
      httpEvent({ op: 'ticket-keys', rotateEveryS: 43_200, lifetimeS: 1800 }),
      CONTEXT,
    );
    expect(reply).toMatchObject({ statusCode: 200 });
    const overHttp = JSON.parse((reply as { body: string }).body) as TlsCacheResponseOf<'ticket-keys'>;
    expect(overHttp.next).toEqual(answer.next);
    expect(overHttp.current).toEqual(answer.current);
  });

  it('refuses ocsp-refresh over HTTP (schedules only) and edge operations as scheduled events', async () => {
    const reply = await deployedHandler(httpEvent({ op: 'ocsp-refresh', aheadS: 0 }), CONTEXT);
    expect(reply).toMatchObject({ statusCode: 400 });
    expect((reply as { body: string }).body).toMatch(/invalid_request/);
    await expect(deployedHandler({ op: 'session-get', id: 'ab' }, CONTEXT)).rejects.toThrow();
    await expect(deployedHandler({ type: 'refresh-ocsp' }, CONTEXT)).rejects.toThrow();
  });
});

describe('ocsp-refresh against openssl ocsp', () => {
  const clock = { offsetMs: 0 };
  const now = () => Date.now() + clock.offsetMs;
  const call = (request: TlsCacheRequest) =>
    createTlsCacheHandler({ table, now })(request as never, CONTEXT) as Promise<TlsCacheResponse>;
  const logged: Record<string, unknown>[] = [];
  const refresh = (aheadS = 0) =>
    createTlsCacheScheduledHandler({
      table,
      now,
      telemetry: {
        log: { ...silentLog, warn: (msg, fields) => logged.push({ level: 'warn', msg, ...fields }) },
        metrics: noMetrics,
      },
    })({ op: 'ocsp-refresh', aheadS, maxTimeoutMs: 3000, concurrency: 4 }, CONTEXT) as Promise<
      TlsCacheResponseOf<'ocsp-refresh'>
    >;
  const fingerprint = () => createHash('sha1').update(new X509Certificate(cert.certPem).raw).digest('hex');
  const cached = async () => {
    const answer = (await call({
      op: 'ocsp-get',
      fingerprint: fingerprint(),
    })) as TlsCacheResponseOf<'ocsp-get'>;
    expect(answer.result).toBe('hit');
    const der = Buffer.from(answer.response ?? '', 'base64');
    return { answer, der, parsed: parseOcspResponse(der) };
  };
  const errors = async () => (await cacheInfo(table, 'ocsp', { verbose: false, nowMs: now() })).stats.errors;

  it('the schedule input asks for everything that goes stale before the next run', () => {
    const input = scheduleInput('ocspRefresh');
    expect(input).toEqual({ op: 'ocsp-refresh', aheadS: 3600 });
    expect(tlsCacheScheduledRequestSchema.parse(input)).toEqual({
      op: 'ocsp-refresh',
      aheadS: 3600,
      maxTimeoutMs: 10_000,
      concurrency: 8,
    });
  });

  it('replaces a stale cached response with a fresh one from the responder', async () => {
    responder = await ca.startResponder({ nextUpdateMinutes: NEXT_UPDATE_MINUTES });
    // What a worker's stapler caches: a verified answer, and the source it was asked with.
    const certificate = new X509Certificate(cert.certPem);
    const issuer = new X509Certificate(ca.caPem);
    const first = await obtainOcspResponse(
      {
        fields: certificateFields(certificate),
        issuer,
        issuerFields: certificateFields(issuer),
        url: ca.ocspUrl,
      },
      { nonce: true, timeoutMs: 3000, now },
    );
    expect(first.certStatus).toBe('good');
    const put = await call({
      op: 'ocsp-put',
      fingerprint: fingerprint(),
      response: first.response.toString('base64'),
      responseStatus: first.responseStatus,
      certStatus: 'good',
      fake: false,
      fetchedAt: first.fetchedAt,
      staleAt: first.staleAt,
      expiresAt: first.expiresAt,
      maxEntries: 100,
      maxEntryBytes: 4096,
      source: {
        certificate: certificate.raw.toString('base64'),
        issuer: issuer.raw.toString('base64'),
        responder: ca.ocspUrl,
        nonce: true,
        timeoutMs: 3000,
      },
    });
    expect(put).toEqual({ op: 'ocsp-put', result: 'stored' });

    // Fresh: nothing to do (unless it goes stale within aheadS).
    expect(await refresh()).toMatchObject({ checked: 1, refreshed: 0, failed: 0, unrefreshable: 0 });

    // The certificate is revoked meanwhile; the responder reads its index at start. Its new answers
    // are valid for an hour.
    await ca.revoke(cert);
    await responder.stop();
    responder = await ca.startResponder({ nextUpdateMinutes: 60 });
    // Six minutes later the cached response (10-minute window) is stale.
    clock.offsetMs = 6 * 60_000;
    const before = await cached();
    expect(before.answer.staleAt).toBeLessThan(now());
    expect(before.parsed.basic?.responses[0]?.certStatus).toBe('good');
    expect(await refresh()).toEqual({
      op: 'ocsp-refresh',
      checked: 1,
      refreshed: 1,
      failed: 0,
      unrefreshable: 0,
      failures: [],
    });
    const after = await cached();
    expect(after.der.equals(before.der)).toBe(false);
    expect(after.answer.certStatus).toBe('revoked');
    expect(after.parsed.basic?.responses[0]?.certStatus).toBe('revoked');
    expect(after.answer.fetchedAt).toBeGreaterThanOrEqual(before.answer.fetchedAt ?? 0);
    expect(after.answer.staleAt).toBeGreaterThan(now());
    // Still refreshable next time: the source was kept with the fresh response.
    const item = await table.client.send(
      new GetItemCommand({ TableName: TABLE, Key: keyOf(tlsCacheKeys.ocsp(fingerprint())) }),
    );
    expect(readOcspSource(item.Item ?? {})?.source.responder).toBe(ca.ocspUrl);
    // Fresh again (stale 30 minutes after thisUpdate): only a longer look ahead takes it.
    expect(await refresh(0)).toMatchObject({ checked: 1, refreshed: 0 });
    expect(await refresh(3600)).toMatchObject({ checked: 1, refreshed: 1, failed: 0 });
  });

  it('counts an absent responder as an error and keeps the cached response', async () => {
    const before = await cached();
    const errorsBefore = await errors();
    await responder?.stop();
    responder = undefined;
    // Past staleAt (half of the hour window), before nextUpdate.
    clock.offsetMs = 31 * 60_000;
    expect(before.answer.staleAt).toBeLessThan(now());
    const result = await refresh();
    expect(result).toMatchObject({ checked: 1, refreshed: 0, failed: 1, unrefreshable: 0 });
    expect(result.failures).toEqual([
      { fingerprint: fingerprint(), reason: expect.stringMatching(/OCSP responder/) },
    ]);
    expect(logged.at(-1)).toMatchObject({ level: 'warn', msg: 'OCSP responses not refreshed', failed: 1 });
    expect(await errors()).toBe(errorsBefore + 1);
    const after = await cached();
    expect(after.der.equals(before.der)).toBe(true);
    expect(after.answer.certStatus).toBe('revoked');
  });

  it('leaves responses stored without a source as unrefreshable', async () => {
    clock.offsetMs = 0;
    const other = createHash('sha1').update('no source').digest('hex');
    await call({
      op: 'ocsp-put',
      fingerprint: other,
      response: Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x03]).toString('base64'),
      responseStatus: 'tryLater',
      fake: true,
      fetchedAt: now() - 600_000,
      staleAt: now() - 300_000,
      expiresAt: now() + 3_000_000,
      maxEntries: 100,
      maxEntryBytes: 4096,
    });
    expect(await refresh()).toMatchObject({ checked: 2, unrefreshable: 1 });
  });
});
