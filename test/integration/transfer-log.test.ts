import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FtpBackend, makeRandomFile, startFtpBackend, writeHomeFile } from '../support/ftp-backends.js';
import { curl, pythonFtp } from '../support/ftp-clients.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';

/** The xferlog fields after the five of the timestamp. */
interface XferlogEntry {
  seconds: number;
  host: string;
  bytes: number;
  file: string;
  type: string;
  direction: string;
  user: string;
  status: string;
}

const BIG_BYTES = 64 * 1024 * 1024;

const parse = (text: string): XferlogEntry[] =>
  text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const f = line.split(' ').slice(5);
      return {
        seconds: Number(f[0]),
        host: f[1] ?? '',
        bytes: Number(f[2]),
        file: f[3] ?? '',
        type: f[4] ?? '',
        direction: f[6] ?? '',
        user: f[8] ?? '',
        status: f[12] ?? '',
      };
    });

describe('TransferLog (xferlog)', () => {
  let backend: FtpBackend;
  let proxy: TestProxy;
  let dir: string;
  let logFile: string;

  beforeAll(async () => {
    backend = await startFtpBackend('proftpd', { name: 'xferlog' });
    dir = await mkdtemp(join(tmpdir(), 'ftpx-xferlog-'));
    logFile = join(dir, 'xferlog');
    await writeHomeFile(backend, 'small file.txt', 'twelve bytes');
    // Far more than the socket buffers and the relay's pipe between ProFTPD and the client hold
    // (~10 MiB here): with 8 MiB, the whole file could be relayed before the client's ABOR arrived.
    await makeRandomFile(await writeHomeFile(backend, 'big.bin', ''), BIG_BYTES);
    proxy = await startTestProxy({ backends: [backend.url], transferLog: logFile });
  });

  afterAll(async () => {
    await proxy?.close();
    await backend?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('logs downloads, uploads and interrupted transfers, but not listings', async () => {
    const base = `ftp://${backend.user}:${backend.password}@127.0.0.1:${proxy.port}`;
    expect((await curl([`${base}/small%20file.txt`])).stdout.toString()).toBe('twelve bytes');
    expect((await curl(['--list-only', `${base}/`])).code).toBe(0);
    const upload = join(dir, 'upload.txt');
    await writeHomeFile({ homeDir: dir }, 'upload.txt', 'uploaded!\n');
    expect((await curl(['-T', upload, `${base}/up.txt`])).code).toBe(0);
    const { result } = await pythonFtp(
      [{ op: 'login' }, { op: 'abort-during-retr', path: 'big.bin', bytes: 65536 }],
      { host: '127.0.0.1', port: proxy.port, user: backend.user, password: backend.password },
    );
    expect(result.results[1]?.error).toBeUndefined();
    await proxy.close();
    const entries = parse(await readFile(logFile, 'utf8'));
    expect(entries).toHaveLength(3);
    expect(entries[0]).toMatchObject({
      host: '127.0.0.1',
      bytes: 12,
      file: 'small_file.txt',
      type: 'b',
      direction: 'o',
      user: backend.user,
      status: 'c',
    });
    expect(entries[1]).toMatchObject({ bytes: 10, file: 'up.txt', direction: 'i', status: 'c' });
    expect(entries[2]).toMatchObject({ file: 'big.bin', direction: 'o', status: 'i' });
    expect(entries[2]?.bytes).toBeGreaterThan(0);
    expect(entries[2]?.bytes).toBeLessThan(BIG_BYTES);
  });
});
