import { copyFile, mkdtemp, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FtpBackend,
  type FtpBackendKind,
  makeRandomFile,
  sha256File,
  startFtpBackend,
  writeHomeFile,
} from '../support/ftp-backends.js';
import { curl, lftp, pythonFtp } from '../support/ftp-clients.js';
import { freePort } from '../support/ports.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';

const BIG_BYTES = 64 * 1024 * 1024;
const HELLO = 'hello through ftpx\n';

/**
 * The walking-skeleton checks for one kind of backend: real clients (curl, lftp, Python's ftplib)
 * talk to ftpx, which relays to real servers of that kind.
 */
export function defineReverseFtpSuite(kind: FtpBackendKind): void {
  describe(`reverse FTP proxy in front of ${kind}`, () => {
    let primary: FtpBackend;
    let secondary: FtpBackend;
    let proxy: TestProxy;
    let scratch: string;
    let bigSha: string;
    let bigLocal: string;

    beforeAll(async () => {
      [primary, secondary] = await Promise.all([
        startFtpBackend(kind, { name: `${kind}-primary` }),
        startFtpBackend(kind, { name: `${kind}-secondary` }),
      ]);
      scratch = await mkdtemp(join(tmpdir(), `ftpx-${kind}-client-`));
      bigLocal = join(scratch, 'big.bin');
      bigSha = await makeRandomFile(bigLocal, BIG_BYTES);
      for (const backend of [primary, secondary]) {
        await writeHomeFile(backend, 'hello.txt', HELLO);
        await writeHomeFile(backend, 'whoami.txt', backend.name);
      }
      const bigRemote = await writeHomeFile(primary, 'big.bin', '');
      await copyFile(bigLocal, bigRemote);
      proxy = await startTestProxy({ backends: [primary.url] });
    });

    afterAll(async () => {
      await proxy?.close();
      await Promise.all([primary?.stop(), secondary?.stop()]);
      if (scratch) await rm(scratch, { recursive: true, force: true });
    });

    const via = (path = '', user?: string, password?: string) =>
      `ftp://${user ?? primary.user}:${password ?? primary.password}@127.0.0.1:${proxy.port}/${path}`;
    const py = (ops: Parameters<typeof pythonFtp>[0], extra: { epsv?: boolean; password?: string } = {}) =>
      pythonFtp(ops, {
        host: '127.0.0.1',
        port: proxy.port,
        user: primary.user,
        password: extra.password ?? primary.password,
        ...(extra.epsv ? { epsv: true } : {}),
      });

    it('relays the backend banner and serves a download to curl (EPSV and PASV)', async () => {
      const epsv = await curl([via('hello.txt')]);
      expect(epsv.stderr).toBe('');
      expect(epsv.stdout.toString()).toBe(HELLO);
      const pasv = await curl(['--disable-epsv', via('hello.txt')]);
      expect(pasv.stdout.toString()).toBe(HELLO);
      const { result } = await py([{ op: 'quit' }]);
      expect(result.welcome).toMatch(new RegExp(`^220.*${primary.name}`));
    });

    it("answers a wrong password with the backend's 530 and never logs the password", async () => {
      const wrong = 'not-the-Password-42';
      const { result } = await py([{ op: 'login' }], { password: wrong });
      expect(result.results[0]?.error).toMatch(/^530/);
      const viaCurl = await curl([via('hello.txt', primary.user, wrong)]);
      expect(viaCurl.code).toBe(67); // curl: login denied
      expect(proxy.logText()).not.toContain(wrong);
      expect(proxy.logText()).not.toContain(primary.password);
    });

    it('relays LIST, NLST and MLSD listings', async () => {
      const list = await curl([via()]);
      expect(list.stdout.toString()).toMatch(/hello\.txt/);
      const nlst = await curl(['--list-only', via()]);
      expect(nlst.stdout.toString().split(/\r?\n/)).toEqual(
        expect.arrayContaining(['hello.txt', 'whoami.txt']),
      );
      const { result } = await py([{ op: 'login' }, { op: 'mlsd' }, { op: 'nlst' }]);
      const mlsd = result.results[1];
      if (kind === 'vsftpd') {
        // vsftpd has no MLSD: its refusal is relayed unchanged.
        expect(mlsd?.error).toMatch(/^5\d\d/);
      } else {
        const hello = mlsd?.entries?.find((entry) => entry.name === 'hello.txt');
        expect(hello?.facts.size).toBe(String(HELLO.length));
      }
      expect(result.results[2]?.lines).toEqual(expect.arrayContaining(['hello.txt']));
      const viaLftp = await lftp(
        `open -u ${primary.user},${primary.password} ftp://127.0.0.1:${proxy.port}; cls -1`,
      );
      expect(viaLftp.code, viaLftp.stderr).toBe(0);
      expect(viaLftp.stdout.split('\n')).toEqual(expect.arrayContaining(['hello.txt', 'big.bin']));
    });

    it('moves 64 MiB down and up without losing a byte', async () => {
      const downloaded = join(scratch, 'down.bin');
      const down = await curl([via('big.bin'), '-o', downloaded]);
      expect(down.code, down.stderr).toBe(0);
      expect(await sha256File(downloaded)).toBe(bigSha);
      const up = await curl(['-T', bigLocal, via('uploaded.bin')]);
      expect(up.code, up.stderr).toBe(0);
      expect(await sha256File(join(primary.homeDir, 'uploaded.bin'))).toBe(bigSha);
      await rm(downloaded, { force: true });
    });

    it('uploads with lftp and appends with APPE', async () => {
      const small = join(scratch, 'small.txt');
      await writeHomeFile(primary, 'placeholder.txt', '');
      const result = await lftp(
        `open -u ${primary.user},${primary.password} ftp://127.0.0.1:${proxy.port}; put ${join(primary.homeDir, 'hello.txt')} -o lftp-upload.txt`,
      );
      expect(result.code, result.stderr).toBe(0);
      await copyFile(join(primary.homeDir, 'lftp-upload.txt'), small);
      const { result: appended } = await py([
        { op: 'login' },
        { op: 'appe', path: 'lftp-upload.txt', local: small },
        { op: 'size', path: 'lftp-upload.txt' },
      ]);
      expect(appended.results[1]?.error).toBeUndefined();
      expect(appended.results[2]?.size).toBe(2 * HELLO.length);
    });

    it('resumes a download with REST (curl -C - and ftplib)', async () => {
      const partial = join(scratch, 'partial.bin');
      await copyFile(bigLocal, partial);
      await truncate(partial, 10 * 1024 * 1024 + 123);
      const resumed = await curl(['-C', '-', via('big.bin'), '-o', partial]);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(await sha256File(partial)).toBe(bigSha);
      const tail = join(scratch, 'tail.bin');
      const { result } = await py([{ op: 'login' }, { op: 'retr', path: 'hello.txt', local: tail, rest: 6 }]);
      expect(result.results[1]?.bytes).toBe(HELLO.length - 6);
      await rm(partial, { force: true });
    });

    it('aborts a running download with ABOR and keeps the session usable', async () => {
      const { result } = await py([
        { op: 'login' },
        { op: 'abort-during-retr', path: 'big.bin', bytes: 256 * 1024 },
        { op: 'pwd' },
        { op: 'retr', path: 'hello.txt', local: join(scratch, 'after-abort.txt') },
      ]);
      const abort = result.results[1];
      expect(abort?.error).toBeUndefined();
      expect(abort?.reply).toMatch(/^(426|225|226)/);
      expect(abort?.noopReply).toMatch(/^200/);
      expect(result.results[3]?.bytes).toBe(HELLO.length);
    });

    it('relays the backend’s refusal of a transfer and goes on', async () => {
      const { result } = await py([
        { op: 'login' },
        { op: 'retr', path: 'no-such-file.bin', local: join(scratch, 'missing.bin') },
        { op: 'retr', path: 'hello.txt', local: join(scratch, 'after-missing.txt') },
      ]);
      expect(result.results[1]?.error).toMatch(/^550/);
      expect(result.results[2]?.bytes).toBe(HELLO.length);
    });

    it('alternates RoundRobin over two backends', async () => {
      const pair = await startTestProxy({ backends: [primary.url, secondary.url] });
      try {
        const served: string[] = [];
        for (let i = 0; i < 4; i++) {
          const body = await curl([
            `ftp://${primary.user}:${primary.password}@127.0.0.1:${pair.port}/whoami.txt`,
          ]);
          served.push(body.stdout.toString());
        }
        expect(served).toEqual([primary.name, secondary.name, primary.name, secondary.name]);
      } finally {
        await pair.close();
      }
    });

    it('skips a backend that is down and reaches the next one', async () => {
      const deadPort = await freePort();
      const withDead = await startTestProxy({ backends: [`ftp://127.0.0.1:${deadPort}`, primary.url] });
      try {
        const body = await curl([
          `ftp://${primary.user}:${primary.password}@127.0.0.1:${withDead.port}/whoami.txt`,
        ]);
        expect(body.stdout.toString()).toBe(primary.name);
        expect(withDead.logs.some((line) => line.msg === 'backend connect failed')).toBe(true);
      } finally {
        await withDead.close();
      }
    });
  });
}
