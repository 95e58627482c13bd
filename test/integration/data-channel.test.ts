import { readFile } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../support/ftp-backends.js';
import { curl, pythonFtp } from '../support/ftp-clients.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { RawFtp } from '../support/raw-ftp.js';

const HELLO = 'data channel check\n';

/** A raw control connection, logged in, for the exact commands bounce and theft attempts need. */
async function rawLogin(port: number, backend: FtpBackend): Promise<RawFtp> {
  const ftp = await RawFtp.open(port);
  await ftp.login(backend.user, backend.password);
  return ftp;
}

function listenOn(host: string): Promise<{ server: Server; port: number; received: Promise<Socket> }> {
  return new Promise((resolve) => {
    let deliver!: (socket: Socket) => void;
    const received = new Promise<Socket>((r) => {
      deliver = r;
    });
    const server = createServer((socket) => deliver(socket));
    server.listen(0, host, () =>
      resolve({ server, port: (server.address() as { port: number }).port, received }),
    );
  });
}

const portArg = (host: string, port: number) => `${host.split('.').join(',')},${port >> 8},${port & 0xff}`;

describe('data channel: policies, active mode, bounce and theft protection', () => {
  let backend: FtpBackend;
  const proxies: TestProxy[] = [];

  beforeAll(async () => {
    backend = await startFtpBackend('proftpd', { name: 'data-channel' });
    await writeHomeFile(backend, 'hello.txt', HELLO);
  });

  afterAll(async () => {
    await Promise.all(proxies.map((proxy) => proxy.close()));
    await backend?.stop();
  });

  const proxyWith = async (options: Partial<Parameters<typeof startTestProxy>[0]> = {}) => {
    const proxy = await startTestProxy({ backends: [backend.url], ...options });
    proxies.push(proxy);
    return proxy;
  };

  /** Downloads hello.txt through the proxy the way the client mode says, and returns what arrived. */
  async function download(proxy: TestProxy, mode: 'PASV' | 'EPSV' | 'PORT' | 'EPRT'): Promise<string> {
    if (mode === 'EPRT') {
      const result = await curl([
        '-P',
        '127.0.0.1',
        `ftp://${backend.user}:${backend.password}@127.0.0.1:${proxy.port}/hello.txt`,
      ]);
      expect(result.stderr).toBe('');
      return result.stdout.toString();
    }
    const local = join(tmpdir(), `ftpx-data-${mode}-${Date.now()}-${Math.random()}.txt`);
    const { result } = await pythonFtp([{ op: 'login' }, { op: 'retr', path: 'hello.txt', local }], {
      host: '127.0.0.1',
      port: proxy.port,
      user: backend.user,
      password: backend.password,
      ...(mode === 'EPSV' ? { epsv: true } : {}),
      ...(mode === 'PORT' ? { active: true } : {}),
    });
    expect(result.results[1]?.error).toBeUndefined();
    return readFile(local, 'utf8');
  }

  const POLICIES = ['client', 'active', 'passive', 'PASV', 'EPSV', 'PORT', 'EPRT'] as const;
  const CLIENT_MODES = ['PASV', 'EPSV', 'PORT', 'EPRT'] as const;
  const expectedBackendCommand = (policy: (typeof POLICIES)[number], mode: (typeof CLIENT_MODES)[number]) =>
    ({
      client: mode,
      active: 'EPRT',
      passive: 'EPSV',
      PASV: 'PASV',
      EPSV: 'EPSV',
      PORT: 'PORT',
      EPRT: 'EPRT',
    })[policy];

  for (const policy of POLICIES) {
    it(`ProxyDataTransferPolicy ${policy}: every client mode transfers, with the backend used as the policy says`, async () => {
      const proxy = await proxyWith({ poolSettings: { dataTransferPolicy: policy } });
      for (const mode of CLIENT_MODES) {
        expect(await download(proxy, mode), `client ${mode}`).toBe(HELLO);
        const ready = proxy.logs.filter((line) => line.msg === 'backend data ready').at(-1);
        expect(ready?.client, `client ${mode}`).toBe(mode);
        expect(String(ready?.backend), `client ${mode}`).toMatch(
          new RegExp(`^${expectedBackendCommand(policy, mode)}:`),
        );
      }
    });
  }

  it('falls back from EPSV to PASV and from EPRT to PORT when the backend does not offer them', async () => {
    const old = await startFtpBackend('proftpd', {
      name: 'no-extended',
      extraConfig: '<Limit EPSV EPRT>\n  DenyAll\n</Limit>\n',
    });
    try {
      await writeHomeFile(old, 'hello.txt', HELLO);
      for (const [policy, refused, used] of [
        ['passive', 'EPSV', 'PASV'],
        ['active', 'EPRT', 'PORT'],
      ] as const) {
        const proxy = await proxyWith({ backends: [old.url], poolSettings: { dataTransferPolicy: policy } });
        const local = join(tmpdir(), `ftpx-fallback-${policy}-${Date.now()}.txt`);
        const { result } = await pythonFtp(
          [
            { op: 'login' },
            { op: 'retr', path: 'hello.txt', local },
            { op: 'retr', path: 'hello.txt', local },
          ],
          { host: '127.0.0.1', port: proxy.port, user: old.user, password: old.password },
        );
        expect(result.results[2]?.error).toBeUndefined();
        expect(await readFile(local, 'utf8')).toBe(HELLO);
        const ready = proxy.logs.filter((line) => line.msg === 'backend data ready');
        expect(ready.map((line) => String(line.backend).split(':')[0])).toEqual([used, used]);
        // ProFTPD leaves commands a <Limit> denies out of its FEAT, so the proxy never even asks; a
        // backend that lists them and refuses is asked once per session.
        const refusals = proxy.logs.filter((line) =>
          String(line.msg).startsWith(`backend refused ${refused}`),
        );
        expect(refusals.length).toBeLessThanOrEqual(1);
      }
    } finally {
      await old.stop();
    }
  });

  it('refuses PORT/EPRT to another host or a privileged port, while an honest session goes on', async () => {
    const proxy = await proxyWith();
    const honest = download(proxy, 'PORT');
    const attacker = await rawLogin(proxy.port, backend);
    expect(await attacker.command(`PORT ${portArg('127.0.0.2', 40000)}`)).toBe('500 Illegal PORT command');
    expect(await attacker.command('EPRT |1|127.0.0.2|40000|')).toBe('500 Illegal EPRT command');
    expect(await attacker.command(`PORT ${portArg('127.0.0.1', 25)}`)).toBe('500 Illegal PORT command');
    expect(await attacker.command('EPRT |2|::1|40000|')).toBe('500 Illegal EPRT command');
    expect(await attacker.command('EPRT |3|x|1|')).toMatch(/^522/);
    expect(await attacker.command('PORT 1,2,3')).toBe('501 Illegal PORT command');
    expect(await attacker.command('RETR hello.txt')).toMatch(/^425/);
    attacker.destroy();
    expect(await honest).toBe(HELLO);
    expect(
      proxy.logs.filter((line) => line.msg === 'refused active data address (FTP bounce protection)'),
    ).toHaveLength(4);
  });

  it('AllowForeignAddress lets PORT name a listed network, never a privileged port', async () => {
    const proxy = await proxyWith({ listener: { allowForeignAddress: ['127.0.0.2/32'] } });
    const target = await listenOn('127.0.0.2');
    try {
      const session = await rawLogin(proxy.port, backend);
      expect(await session.command(`PORT ${portArg('127.0.0.2', target.port)}`)).toMatch(/^200/);
      session.write('RETR hello.txt\r\n');
      expect(await session.reply()).toMatch(/^150/);
      const data = await target.received;
      const chunks: Buffer[] = [];
      for await (const chunk of data) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks).toString()).toBe(HELLO);
      expect(await session.reply()).toMatch(/^226/);
      expect(await session.command(`PORT ${portArg('127.0.0.3', target.port)}`)).toBe(
        '500 Illegal PORT command',
      );
      expect(await session.command(`PORT ${portArg('127.0.0.2', 1000)}`)).toBe('500 Illegal PORT command');
      session.destroy();
    } finally {
      target.server.close();
    }
  });

  it('refuses a passive data connection from another host, and the real client still gets its data', async () => {
    const proxy = await proxyWith();
    const session = await rawLogin(proxy.port, backend);
    const pasv = await session.command('PASV');
    const match = /\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/.exec(pasv ?? '');
    const port = Number(match?.[5]) * 256 + Number(match?.[6]);
    const thief = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
    await new Promise((resolve) => thief.once('close', resolve).once('error', resolve));
    const honest = connect({ host: '127.0.0.1', port });
    const received: Buffer[] = [];
    honest.on('data', (chunk: Buffer) => received.push(chunk));
    const closed = new Promise((resolve) => honest.once('close', resolve));
    expect(await session.command('RETR hello.txt')).toMatch(/^150/);
    expect(await session.reply()).toMatch(/^226/);
    await closed;
    expect(Buffer.concat(received).toString()).toBe(HELLO);
    expect(proxy.logs.some((line) => line.msg === 'refused data connection from a foreign address')).toBe(
      true,
    );
    session.destroy();
  });

  it('refuses a backend 227 naming another host, unless told to allow or ignore it', async () => {
    const natted = await startFtpBackend('proftpd', { name: 'natted', passiveAddress: '127.0.0.9' });
    try {
      await writeHomeFile(natted, 'hello.txt', HELLO);
      const run = async (foreignDataAddress?: string) => {
        const proxy = await proxyWith({
          backends: [natted.url],
          poolSettings: { dataTransferPolicy: 'PASV', ...(foreignDataAddress ? { foreignDataAddress } : {}) },
        });
        return curl([`ftp://${natted.user}:${natted.password}@127.0.0.1:${proxy.port}/hello.txt`]);
      };
      const refused = await run();
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/425/);
      const ignored = await run('ignore');
      expect(ignored.stdout.toString()).toBe(HELLO);
    } finally {
      await natted.stop();
    }
  });

  it('hands out PassivePorts only, one per session, and says so when the range is used up', async () => {
    // Below the kernel's ephemeral range (32768+), where client sockets of other suites could hold them.
    const base = 26000 + Math.floor(Math.random() * 4000);
    const proxy = await proxyWith({ listener: { passivePorts: { min: base, max: base + 1 } } });
    const sessions = await Promise.all([0, 1, 2].map(() => rawLogin(proxy.port, backend)));
    const replies = [];
    for (const session of sessions) replies.push(await session.command('EPSV'));
    const ports = replies.slice(0, 2).map((reply) => Number(/\|\|\|(\d+)\|/.exec(reply ?? '')?.[1]));
    expect(ports.sort()).toEqual([base, base + 1]);
    expect(replies[2]).toMatch(/^425 No free passive port/);
    // A port comes back to the range once its transfer is over.
    sessions[0]?.destroy();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await sessions[2]?.command('EPSV')).toMatch(/^229/);
    for (const session of sessions) session.destroy();
  });

  it('UseDirectDataTransfers lets client and backend connect directly; ShowFeatures relays FEAT as is', async () => {
    const proxy = await proxyWith({ poolSettings: { directDataTransfers: true, showFeatures: true } });
    expect(await download(proxy, 'PASV')).toBe(HELLO);
    expect(await download(proxy, 'PORT')).toBe(HELLO);
    expect(proxy.logs.some((line) => line.msg === 'transfer completed')).toBe(false);
    const direct = await rawLogin(backend.port, backend);
    const through = await rawLogin(proxy.port, backend);
    expect(await through.command('FEAT')).toBe(await direct.command('FEAT'));
    direct.destroy();
    through.destroy();
  });

  it('MasqueradeAddress is what 227 replies carry', async () => {
    const proxy = await proxyWith({ listener: { masqueradeAddress: '192.0.2.7' } });
    const session = await rawLogin(proxy.port, backend);
    expect(await session.command('PASV')).toMatch(/^227 .*\(192,0,2,7,\d+,\d+\)/);
    session.destroy();
    // ftplib ignores the 227 address by default and still transfers.
    expect(await download(proxy, 'PASV')).toBe(HELLO);
  });
});

describe('IPv6 and mixed address families', () => {
  let v4: FtpBackend;
  let v6: FtpBackend;
  const proxies: TestProxy[] = [];

  beforeAll(async () => {
    [v4, v6] = await Promise.all([
      startFtpBackend('proftpd', { name: 'family-v4' }),
      startFtpBackend('proftpd', { name: 'family-v6', host: '::1' }),
    ]);
    for (const backend of [v4, v6]) await writeHomeFile(backend, 'hello.txt', HELLO);
  });

  afterAll(async () => {
    await Promise.all(proxies.map((proxy) => proxy.close()));
    await Promise.all([v4?.stop(), v6?.stop()]);
  });

  const transfer = async (proxy: TestProxy, backend: FtpBackend, active: boolean) => {
    const local = join(tmpdir(), `ftpx-v6-${Date.now()}-${Math.random()}.txt`);
    const probe = proxy.host === '::1' ? [{ op: 'raw' as const, command: 'PASV' }] : [];
    const { result } = await pythonFtp(
      [{ op: 'login' }, { op: 'retr', path: 'hello.txt', local }, ...probe],
      { host: proxy.host, port: proxy.port, user: backend.user, password: backend.password, active },
    );
    expect(result.results[1]?.error).toBeUndefined();
    expect(await readFile(local, 'utf8')).toBe(HELLO);
    return result;
  };

  it('bridges an IPv6 client to an IPv4 backend (EPSV and EPRT in front, PASV and PORT behind)', async () => {
    for (const policy of ['PASV', 'PORT'] as const) {
      const proxy = await startTestProxy({
        backends: [v4.url],
        address: '::1',
        poolSettings: { dataTransferPolicy: policy },
      });
      proxies.push(proxy);
      for (const active of [false, true]) {
        const result = await transfer(proxy, v4, active);
        // PASV cannot name an IPv6 address.
        expect(result.results[2]?.error).toMatch(/^501/);
        const ready = proxy.logs.filter((line) => line.msg === 'backend data ready').at(-1);
        expect(ready?.client).toBe(active ? 'EPRT' : 'EPSV');
        expect(String(ready?.backend)).toMatch(new RegExp(`^${policy}:`));
      }
    }
  });

  it('bridges an IPv4 client to an IPv6 backend (PASV and PORT in front, EPSV and EPRT behind)', async () => {
    for (const policy of ['PASV', 'PORT'] as const) {
      const proxy = await startTestProxy({
        backends: [v6.url],
        poolSettings: { dataTransferPolicy: policy },
      });
      proxies.push(proxy);
      for (const active of [false, true]) {
        await transfer(proxy, v6, active);
        const ready = proxy.logs.filter((line) => line.msg === 'backend data ready').at(-1);
        expect(ready?.client).toBe(active ? 'PORT' : 'PASV');
        // PASV and PORT are upgraded for an IPv6 backend.
        expect(String(ready?.backend)).toMatch(new RegExp(`^${policy === 'PASV' ? 'EPSV' : 'EPRT'}:`));
      }
    }
  });

  it('serves curl over IPv6 end to end', async () => {
    const proxy = await startTestProxy({ backends: [v6.url], address: '::1' });
    proxies.push(proxy);
    const body = await curl(['-g', `ftp://${v6.user}:${v6.password}@[::1]:${proxy.port}/hello.txt`]);
    expect(body.stdout.toString()).toBe(HELLO);
  });
});
