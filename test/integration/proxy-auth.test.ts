import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../support/ftp-backends.js';
import { curl } from '../support/ftp-clients.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { RawFtp } from '../support/raw-ftp.js';

const crypt = (password: string) =>
  execFileSync('openssl', ['passwd', '-6', password], { encoding: 'utf8' }).trim();

/** UseReverseProxyAuth: the proxy checks USER/PASS against its own users before any backend. */
describe('proxy authentication (UseReverseProxyAuth)', () => {
  let a: FtpBackend;
  let b: FtpBackend;
  let dir: string;
  const proxies: TestProxy[] = [];

  beforeAll(async () => {
    [a, b] = await Promise.all([
      startFtpBackend('proftpd', { name: 'auth-a' }),
      startFtpBackend('proftpd', { name: 'auth-b' }),
    ]);
    for (const backend of [a, b]) await writeHomeFile(backend, 'whoami.txt', backend.name);
    dir = await mkdtemp(join(tmpdir(), 'ftpx-auth-'));
    // A ProFTPD AuthUserFile and AuthGroupFile, as an admin replacing mod_proxy has them.
    await writeFile(
      join(dir, 'ftpd.passwd'),
      [
        `alice:${crypt('alice-pw')}:1001:100::/home/alice:/bin/sh`,
        `bob:${crypt('bob-pw')}:1002:100::/home/bob:/bin/sh`,
        `carol:${crypt('carol-pw')}:1003:200::/home/carol:/bin/sh`,
        '',
      ].join('\n'),
    );
    await writeFile(join(dir, 'ftpd.group'), 'staff:x:100:\nguests:x:200:\n');
  });

  afterAll(async () => {
    await Promise.all(proxies.map((proxy) => proxy.close()));
    await Promise.all([a?.stop(), b?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  // The backends are logged in to with the service account in the URL, whoever the proxy user is.
  const backendUrl = (backend: FtpBackend) =>
    `ftp://${backend.user}:${backend.password}@127.0.0.1:${backend.port}`;
  const proxyWith = async (poolSettings: Record<string, unknown>, backends = [backendUrl(a)]) => {
    const proxy = await startTestProxy({
      backends,
      poolSettings: {
        proxyAuth: true,
        authUserFile: join(dir, 'ftpd.passwd'),
        authGroupFile: join(dir, 'ftpd.group'),
        ...poolSettings,
      },
    });
    proxies.push(proxy);
    return proxy;
  };

  it('logs in proxy users from an AuthUserFile, and only then connects a backend', async () => {
    const proxy = await proxyWith({});
    const ok = await curl([`ftp://alice:alice-pw@127.0.0.1:${proxy.port}/whoami.txt`]);
    expect(ok.stdout.toString()).toBe(a.name);
    const ftp = await RawFtp.open(proxy.port);
    expect(await ftp.reply()).toBe('220 FTP proxy ready.');
    expect(await ftp.command('USER alice')).toBe('331 Password required for alice');
    const before = proxy.logs.filter((line) => line.msg === 'connected to backend').length;
    expect(await ftp.command('PASS wrong')).toBe('530 Login incorrect.');
    await ftp.command('USER nobody-here');
    expect(await ftp.command('PASS whatever')).toBe('530 Login incorrect.');
    // Refused logins never reached a backend.
    expect(proxy.logs.filter((line) => line.msg === 'connected to backend')).toHaveLength(before);
    await ftp.command('USER alice');
    expect(await ftp.command('PASS alice-pw')).toMatch(/^230/);
    ftp.destroy();
    expect(proxy.logText()).not.toContain('alice-pw');
  });

  it('asks the identity hook (a real HTTPS server) when one is configured', async () => {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-days',
        '1',
        '-keyout',
        join(dir, 'hook-key.pem'),
        '-out',
        join(dir, 'hook-cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const cert = await readFile(join(dir, 'hook-cert.pem'), 'utf8');
    const hook = createHttpsServer(
      { key: await readFile(join(dir, 'hook-key.pem'), 'utf8'), cert },
      (req, res) => {
        let body = '';
        req.on('data', (chunk: Buffer) => {
          body += chunk.toString();
        });
        req.on('end', () => {
          const login = JSON.parse(body) as { user: string; password: string; clientAddress: string };
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify(
              login.user === 'dave' && login.password === 'from-the-directory'
                ? { allow: true, group: 'staff' }
                : { allow: false },
            ),
          );
        });
      },
    );
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    try {
      const proxy = await startTestProxy({
        backends: [backendUrl(a)],
        poolSettings: { proxyAuth: true },
        identityHook: {
          url: `https://127.0.0.1:${(hook.address() as { port: number }).port}/login`,
          ca: cert,
        },
      });
      proxies.push(proxy);
      const ok = await curl([`ftp://dave:from-the-directory@127.0.0.1:${proxy.port}/whoami.txt`]);
      expect(ok.stdout.toString()).toBe(a.name);
      const denied = await curl([`ftp://dave:guess@127.0.0.1:${proxy.port}/whoami.txt`]);
      expect(denied.code).toBe(67);
    } finally {
      hook.close();
    }
  });

  it('PerGroup keeps each primary group on one backend', async () => {
    const proxy = await proxyWith({ connectPolicy: 'PerGroup' }, [backendUrl(a), backendUrl(b)]);
    const served = async (user: string) =>
      (await curl([`ftp://${user}:${user}-pw@127.0.0.1:${proxy.port}/whoami.txt`])).stdout.toString();
    const staff = new Set<string>();
    const guests = new Set<string>();
    for (let i = 0; i < 4; i++) {
      staff.add(await served('alice'));
      staff.add(await served('bob'));
      guests.add(await served('carol'));
    }
    expect(staff.size).toBe(1);
    expect(guests.size).toBe(1);
    expect([...staff, ...guests].every((name) => name === a.name || name === b.name)).toBe(true);
  });
});
