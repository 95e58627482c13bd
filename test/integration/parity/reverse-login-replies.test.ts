import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FtpBackend, startFtpBackend } from '../../support/ftp-backends.js';
import { codeAndMessage, netFtp } from '../../support/net-ftp.js';
import { startTestProxy, type TestProxy } from '../../support/proxy.js';

/**
 * Login replies in the reverse role, as mod_proxy gives them, with Perl's Net::FTP (the client of
 * mod_proxy's own suite) against a real ProFTPD: under PerUser without a fallback, a new USER after a
 * failed login chooses anew (mod_proxy issue 148) instead of reaching the previous name's backend;
 * and a backend URL naming the account to log in as never shows that account to the client, neither
 * in the 331 nor in the 230.
 */
describe('reverse login replies (PerUser, URL credentials)', () => {
  let backend: FtpBackend;
  let proxy: TestProxy;
  let dir: string;

  beforeAll(async () => {
    backend = await startFtpBackend('proftpd');
    dir = await mkdtemp(join(tmpdir(), 'ftpx-peruser-'));
    await chmod(dir, 0o755);
    const users = join(dir, 'users');
    await mkdir(users, { mode: 0o755 });
    // alice logs in to the backend as its account "ftpx" (the URL's user), with her own password.
    await writeFile(
      join(users, 'alice.json'),
      JSON.stringify([`ftp://${backend.user}@127.0.0.1:${backend.port}`]),
    );
    await chmod(join(users, 'alice.json'), 0o644);
    proxy = await startTestProxy({
      backends: [`file:${join(users, '%U.json')}`],
      poolSettings: {
        connectPolicy: 'PerUser',
        perUserFallback: 'refuse',
        allowDestinationNetworks: ['127.0.0.0/8'],
      },
    });
  });

  afterAll(async () => {
    await proxy?.close();
    await backend?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('refuses another USER after a failed login instead of sending it to the first backend, and names the client in 331 and 230', async () => {
    const run = await netFtp(
      [
        { op: 'login', user: 'alice', pass: 'wrong-password' },
        { op: 'quot', cmd: 'USER', arg: 'WrongUser' },
        { op: 'quot', cmd: 'USER', arg: 'alice' },
        { op: 'quot', cmd: 'PASS', arg: backend.password },
        { op: 'quit' },
      ],
      { host: proxy.host, port: proxy.port },
    );
    expect(codeAndMessage(run.greeting)).toBe('220 FTP proxy ready.');
    expect(run.steps.map(codeAndMessage)).toEqual([
      '530 Login incorrect.',
      '530 Login incorrect.',
      '331 Password required for alice',
      '230 User alice logged in',
      '221 Goodbye.',
    ]);
    const connected = proxy.logs
      .filter((line) => line.msg === 'connected to backend')
      .map((line) => line.user);
    expect(connected).not.toContain('WrongUser');
    expect(JSON.stringify(run)).not.toContain(`User ${backend.user}`);
  });

  it('greets with the listener greeting (ServerIdent) when it greets the client itself', async () => {
    const greeted = await startTestProxy({
      backends: [backend.url],
      listener: { greeting: 'Parity FTP service ready' },
      poolSettings: { connectPolicy: 'PerUser' },
    });
    try {
      const run = await netFtp([{ op: 'quit' }], { host: greeted.host, port: greeted.port });
      expect(codeAndMessage(run.greeting)).toBe('220 Parity FTP service ready');
    } finally {
      await greeted.close();
    }
  });
});
