import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../../support/ftp-backends.js';
import { curl } from '../../support/ftp-clients.js';
import { freePort } from '../../support/ports.js';
import { startProxyProcess } from '../../support/proxy-process.js';
import { RawFtp } from '../../support/raw-ftp.js';

const CLIENT_SECRET = 'client-secret-7f3a9';
const WRONG_SECRET = 'wrong-secret-b81c2';
const ADMIN_TOKEN = 'admin-token-never-logged-4d2e8a-0123456789';

/**
 * Every log a serving process writes (ProxyLog, per-listener logs, TraceLog with every channel at 20,
 * the access log, the TransferLog, standard error) after sessions with passwords, a backend URL with
 * credentials and a refused login: no secret in any of them.
 */
describe('logs and traces', () => {
  let backend: FtpBackend;
  let dir: string;
  let logs: string;

  beforeAll(async () => {
    backend = await startFtpBackend('proftpd', { name: 'logs-backend' });
    await writeHomeFile(backend, 'file.txt', 'logged\n');
    dir = await mkdtemp(join(tmpdir(), 'ftpx-logs-'));
    logs = join(dir, 'logs');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(logs);
  });

  afterAll(async () => {
    await backend?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes JSON, per-listener and access logs with backend notes, and no secret reaches any of them', async () => {
    const [portA, portB] = [await freePort(), await freePort()];
    const withCredentials = backend.url.replace('ftp://', `ftp://${backend.user}:${backend.password}@`);
    const file = join(dir, 'ftpx.yaml');
    const passwd = join(dir, 'ftpd.passwd');
    const hash = execFileSync('openssl', ['passwd', '-6', CLIENT_SECRET], { encoding: 'utf8' }).trim();
    await writeFile(passwd, `anyone:${hash}:1001:100::/home/anyone:/bin/sh\n`);
    const format =
      '%h %u %{note:mod_proxy.backend-ip} %{note:mod_proxy.backend-port} %{note:mod_proxy.backend-url} %I %O';
    await writeFile(
      file,
      [
        `dataDir: ${join(dir, 'data')}`,
        `transferLog: ${join(logs, 'xfer.log')}`,
        'log:',
        '  level: debug',
        `  file: ${join(logs, 'proxy.log')}`,
        `  traceFile: ${join(logs, 'trace.log')}`,
        "  traces: { 'proxy': 20 }",
        `  access: [{ file: ${join(logs, 'access.log')}, format: '${format}' }]`,
        'admin: { listen: "127.0.0.1:0" }',
        'listeners:',
        `  - { name: with-url-credentials, address: 127.0.0.1, port: ${portA}, pool: secret, logFile: ${join(logs, 'listener-a.log')} }`,
        `  - { name: plain, address: 127.0.0.1, port: ${portB}, pool: plain, logFile: ${join(logs, 'listener-b.log')} }`,
        'pools:',
        // URL credentials need proxy authentication: the proxy user "anyone" gets the backend's login.
        `  - { name: secret, backends: ["${withCredentials}"], proxyAuth: true, authUserFile: ${passwd} }`,
        `  - { name: plain, backends: [${backend.url}] }`,
        '',
      ].join('\n'),
    );
    process.env.FTPX_ADMIN_TOKEN = ADMIN_TOKEN;
    let proxy: Awaited<ReturnType<typeof startProxyProcess>>;
    try {
      proxy = await startProxyProcess({ args: ['serve', '--config', file], port: portB });
    } finally {
      delete process.env.FTPX_ADMIN_TOKEN;
    }
    try {
      // The proxy user passes, and the URL's credentials log in to the backend.
      const viaUrl = await curl([`ftp://anyone:${CLIENT_SECRET}@127.0.0.1:${portA}/file.txt`]);
      expect(viaUrl.stdout.toString()).toBe('logged\n');
      const plain = await curl([`ftp://${backend.user}:${backend.password}@127.0.0.1:${portB}/file.txt`]);
      expect(plain.stdout.toString()).toBe('logged\n');
      const wrong = await RawFtp.open(portB);
      await wrong.reply();
      await wrong.command(`USER ${backend.user}`);
      expect(await wrong.command(`PASS ${WRONG_SECRET}`)).toMatch(/^530/);
      await wrong.command('QUIT');
      wrong.destroy();
    } finally {
      proxy.signal('SIGTERM');
      expect(await proxy.exited()).toBe(0);
    }

    const files = (await readdir(logs)).sort();
    expect(files).toEqual([
      'access.log',
      'listener-a.log',
      'listener-b.log',
      'proxy.log',
      'trace.log',
      'xfer.log',
    ]);
    const texts = new Map<string, string>();
    for (const name of files) texts.set(name, await readFile(join(logs, name), 'utf8'));
    texts.set('stderr', proxy.stderr());
    for (const [name, text] of texts) {
      if (name !== 'stderr') expect(text.length, name).toBeGreaterThan(0);
      for (const secret of [backend.password, CLIENT_SECRET, WRONG_SECRET, ADMIN_TOKEN]) {
        expect(text.includes(secret), `${secret} in ${name}`).toBe(false);
      }
    }

    // The traces saw the PASS commands, and hold them redacted.
    const trace = texts.get('trace.log') ?? '';
    // mod_proxy's wording: the password never appears, on either side of the proxy.
    expect(trace).toContain('"msg":"received command: PASS (hidden)"');
    expect(trace).toContain(`"msg":"proxied command 'PASS (hidden)' from frontend to backend"`);
    expect(trace).toContain('"channel":"proxy.ftp.ctrl"');
    // Each listener's sessions log to its own file, and every line of a session names the session.
    for (const name of ['listener-a.log', 'listener-b.log']) {
      const lines = (texts.get(name) ?? '')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      const sessionLines = lines.filter((line) => line.channel === 'proxy.ftp.sess');
      expect(sessionLines.length).toBeGreaterThan(3);
      expect(sessionLines.every((line) => typeof line.session === 'string' && line.session !== '')).toBe(
        true,
      );
    }
    expect(texts.get('listener-b.log')).toContain('"msg":"login failed"');
    expect(texts.get('listener-a.log')).not.toContain('"msg":"login failed"');
    // The access log: one line per session with mod_proxy's backend notes (no credentials in the URL).
    const access = (texts.get('access.log') ?? '').trim().split('\n');
    expect(access).toHaveLength(3);
    const port = new URL(backend.url).port;
    expect(access).toContain(`127.0.0.1 anyone 127.0.0.1 ${port} ${backend.url} 0 7`);
    expect(access).toContain(`127.0.0.1 ${backend.user} 127.0.0.1 ${port} ${backend.url} 0 7`);
  });
});
