import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedStore } from '../../../edge-worker/embedded/store-server.js';
import { createDynamoDbClient } from '../../../functions/core/store/dynamodb-client.js';
import { ensureTable } from '../../../functions/core/store/table.js';
import { unixSocketPathOf } from '../../../functions/core/store/unix-socket-endpoint.js';

describe('the embedded store on a Unix socket', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ftpx-store-socket-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('serves the AWS SDK on an absolute socket path in a 0700 directory, and removes it on close', async () => {
    const dataDir = join(dir, 'data');
    await mkdir(dataDir, { mode: 0o755 });
    // A stale socket directory of a process that died: removed at start.
    await mkdir(join(dataDir, 'store-Ab12Cd'), { mode: 0o700 });
    await writeFile(join(dataDir, 'store-Ab12Cd', 'dynamodb.sock'), '');
    // Relative to the working directory, as `--data-dir ./cp-data` gives it.
    const store = await startEmbeddedStore(relative(process.cwd(), dataDir));
    try {
      const socket = unixSocketPathOf(store.endpoint) as string;
      expect(socket.startsWith(`${dataDir}/store-`)).toBe(true);
      expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
      expect((await stat(join(dataDir, 'dynamodb'))).mode & 0o777).toBe(0o700);
      expect((await stat(join(socket, '..'))).mode & 0o777).toBe(0o700);
      expect(await readdir(dataDir)).not.toContain('store-Ab12Cd');
      const table = {
        client: createDynamoDbClient({ endpoint: store.endpoint, region: 'us-east-1' }),
        name: 'ftpx',
      };
      store.markOwnRequests(table.client);
      try {
        expect(await ensureTable(table)).toBeDefined();
        // The owner's own requests do not make the store shared; anyone else's does.
        expect(store.sharedSinceStart).toBe(false);
        // A second client (another process's, e.g. tests sharing a store) reaches it the same way.
        const other = createDynamoDbClient({ endpoint: store.endpoint, region: 'us-east-1' });
        await expect(ensureTable({ client: other, name: 'ftpx' })).resolves.toBeDefined();
        other.destroy();
        expect(store.sharedSinceStart).toBe(true);
      } finally {
        table.client.destroy();
      }
    } finally {
      await store.close();
    }
    expect((await readdir(dataDir)).filter((name) => name.startsWith('store-'))).toEqual([]);
  });

  it('without a dataDir, keeps its socket in a private temporary directory', async () => {
    const store = await startEmbeddedStore(undefined);
    const socket = unixSocketPathOf(store.endpoint) as string;
    try {
      expect(socket.startsWith(tmpdir())).toBe(true);
      expect((await stat(join(socket, '..'))).mode & 0o777).toBe(0o700);
    } finally {
      await store.close();
    }
    await expect(stat(socket)).rejects.toThrow(/ENOENT/);
  });

  it('lets a request in flight finish when it closes, instead of cutting it off mid-action', async () => {
    const store = await startEmbeddedStore(undefined);
    const socketPath = unixSocketPathOf(store.endpoint) as string;
    let closed: Promise<void> | undefined;
    try {
      const body = JSON.stringify({});
      // The request's head reaches the store, its body not yet: it is in flight when close() is called.
      const request = httpRequest({
        socketPath,
        method: 'POST',
        path: '/',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'content-length': Buffer.byteLength(body),
          'x-amz-target': 'DynamoDB_20120810.ListTables',
          'x-amz-date': '20261207T000000Z',
          authorization:
            'AWS4-HMAC-SHA256 Credential=local/20261207/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=00',
        },
      });
      const answer = new Promise<{ status: number | undefined; text: string }>((resolve, reject) => {
        request.once('response', (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.once('end', () =>
            resolve({ status: response.statusCode, text: Buffer.concat(chunks).toString() }),
          );
          response.once('error', reject);
        });
        request.once('error', reject);
      });
      request.flushHeaders();
      await new Promise((resolve) => setTimeout(resolve, 100));
      closed = store.close();
      await new Promise((resolve) => setTimeout(resolve, 50));
      request.end(body);
      const { status, text } = await answer;
      expect(status).toBe(200);
      expect(JSON.parse(text)).toHaveProperty('TableNames');
    } finally {
      await (closed ?? store.close());
    }
    await expect(stat(socketPath)).rejects.toThrow(/ENOENT/);
  });
});
