import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it, vi } from 'vitest';
import {
  type FtpBackend,
  type FtpBackendKind,
  makeRandomFile,
  sha256File,
  startFtpBackend,
  writeHomeFile,
} from '../support/ftp-backends.js';
import { readBanner } from '../support/ftp-banner.js';
import { curl, lftp, pythonFtp } from '../support/ftp-clients.js';

// Checks the fixtures themselves: real clients against real servers, no proxy in between.

const KINDS: FtpBackendKind[] = ['proftpd', 'vsftpd', 'pure-ftpd'];
const SEED = 'seeded content 0123456789\n';

describe.concurrent.each(KINDS)('%s fixture', (kind) => {
  let backend: FtpBackend;
  let localDir: string;
  const login = () => ({
    host: backend.host,
    port: backend.port,
    user: backend.user,
    password: backend.password,
  });

  beforeAll(async () => {
    backend = await startFtpBackend(kind);
    localDir = await mkdtemp(join(tmpdir(), `ftpx-support-test-${kind}-`));
    await writeHomeFile(backend, 'seed.txt', SEED);
  });

  afterAll(async () => {
    await backend?.stop();
    if (localDir) await rm(localDir, { recursive: true, force: true });
  });

  it('greets with the backend name', async ({ expect }) => {
    expect(await readBanner(backend.host, backend.port)).toContain(`${backend.name} ready`);
  });

  it('serves a seeded file to curl and logs the transfer', async ({ expect }) => {
    const url = `ftp://${backend.user}:${backend.password}@${backend.host}:${backend.port}/seed.txt`;
    const run = await curl([url]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout.toString()).toBe(SEED);
    await vi.waitFor(async () => expect(await readFile(backend.transferLog, 'utf8')).toContain('seed.txt'));
  });

  it('lists and takes an upload from lftp', async ({ expect }) => {
    const local = join(localDir, 'lftp-upload.txt');
    await writeFile(local, 'uploaded by lftp\n');
    const open = `open -u ${backend.user},${backend.password} ${backend.url}`;
    const run = await lftp(`${open}; cls -1; put ${local} -o lftp-upload.txt`);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')).toContain('seed.txt');
    expect(await readFile(join(backend.homeDir, 'lftp-upload.txt'), 'utf8')).toBe('uploaded by lftp\n');
  });

  it('rejects a wrong password with 530', async ({ expect }) => {
    const { result } = await pythonFtp([{ op: 'login', password: 'wrong' }], login());
    expect(result.results[0]?.error).toMatch(/^530 /);
  });

  it('resumes a download at a REST offset, over PASV and EPSV', async ({ expect }) => {
    for (const epsv of [false, true]) {
      const local = join(localDir, `rest-${epsv}.txt`);
      const ops = [{ op: 'login' as const }, { op: 'retr' as const, path: 'seed.txt', local, rest: 7 }];
      const { result } = await pythonFtp(ops, { ...login(), epsv });
      expect(result.results.map((step) => step.error)).toEqual([undefined, undefined]);
      expect(await readFile(local, 'utf8')).toBe(SEED.slice(7));
    }
  });

  it('aborts a running download and keeps the session usable', async ({ expect }) => {
    const big = await writeHomeFile(backend, 'big.bin', '');
    await makeRandomFile(big, 16 * 1024 * 1024);
    const ops = [
      { op: 'login' as const },
      { op: 'abort-during-retr' as const, path: 'big.bin', bytes: 256 * 1024 },
      { op: 'pwd' as const },
    ];
    const { result } = await pythonFtp(ops, login());
    const [, abort, pwd] = result.results;
    expect(abort?.reply).toMatch(/^426/);
    expect(abort?.laterReplies?.at(-1)).toMatch(/^226/);
    expect(pwd?.path).toBe('/');
  });

  it('runs a second instance alongside and stops it for good', async ({ expect }) => {
    const other = await startFtpBackend(kind, { name: `${kind}-other` });
    expect(other.port).not.toBe(backend.port);
    expect(await readBanner(other.host, other.port)).toContain(`${kind}-other ready`);
    await Promise.all([other.stop(), other.stop()]);
    await expect(readBanner(other.host, other.port)).rejects.toThrow(/ECONNREFUSED/);
    await expect(stat(other.homeDir)).rejects.toThrow(/ENOENT/);
  });
});

describe('files', () => {
  it('streams random bytes and hashes them', async ({ expect }) => {
    const dir = await mkdtemp(join(tmpdir(), 'ftpx-support-files-'));
    try {
      const path = join(dir, 'random.bin');
      const hash = await makeRandomFile(path, 3 * 1024 * 1024 + 17);
      expect((await stat(path)).size).toBe(3 * 1024 * 1024 + 17);
      expect(await sha256File(path)).toBe(hash);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
