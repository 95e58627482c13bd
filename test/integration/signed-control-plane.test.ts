import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../edge-worker/config/schema.js';
import { type EmbeddedStoreServer, startEmbeddedStore } from '../../edge-worker/embedded/store-server.js';
import { Logger } from '../../edge-worker/log/logger.js';
import { type RunningEdgeWorker, startEdgeWorker } from '../../edge-worker/runtime/edge-worker.js';
import { createDynamoDbClient } from '../../functions/core/store/dynamodb-client.js';
import { ensureTable, type Table } from '../../functions/core/store/table.js';
import { type ControlPlaneHost, startControlPlaneHost } from '../../functions/http-host/host.js';
import { referenceSign } from '../support/aws-reference-signer.js';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../support/ftp-backends.js';
import { curl } from '../support/ftp-clients.js';

/**
 * An edge worker configured as the CDK app configures it (`controlPlane.signing`), in front of a
 * stand-in for API Gateway's IAM authoriser: it recomputes each request's SigV4 signature with the
 * AWS SDK's signer and the caller's secret, answers 403 on a mismatch (as API Gateway does), and
 * passes good requests to the real control-plane functions. A real FTP download proves the chain.
 */
const CREDENTIALS = {
  accessKeyId: 'AKIAEDGEWORKERTEST',
  secretAccessKey: 'edge-worker-test-secret',
  sessionToken: 'edge-worker-session-token',
};
const REGION = 'eu-west-1';
const HELLO = 'signed all the way\n';

describe('an edge worker signing its control-plane calls (controlPlane.signing)', () => {
  let store: EmbeddedStoreServer;
  let table: Table;
  let host: ControlPlaneHost;
  let gateway: Server;
  let backend: FtpBackend;
  let worker: RunningEdgeWorker;
  let dataDir: string;
  const verdicts: { path: string; status: number }[] = [];
  const saved = { ...process.env };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'ftpx-signed-'));
    store = await startEmbeddedStore(undefined);
    table = { client: createDynamoDbClient({ endpoint: store.endpoint, region: 'us-east-1' }), name: 'ftpx' };
    await ensureTable(table);
    host = await startControlPlaneHost({
      listen: { host: '127.0.0.1', port: 0 },
      table,
      log: new Logger({ write: () => {} }, 'error'),
    });
    gateway = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', async () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const status = (await signatureMatches(req.method ?? '', req.url ?? '', req.headers, body))
          ? 200
          : 403;
        verdicts.push({ path: req.url ?? '', status });
        if (status === 403) {
          res.writeHead(403, { 'content-type': 'application/json' }).end('{"message":"Forbidden"}');
          return;
        }
        const upstream = request(
          `${host.url}${req.url}`,
          { method: req.method, headers: { 'content-type': String(req.headers['content-type']) } },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        upstream.end(body);
      });
    });
    await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
    backend = await startFtpBackend('proftpd', { name: 'signed-cp' });
    await writeHomeFile(backend, 'hello.txt', HELLO);
    // The default credential chain, as in ECS, here from the environment.
    process.env.AWS_ACCESS_KEY_ID = CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = CREDENTIALS.secretAccessKey;
    process.env.AWS_SESSION_TOKEN = CREDENTIALS.sessionToken;
    worker = await startEdgeWorker(
      configSchema.parse({
        dataDir,
        listeners: [{ address: '127.0.0.1', port: 0, pool: 'main' }],
        pools: [{ name: 'main', backends: [backend.url] }],
        controlPlane: {
          url: `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`,
          signing: { service: 'execute-api', region: REGION },
          retries: 0,
        },
      }),
      new Logger({ write: () => {} }, 'error'),
    );
  });

  afterAll(async () => {
    await worker?.close();
    await new Promise<void>((resolve) => (gateway ? gateway.close(() => resolve()) : resolve()));
    await host?.close();
    table?.client.destroy();
    await store?.close();
    await backend?.stop();
    await rm(dataDir, { recursive: true, force: true });
    for (const key of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  });

  async function signatureMatches(
    method: string,
    path: string,
    headers: Record<string, string | string[] | undefined>,
    body: string,
  ): Promise<boolean> {
    const authorization = headers.authorization;
    const amzDate = headers['x-amz-date'];
    if (typeof authorization !== 'string' || typeof amzDate !== 'string') return false;
    if (headers['x-amz-security-token'] !== CREDENTIALS.sessionToken) return false;
    const signed = /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(';') ?? [];
    const given: Record<string, string> = {};
    for (const name of signed) {
      if (['host', 'x-amz-date', 'x-amz-security-token'].includes(name)) continue;
      given[name] = String(headers[name]);
    }
    const date = new Date(
      amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'),
    );
    const expected = await referenceSign(
      { method, url: `http://${headers.host}${path}`, headers: given, body },
      { service: 'execute-api', region: REGION },
      CREDENTIALS,
      date,
    );
    return expected.authorization === authorization;
  }

  it('downloads through the proxy; every control-plane call passed the signature check', async () => {
    const port = worker.listeners[0]?.port as number;
    const result = await curl([`ftp://${backend.user}:${backend.password}@127.0.0.1:${port}/hello.txt`]);
    expect(result.stderr).toBe('');
    expect(result.stdout.toString()).toBe(HELLO);
    expect(verdicts.length).toBeGreaterThan(0);
    expect(verdicts.map((v) => v.path)).toContain('/v1/resolve-backend');
    expect(verdicts.filter((v) => v.status !== 200)).toEqual([]);
  });

  it('a forged signature is refused by the stand-in, so the check can fail', async () => {
    const port = (gateway.address() as AddressInfo).port;
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        `http://127.0.0.1:${port}/v1/resolve-backend`,
        {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-amz-date': '20260101T000000Z',
            'x-amz-security-token': CREDENTIALS.sessionToken,
            authorization: `AWS4-HMAC-SHA256 Credential=${CREDENTIALS.accessKeyId}/20260101/${REGION}/execute-api/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=${'0'.repeat(64)}`,
          },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end('{}');
    });
    expect(status).toBe(403);
  });
});
