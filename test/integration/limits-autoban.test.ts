import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConfigInput, configSchema } from '../../edge-worker/config/schema.js';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../support/ftp-backends.js';
import { curl } from '../support/ftp-clients.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { RawFtp } from '../support/raw-ftp.js';

/**
 * Autobans (BanOnEvent) on FTP, with a real ProFTPD behind the proxy and raw clients from their own
 * loopback addresses: the session whose event bans its client ends at once with 421 and the ban's
 * message (as mod_ban disconnects the client it bans), later connections are refused at accept, and
 * honest sessions beside it go on. Forward proxy authentication counts ProxyAuthFailure as reverse
 * does; a reload changes the bans settings without dropping a session.
 */

const crypt = (password: string) =>
  execFileSync('openssl', ['passwd', '-6', password], { encoding: 'utf8' }).trim();

/** The first reply a connection from `source` gets, and whether the connection was then closed. */
async function firstReply(
  port: number,
  source: string,
): Promise<{ reply: string | undefined; closed: boolean }> {
  const ftp = await RawFtp.open(port, '127.0.0.1', source);
  const reply = await ftp.reply();
  const closed = reply?.startsWith('220') ? false : await ftp.closed();
  ftp.destroy();
  return { reply, closed };
}

describe('autobans end the session that tripped them', () => {
  let backend: FtpBackend;
  let dir: string;
  const proxies: TestProxy[] = [];

  beforeAll(async () => {
    backend = await startFtpBackend('proftpd', { name: 'limits-autoban' });
    await writeHomeFile(backend, 'honest.txt', 'an honest download\n');
    dir = await mkdtemp(join(tmpdir(), 'ftpx-limits-autoban-'));
    await writeFile(join(dir, 'proxy.passwd'), `alice:${crypt('alice-pw')}:1001:100::/home/alice:/bin/sh\n`);
  });

  afterAll(async () => {
    await Promise.all(proxies.map((proxy) => proxy.close()));
    await backend?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const destination = () => `${backend.user}@127.0.0.1:${backend.port}`;

  it('forward proxy auth: the second wrong proxy password bans the address and ends that session with 421', async () => {
    const proxy = await startTestProxy({
      backends: [],
      classes: [{ name: 'local', from: ['127.0.0.0/8'], forwardEnabled: true }],
      listener: { maxLoginAttempts: 5 },
      poolSettings: {
        role: 'forward',
        forward: { method: 'proxyuser,user@host' },
        authUserFile: join(dir, 'proxy.passwd'),
        allowDestinationNetworks: ['127.0.0.0/8'],
      },
      settings: {
        bans: {
          message: 'Banned: %a',
          pollInterval: '300ms',
          rules: [{ event: 'ProxyAuthFailure', count: 2, window: '1m', duration: '1h' }],
        },
      },
    });
    proxies.push(proxy);
    // An honest client from another address, logged in through the proxy before the spray.
    const honest = await RawFtp.open(proxy.port, '127.0.0.1', '127.0.0.52');
    expect(await honest.reply()).toMatch(/^220/);
    expect(await honest.command('USER alice')).toBe('331 Password required for alice');
    expect(await honest.command('PASS alice-pw')).toBe('230 User alice logged in');
    expect(await honest.command(`USER ${destination()}`)).toMatch(/^331/);
    expect(await honest.command(`PASS ${backend.password}`)).toMatch(/^230/);

    const source = '127.0.0.51';
    const sprayer = await RawFtp.open(proxy.port, '127.0.0.1', source);
    expect(await sprayer.reply()).toMatch(/^220/);
    expect(await sprayer.command('USER alice')).toBe('331 Password required for alice');
    expect(await sprayer.command('PASS guess-1')).toBe('530 Login incorrect.');
    expect(await sprayer.command('USER alice')).toBe('331 Password required for alice');
    expect(await sprayer.command('PASS guess-2')).toBe('530 Login incorrect.');
    // MaxLoginAttempts (5) would allow three more: the ban ends the session now.
    expect(await sprayer.reply()).toBe(`421 Banned: ${source}`);
    expect(await sprayer.closed()).toBe(true);
    expect(await firstReply(proxy.port, source)).toEqual({ reply: `530 Banned: ${source}`, closed: true });
    expect(proxy.logs.some((line) => line.msg === 'autoban' && line.event === 'ProxyAuthFailure')).toBe(true);

    expect(await honest.command('PWD')).toMatch(/^257/);
    expect(await honest.command('QUIT')).toMatch(/^221/);
  });

  it('a reload applies a new BanMessage and BanOnEvent rule to running sessions and new clients, and drops none', async () => {
    const proxy = await startTestProxy({
      backends: [backend.url],
      settings: { bans: { message: 'Banned: %a', pollInterval: '300ms' } },
    });
    proxies.push(proxy);
    const honest = await RawFtp.open(proxy.port);
    await honest.login(backend.user, backend.password);
    // Before the reload no rule counts bad commands.
    const before = await RawFtp.open(proxy.port, '127.0.0.1', '127.0.0.53');
    expect(await before.reply()).toMatch(/^220/);
    expect(await before.command('12345')).toMatch(/^500/);
    expect(await before.command('NOOP')).toMatch(/^200/);

    const next: ConfigInput = {
      dataDir: join(dir, 'reloaded'),
      store: { endpoint: 'embedded' },
      // Port 0 as the running listener was configured: the reload keeps its socket.
      listeners: [{ address: '127.0.0.1', port: 0, pool: 'test' }],
      pools: [{ name: 'test', backends: [backend.url] }],
      bans: {
        message: 'Go away, %a.',
        pollInterval: '300ms',
        rules: [{ event: 'UnhandledCommand', count: 1, window: '1m', duration: '1h' }],
      },
    };
    await proxy.worker.reload(configSchema.parse(next));

    // The session that was open before the reload trips the new rule and is told the new message.
    expect(await before.command('67890')).toMatch(/^500/);
    expect(await before.reply()).toBe('421 Go away, 127.0.0.53.');
    expect(await before.closed()).toBe(true);
    expect(await firstReply(proxy.port, '127.0.0.53')).toEqual({
      reply: '530 Go away, 127.0.0.53.',
      closed: true,
    });
    // The honest session from before the reload goes on, and new honest sessions log in.
    expect(await honest.command('PWD')).toMatch(/^257/);
    const download = await curl([
      `ftp://${backend.user}:${backend.password}@127.0.0.1:${proxy.port}/honest.txt`,
    ]);
    expect(download.code, download.stderr).toBe(0);
    expect(download.stdout.toString('utf8')).toBe('an honest download\n');
    expect(await honest.command('QUIT')).toMatch(/^221/);
  });
});
