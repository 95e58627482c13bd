import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../support/ftp-backends.js';
import { curl } from '../support/ftp-clients.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { RawFtp } from '../support/raw-ftp.js';

/** Loopback is not RFC 1918: local clients need a class that enables forwarding. */
const LOOPBACK_CLASS = { name: 'local', from: ['127.0.0.0/8', '::1'], forwardEnabled: true };
const DENY_STOR = [{ commands: ['STOR'], otherwise: 'deny' }];

/**
 * Issue 14, hole 8: RFC 959 (5.3) makes a verb letters only, ended by one SP. A `<Limit STOR>` that
 * looks at the verb the proxy parsed must not be sidestepped by a line a backend reads differently:
 * ProFTPD, for one, splits commands on tabs too. Every such line gets 500 from the proxy and never
 * reaches the backend, in reverse and forward sessions alike.
 */
describe('command verbs are letters only', () => {
  let backend: FtpBackend;
  const proxies: TestProxy[] = [];
  const upload = join(tmpdir(), `ftpx-verbs-${process.pid}.txt`);

  beforeAll(async () => {
    backend = await startFtpBackend('proftpd', { name: 'verbs' });
    await writeHomeFile(backend, 'hello.txt', 'hello\n');
    await writeFile(upload, 'honest upload\n');
  });

  afterAll(async () => {
    await Promise.all(proxies.map((proxy) => proxy.close()));
    await backend?.stop();
  });

  /** A data connection to the port a 227 reply names, ready before the disguised STOR is sent. */
  const openPassive = async (ftp: RawFtp): Promise<Socket> => {
    const reply = (await ftp.command('PASV')) ?? '';
    const match = /\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/.exec(reply);
    if (!match) throw new Error(`no 227: ${reply}`);
    const port = Number(match[5]) * 256 + Number(match[6]);
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return socket;
  };

  /** Each disguise of `STOR <name>`: a leading tab or space, a tab in or after the verb, a digit, a NUL. */
  const DISGUISES = [
    (name: string) => `\tSTOR ${name}`,
    (name: string) => ` STOR ${name}`,
    (name: string) => `ST\tOR ${name}`,
    (name: string) => `STOR\t${name}`,
    (name: string) => `STOR1 ${name}`,
    (name: string) => `S\x00TOR ${name}`,
  ];

  const attack = async (ftp: RawFtp, tag: string) => {
    const names = DISGUISES.map((_, index) => `evil-${tag}-${index}.txt`);
    for (const [index, disguise] of DISGUISES.entries()) {
      const line = disguise(names[index] as string);
      const data = await openPassive(ftp);
      expect(await ftp.command(line), JSON.stringify(line)).toBe('500 Syntax error, command unrecognized.');
      data.end('stored by a disguised STOR\n');
      data.destroy();
    }
    // The session goes on, and the plain verb is still refused by <Limit>.
    expect(await ftp.command('STOR plain.txt')).toBe('550 STOR: Operation not permitted');
    expect(await ftp.command('NOOP')).toMatch(/^200/);
    for (const name of [...names, 'plain.txt'])
      expect(existsSync(join(backend.homeDir, name)), name).toBe(false);
  };

  it('reverse: a disguised STOR gets 500 and nothing is stored; the honest client is served', async () => {
    const proxy = await startTestProxy({ backends: [backend.url], listener: { limits: DENY_STOR } });
    proxies.push(proxy);
    const ftp = await RawFtp.open(proxy.port);
    await ftp.login(backend.user, backend.password);
    await attack(ftp, 'reverse');
    ftp.destroy();
    const refusals = proxy.logs.filter(
      (line) => line.msg === 'command verb is not letters only (RFC 959 section 5.3); refused',
    );
    expect(refusals).toHaveLength(DISGUISES.length);
    // Before login too: "\tUSER" and "PASS\t<secret>" get 500, and the secret is never logged.
    const early = await RawFtp.open(proxy.port);
    await early.reply();
    expect(await early.command(`\tUSER ${backend.user}`)).toBe('500 Syntax error, command unrecognized.');
    expect(await early.command('PASS\tsecret-in-a-bad-line')).toBe('500 Syntax error, command unrecognized.');
    early.destroy();
    expect(proxy.logText()).not.toContain('secret-in-a-bad-line');
    // Beside it, an honest client: downloads work, and the Limit still refuses a plain upload.
    const url = `ftp://${backend.user}:${backend.password}@127.0.0.1:${proxy.port}`;
    expect((await curl([`${url}/hello.txt`])).stdout.toString()).toBe('hello\n');
    expect((await curl(['-T', upload, `${url}/honest.txt`])).stderr).toMatch(/550/);
  });

  it('forward: the same parser and screen refuse a disguised STOR', async () => {
    const proxy = await startTestProxy({
      backends: [],
      classes: [LOOPBACK_CLASS],
      listener: { limits: DENY_STOR },
      // The destination is a loopback ProFTPD, which the destination policy refuses unless listed.
      poolSettings: {
        role: 'forward',
        forward: { method: 'user@host' },
        allowDestinationNetworks: ['127.0.0.0/8'],
      },
    });
    proxies.push(proxy);
    // Before the destination is known.
    const early = await RawFtp.open(proxy.port);
    expect(await early.reply()).toMatch(/^220/);
    expect(await early.command(` USER ${backend.user}@127.0.0.1:${backend.port}`)).toBe(
      '500 Syntax error, command unrecognized.',
    );
    early.destroy();
    const ftp = await RawFtp.open(proxy.port);
    await ftp.login(`${backend.user}@127.0.0.1:${backend.port}`, backend.password);
    await attack(ftp, 'forward');
    ftp.destroy();
    const honest = await curl([
      `ftp://${backend.user}%40127.0.0.1%3A${backend.port}:${backend.password}@127.0.0.1:${proxy.port}/hello.txt`,
    ]);
    expect(honest.stdout.toString()).toBe('hello\n');
  });
});
