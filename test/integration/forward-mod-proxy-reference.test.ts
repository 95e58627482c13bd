import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../support/ftp-backends.js';
import { curl } from '../support/ftp-clients.js';
import { freePort } from '../support/ports.js';
import { type ModProxy, startModProxyForward } from '../support/proftpd-mod-proxy.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { RawFtp } from '../support/raw-ftp.js';

/** Sends each line (`{port}` is the proxy's own port) and returns every reply, `closed` once the proxy hung up. */
async function converse(port: number, script: string[]): Promise<string[]> {
  const ftp = await RawFtp.open(port);
  const replies = [(await ftp.reply()) ?? 'closed'];
  for (const line of script) {
    const reply = await ftp.command(line.replace('{port}', String(port)));
    replies.push(reply ?? 'closed');
    if (reply === undefined) break;
  }
  ftp.destroy();
  return replies;
}

const codes = (replies: string[]) => replies.map((reply) => reply.slice(0, 3));

/**
 * The user@host scenarios of mod_proxy's forward tests (proxy_forward_noproxyauth_*), run through
 * Debian's mod_proxy and through ftpx side by side: the reply codes must be the same, step by step.
 */
describe('forward proxy against mod_proxy (user@host)', () => {
  let backend: FtpBackend;
  let modProxy: ModProxy;
  let ftpx: TestProxy;
  let closedPort: number;

  beforeAll(async () => {
    backend = await startFtpBackend('proftpd', { name: 'fwd-reference' });
    await writeHomeFile(backend, 'hello.txt', 'same bytes either way\n');
    [modProxy, ftpx] = await Promise.all([
      startModProxyForward('user@host'),
      startTestProxy({
        backends: [],
        classes: [{ name: 'loopback', from: ['127.0.0.0/8'], forwardEnabled: true }],
        poolSettings: {
          role: 'forward',
          forward: { method: 'user@host' },
          retryCount: 1,
          // The destinations are on loopback, which the destination policy refuses unless told.
          allowDestinationNetworks: ['127.0.0.0/8'],
        },
      }),
    ]);
    closedPort = await freePort();
  });

  afterAll(async () => {
    await ftpx?.close();
    await modProxy?.stop();
    await backend?.stop();
  });

  const destination = () => `${backend.user}@127.0.0.1:${backend.port}`;

  async function both(script: string[]): Promise<{ modProxy: string[]; ftpx: string[] }> {
    return {
      modProxy: await converse(modProxy.port, script),
      ftpx: await converse(ftpx.port, script),
    };
  }

  it.each([
    ['login', () => [`USER ${destination()}`, `PASS ${backend.password}`, 'PWD', 'QUIT']],
    ['login_failed_bad_sequence', () => [`USER ${destination()}`, 'PWD', `PASS ${backend.password}`]],
    [
      'login_extra_user / login_extra_pass',
      () => [`USER ${destination()}`, `PASS ${backend.password}`, `USER ${destination()}`, `PASS x`],
    ],
    ['login_failed_bad_dst_passwd', () => [`USER ${destination()}`, 'PASS wrong']],
    [
      'connect_failed, then another try in the same session',
      () => [`USER a@127.0.0.1:${closedPort}`, `USER ${destination()}`, `PASS ${backend.password}`],
    ],
    ['login_failed_proxy_dst_addr (loop)', () => ['USER a@127.0.0.1:{port}']],
    ['login_feat_first', () => ['FEAT', `USER ${destination()}`, `PASS ${backend.password}`]],
    [
      'HOST unknown before USER, HOST after login',
      () => ['HOST nowhere.example', `USER ${destination()}`, `PASS ${backend.password}`, 'HOST x'],
    ],
    ['USER without a destination', () => ['USER someone']],
    [
      'login_after_host',
      () => ['HOST 127.0.0.1', `USER ${destination()}`, `PASS ${backend.password}`, 'PWD'],
    ],
    [
      'list_pasv and retr with commands between (EPSV, TYPE, SIZE)',
      () => [
        `USER ${destination()}`,
        `PASS ${backend.password}`,
        'TYPE I',
        'SIZE hello.txt',
        'EPSV',
        'ABOR',
        'NOOP',
      ],
    ],
  ])('%s: same reply codes', async (_name, script) => {
    const replies = await both(script());
    expect(codes(replies.ftpx)).toEqual(codes(replies.modProxy));
  });

  it('login_failed_login_limit: the same refusals, then ftpx closes (mod_proxy 0.9.2 does not count destination refusals)', async () => {
    const script = [
      `USER ${destination()}`,
      'PASS wrong1',
      `USER ${destination()}`,
      'PASS wrong2',
      `USER ${destination()}`,
      'PASS wrong3',
      'NOOP',
    ];
    const replies = await both(script);
    expect(codes(replies.ftpx).slice(0, 7)).toEqual(codes(replies.modProxy).slice(0, 7));
    // MaxLoginAttempts 3: ftpx's third refusal is the last word; Debian's mod_proxy goes on.
    expect(replies.ftpx[7]).toBe('closed');
    expect(replies.modProxy[7]).toBe('530 Please login with USER and PASS');
  });

  it('connect failures and the loop refusal: 530 as in mod_proxy, but one generic text (no port-scanner oracle)', async () => {
    for (const line of [`USER a@127.0.0.1:${closedPort}`, 'USER a@127.0.0.1:{port}']) {
      const replies = await both([line]);
      expect(replies.modProxy[1]).toMatch(/^530 Unable to connect to 127\.0\.0\.1:\d+: /);
      // mod_proxy tells the reason (Connection refused, Operation not permitted); ftpx logs it only.
      expect(replies.ftpx[1]).toBe('530 Unable to connect to the destination.');
    }
  });

  it('serves the same download and listing (PASV and PORT) as mod_proxy', async () => {
    const url = (port: number, path: string) =>
      `ftp://${encodeURIComponent(destination())}:${backend.password}@127.0.0.1:${port}/${path}`;
    for (const active of [[], ['--ftp-port', '127.0.0.1']]) {
      const [viaModProxy, viaFtpx] = await Promise.all(
        [modProxy.port, ftpx.port].map((port) => curl([...active, url(port, 'hello.txt')])),
      );
      expect(viaModProxy?.stdout.toString()).toBe('same bytes either way\n');
      expect(viaFtpx?.stdout.toString()).toBe('same bytes either way\n');
      const listings = await Promise.all(
        [modProxy.port, ftpx.port].map(async (port) =>
          (await curl([...active, '--list-only', url(port, '')])).stdout.toString(),
        ),
      );
      expect(listings[1]).toBe(listings[0]);
    }
  });
});

/**
 * The proxy-login scenarios (proxy_forward_userwithproxyauth_* and proxy_forward_proxyuserwithproxyauth_*)
 * up to the destination login: Debian's mod_proxy drops the session right after it when it does not
 * run as root (it cannot chroot), so what follows the login is covered in forward-proxy.test.ts.
 */
describe('forward proxy logins against mod_proxy (proxy authentication)', () => {
  let backend: FtpBackend;
  let dir: string;
  const running: Array<{ stop?: () => Promise<void>; close?: () => Promise<void> }> = [];

  beforeAll(async () => {
    backend = await startFtpBackend('proftpd', { name: 'fwd-auth-reference' });
    dir = await mkdtemp(join(tmpdir(), 'ftpx-fwd-auth-'));
    await chmod(dir, 0o755);
    const hash = execFileSync('openssl', ['passwd', '-6', 'alice-pw'], { encoding: 'utf8' }).trim();
    // ProFTPD refuses a world-readable AuthUserFile.
    await writeFile(join(dir, 'proxy.passwd'), `alice:${hash}:65534:65534::${dir}:/bin/sh\n`, {
      mode: 0o600,
    });
  });

  afterAll(async () => {
    for (const server of running) await (server.stop ?? server.close)?.();
    await backend?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function pair(method: string): Promise<{ modProxy: number; ftpx: number }> {
    const [reference, ours] = await Promise.all([
      startModProxyForward(
        method,
        'mod_proxy-forward',
        `AuthOrder mod_auth_file.c\nAuthUserFile ${join(dir, 'proxy.passwd')}\nRequireValidShell off\n`,
      ),
      startTestProxy({
        backends: [],
        classes: [{ name: 'loopback', from: ['127.0.0.0/8'], forwardEnabled: true }],
        poolSettings: {
          role: 'forward',
          allowDestinationNetworks: ['127.0.0.0/8'],
          forward: { method },
          authUserFile: join(dir, 'proxy.passwd'),
          retryCount: 1,
        },
      }),
    ]);
    running.push(reference, ours);
    return { modProxy: reference.port, ftpx: ours.port };
  }

  it('proxyuser,user@host: same reply codes', async () => {
    const ports = await pair('proxyuser,user@host');
    const dst = () => `127.0.0.1:${backend.port}`;
    const scripts = [
      // login, with commands out of sequence on the way, and USER without a destination
      [
        'USER alice',
        'PWD',
        'PASS alice-pw',
        'PWD',
        'LIST',
        `USER ${backend.user}`,
        `USER ${backend.user}@${dst()}`,
        'PWD',
        `PASS ${backend.password}`,
      ],
      // login_failed_bad_proxy_passwd: USER stays the proxy's
      ['USER alice', 'PASS wrong', `USER ${backend.user}@${dst()}`, `PASS ${backend.password}`],
      // bad_sequence_no_dst_login and login_failed_bad_dst_passwd
      [
        'USER alice',
        'PASS alice-pw',
        `USER nobody@${dst()}`,
        'PASS x',
        `USER ${backend.user}@${dst()}`,
        'PASS bad',
      ],
      // the loop
      ['USER alice', 'PASS alice-pw', `USER ${backend.user}@127.0.0.1:{port}`],
    ];
    for (const script of scripts) {
      const reference = await converse(ports.modProxy, script);
      const ours = await converse(ports.ftpx, script);
      expect(codes(ours), script.join(' / ')).toEqual(codes(reference));
    }
  });

  it('proxyuser@host,user: same reply codes', async () => {
    const ports = await pair('proxyuser@host,user');
    const dst = () => `127.0.0.1:${backend.port}`;
    const scripts = [
      [`USER alice@${dst()}`, 'PASS alice-pw', 'PWD', `USER ${backend.user}`, `PASS ${backend.password}`],
      ['USER alice', 'PASS alice-pw', `USER ${backend.user}`],
      [`USER alice@${dst()}`, 'PASS wrong', 'USER x', 'PASS y'],
      ['USER alice@127.0.0.1:{port}', 'PASS alice-pw', `USER ${backend.user}`],
    ];
    for (const script of scripts) {
      const reference = await converse(ports.modProxy, script);
      const ours = await converse(ports.ftpx, script);
      expect(codes(ours), script.join(' / ')).toEqual(codes(reference));
    }
  });
});
