import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbClient } from '../../functions/core/store/dynamodb-client.js';
import type { Table } from '../../functions/core/store/table.js';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../support/ftp-backends.js';
import { curl } from '../support/ftp-clients.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { RawFtp } from '../support/raw-ftp.js';

/**
 * Clients that never log in must not grow the store: the sticky mappings of PerUser and PerHost
 * (one item per user name or client address) are written only after a successful login. Real
 * ProFTPD backends, raw clients from many loopback addresses and user names; the store's items are
 * counted directly.
 */

describe('no store writes for clients that never log in', () => {
  const backends: FtpBackend[] = [];
  const proxies: TestProxy[] = [];
  const tables: Table[] = [];

  beforeAll(async () => {
    for (const name of ['prelogin-a', 'prelogin-b']) {
      const backend = await startFtpBackend('proftpd', { name });
      await writeHomeFile(backend, 'whoami.txt', name);
      backends.push(backend);
    }
  });

  afterAll(async () => {
    for (const table of tables) table.client.destroy();
    await Promise.all(proxies.map((proxy) => proxy.close()));
    await Promise.all(backends.map((backend) => backend.stop()));
  });

  const proxyWith = async (connectPolicy: string) => {
    const proxy = await startTestProxy({
      backends: backends.map((backend) => backend.url),
      poolSettings: { connectPolicy },
      listener: { maxLoginAttempts: 1 },
    });
    proxies.push(proxy);
    const table: Table = {
      client: createDynamoDbClient({ endpoint: proxy.worker.storeEndpoint as string, region: 'us-east-1' }),
      name: 'ftpx',
    };
    tables.push(table);
    /** The sticky mappings in the proxy's store, by key text. */
    const stickyItems = async (): Promise<string[]> => {
      const found = await table.client.send(
        new ScanCommand({
          TableName: table.name,
          FilterExpression: 'begins_with(pk, :sticky)',
          ExpressionAttributeValues: { ':sticky': { S: 'STICKY#' } },
        }),
      );
      return (found.Items ?? []).map((item) => item.pk?.S ?? '');
    };
    return { proxy, stickyItems };
  };

  /** Polls until `check` holds or 5 s pass; the last value. */
  const eventually = async <T>(read: () => Promise<T>, check: (value: T) => boolean): Promise<T> => {
    const deadline = Date.now() + 5000;
    for (;;) {
      const value = await read();
      if (check(value) || Date.now() > deadline) return value;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  it('PerUser: 30 guessed user names with wrong passwords write nothing; one real login writes its mapping', async () => {
    const { proxy, stickyItems } = await proxyWith('PerUser');
    const user = backends[0]?.user as string;
    for (let i = 0; i < 30; i++) {
      const ftp = await RawFtp.open(proxy.port, '127.0.0.1', `127.0.4.${i + 1}`);
      expect(await ftp.reply()).toMatch(/^220/);
      // Each name is relayed to the backend the PerUser policy picks for it (mod_proxy connects at USER).
      expect(await ftp.command(`USER guess-${i}`)).toMatch(/^331/);
      expect(await ftp.command('PASS nope')).toMatch(/^530/);
      expect(await ftp.closed()).toBe(true);
    }
    expect(await stickyItems()).toEqual([]);
    const login = await curl([`ftp://${user}:${backends[0]?.password}@127.0.0.1:${proxy.port}/whoami.txt`]);
    expect(login.code, login.stderr).toBe(0);
    const served = login.stdout.toString('utf8');
    const items = await eventually(stickyItems, (found) => found.length > 0);
    expect(items).toHaveLength(1);
    expect(items[0]).toContain(user);
    // The mapping names the backend that served: the next login goes there again.
    const again = await curl([`ftp://${user}:${backends[0]?.password}@127.0.0.1:${proxy.port}/whoami.txt`]);
    expect(again.stdout.toString('utf8')).toBe(served);
  });

  it('PerHost: 30 addresses that connect (each to a backend) and never log in write nothing', async () => {
    const { proxy, stickyItems } = await proxyWith('PerHost');
    for (let i = 0; i < 30; i++) {
      const ftp = await RawFtp.open(proxy.port, '127.0.0.1', `127.0.5.${i + 1}`);
      expect(await ftp.reply()).toMatch(/^220/);
      expect(await ftp.command('USER nobody-here')).toMatch(/^331/);
      expect(await ftp.command('PASS nope')).toMatch(/^530/);
      ftp.destroy();
    }
    expect(await stickyItems()).toEqual([]);
    const backend = backends[0] as FtpBackend;
    const login = await curl([
      '--interface',
      '127.0.5.200',
      `ftp://${backend.user}:${backend.password}@127.0.0.1:${proxy.port}/whoami.txt`,
    ]);
    expect(login.code, login.stderr).toBe(0);
    const items = await eventually(stickyItems, (found) => found.length > 0);
    expect(items).toHaveLength(1);
    expect(items[0]).toContain('127.0.5.200');
  });
});
