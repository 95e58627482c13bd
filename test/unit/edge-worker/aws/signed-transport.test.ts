import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultCredentialsProvider } from '../../../../edge-worker/aws/credentials.js';
import { createSigV4Signer, SigningConfigError } from '../../../../edge-worker/aws/request-signer.js';
import { configSchema } from '../../../../edge-worker/config/schema.js';
import { createHttpControlPlane } from '../../../../edge-worker/control-plane/http-transport.js';
import { silentLogger } from '../../../../edge-worker/log/logger.js';
import { referenceSign } from '../../../support/aws-reference-signer.js';

/**
 * The edge worker's HTTP transport signing its calls, checked where API Gateway would check them:
 * a server recomputes the signature over what actually arrived on the wire, with the AWS SDK's signer.
 */
interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

const credentials = {
  accessKeyId: 'ASIATESTTESTTEST',
  secretAccessKey: 'dGVzdHNlY3JldHRlc3RzZWNyZXR0ZXN0c2VjcmV0',
  sessionToken: 'FwoGZXIvYXdzEXAMPLE/session+token=',
};

let server: Server;
let baseUrl: string;
const received: Received[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ candidates: [] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/prod`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Recomputes the signature from the request as received, over the headers it says it signed. */
async function verify(request: Received, scope: { service: string; region: string }) {
  const authorization = request.headers.authorization as string;
  const signedNames = /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(';') ?? [];
  const headers: Record<string, string> = {};
  for (const name of signedNames) {
    if (name === 'host' || name === 'x-amz-date' || name === 'x-amz-security-token') continue;
    headers[name] = String(request.headers[name]);
  }
  const date = request.headers['x-amz-date'] as string;
  const signingDate = new Date(
    `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`,
  );
  const expected = await referenceSign(
    {
      method: request.method,
      url: `http://${request.headers.host}${request.path}`,
      headers,
      body: request.body,
    },
    scope,
    credentials,
    signingDate,
  );
  return { expected: expected.authorization, actual: authorization, signedNames };
}

describe('controlPlane.signing', () => {
  it('signs each call so that the SDK signer, fed what arrived, computes the same signature', async () => {
    const scope = { service: 'execute-api', region: 'eu-west-1' };
    const client = createHttpControlPlane({
      url: baseUrl,
      sign: createSigV4Signer({ ...scope, credentials: async () => credentials }),
      timeoutMs: 5000,
      retries: 0,
      log: silentLogger,
    });
    try {
      await client.resolveBackend({ pool: 'main', policy: 'RoundRobin', backends: ['ftp://10.0.0.1:21'] });
      await client.resolveBackend({
        pool: 'p ü',
        policy: 'PerHost',
        backends: ['ftp://10.0.0.1:21', 'ftp://10.0.0.2:21'],
        stickyKey: '203.0.113.9',
      });
    } finally {
      await client.close();
    }
    expect(received.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /prod/v1/resolve-backend',
      'POST /prod/v1/resolve-backend',
    ]);
    for (const request of received) {
      expect(request.headers['x-amz-security-token']).toBe(credentials.sessionToken);
      const { expected, actual, signedNames } = await verify(request, scope);
      expect(signedNames).toEqual(expect.arrayContaining(['host', 'content-type', 'x-amz-date']));
      expect(actual).toBe(expected);
      expect(actual).toMatch(
        /^AWS4-HMAC-SHA256 Credential=ASIATESTTESTTEST\/\d{8}\/eu-west-1\/execute-api\//,
      );
    }
  });

  it('fails at start without a region rather than sending unsigned calls', () => {
    const saved = { AWS_REGION: process.env.AWS_REGION, AWS_DEFAULT_REGION: process.env.AWS_DEFAULT_REGION };
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    try {
      expect(() =>
        createSigV4Signer({ service: 'execute-api', credentials: async () => credentials }),
      ).toThrow(SigningConfigError);
    } finally {
      for (const [key, value] of Object.entries(saved)) if (value !== undefined) process.env[key] = value;
    }
  });

  it('takes credentials from the default chain (here: the environment)', async () => {
    const saved = { ...process.env };
    process.env.AWS_ACCESS_KEY_ID = 'AKIAFROMENVIRONMENT';
    process.env.AWS_SECRET_ACCESS_KEY = 'secret-from-env';
    process.env.AWS_SESSION_TOKEN = 'token-from-env';
    try {
      await expect(defaultCredentialsProvider('eu-west-1')()).resolves.toEqual({
        accessKeyId: 'AKIAFROMENVIRONMENT',
        secretAccessKey: 'secret-from-env',
        sessionToken: 'token-from-env',
      });
    } finally {
      for (const key of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    }
  });

  it('is a config key, refused together with a bearer token', () => {
    const base = {
      listeners: [{ port: 2121, pool: 'main' }],
      pools: [{ name: 'main', backends: ['ftp://127.0.0.1:21'] }],
    };
    const parsed = configSchema.parse({
      ...base,
      controlPlane: { url: 'https://api.example.com', signing: { region: 'eu-west-1' } },
    });
    expect(parsed.controlPlane?.signing).toEqual({ service: 'execute-api', region: 'eu-west-1' });
    const both = configSchema.safeParse({
      ...base,
      controlPlane: { url: 'https://api.example.com', token: 't'.repeat(32), signing: {} },
    });
    expect(both.success).toBe(false);
    expect(both.error?.issues[0]?.path).toEqual(['controlPlane', 'signing']);
    expect(
      configSchema.safeParse({
        ...base,
        controlPlane: { url: 'https://a.example', signing: { servise: 'x' } },
      }).success,
    ).toBe(false);
  });
});
