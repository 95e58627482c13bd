import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer, type TestDnsServer } from '../../support/dns-server.js';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../../support/ftp-backends.js';
import { curl } from '../../support/ftp-clients.js';
import { freePort } from '../../support/ports.js';
import { startTestProxy, type TestProxy } from '../../support/proxy.js';
import { startProxyProcess } from '../../support/proxy-process.js';

/**
 * `+srv` / `+txt` backends through real sessions: a DNS server in this process (records changed while
 * the proxy runs), real pure-ftpd backends (each serves a whoami.txt naming itself), curl as the
 * client, and the edge worker with its embedded control plane resolving through that DNS server.
 */
describe('DNS discovery', () => {
  let dns: TestDnsServer;
  const backends: FtpBackend[] = [];
  const proxies: TestProxy[] = [];
  let a: FtpBackend;
  let b: FtpBackend;
  let c: FtpBackend;
  let closedPort: number;
  // The user name only: clients send the backends' shared password (a URL password needs proxyAuth).
  const login = () => a.user;

  beforeAll(async () => {
    dns = await startDnsServer();
    backends.push(
      ...(await Promise.all(
        ['a', 'b', 'c'].map((name) => startFtpBackend('pure-ftpd', { name: `dns-${name}` })),
      )),
    );
    [a, b, c] = backends as [FtpBackend, FtpBackend, FtpBackend];
    for (const backend of backends) await writeHomeFile(backend, 'whoami.txt', backend.name);
    closedPort = await freePort('127.0.0.1');
    for (const [name, address] of [
      ['a.hosts.test', '127.0.0.1'],
      ['b.hosts.test', '127.0.0.1'],
      ['c.hosts.test', '127.0.0.1'],
      ['dead.hosts.test', '127.0.0.1'],
    ] as const) {
      dns.set(name, 'A', [{ ttl: 300, data: address }]);
    }
  });

  afterAll(async () => {
    await Promise.all(proxies.map((proxy) => proxy.close()));
    await Promise.all(backends.map((backend) => backend.stop()));
    await dns?.close();
  });

  const proxyWith = async (list: string[], poolSettings: Record<string, unknown> = {}, dnsSettings = {}) => {
    const proxy = await startTestProxy({
      backends: list,
      // Discovered targets are on loopback, which the destination policy refuses unless told.
      poolSettings: { allowDestinationNetworks: ['127.0.0.0/8'], ...poolSettings },
      settings: { dns: { servers: [dns.address], refreshInterval: '500ms', ...dnsSettings } },
    });
    proxies.push(proxy);
    return proxy;
  };

  const whoServes = async (proxy: TestProxy) => {
    const result = await curl([`ftp://anyone:${a.password}@127.0.0.1:${proxy.port}/whoami.txt`]);
    return result.code === 0
      ? result.stdout.toString('utf8')
      : `curl exit ${result.code}: ${result.stderr.trim()}`;
  };

  const srv = (target: string, port: number, priority = 10, weight = 10) => ({
    ttl: 2,
    data: { priority, weight, port, target },
  });

  it('a backend added to the SRV records serves new sessions within the TTL, without a restart', async () => {
    const name = '_ftp._tcp.grow.test';
    dns.set(name, 'SRV', [srv('a.hosts.test', a.port)]);
    const proxy = await proxyWith([`ftp+srv://${login()}@${name}`]);
    for (let i = 0; i < 3; i++) expect(await whoServes(proxy)).toBe(a.name);
    dns.set(name, 'SRV', [srv('a.hosts.test', a.port), srv('b.hosts.test', b.port)]);
    const changed = Date.now();
    let seenB: number | undefined;
    while (Date.now() - changed < 6000) {
      if ((await whoServes(proxy)) === b.name) {
        seenB = Date.now() - changed;
        break;
      }
    }
    // TTL 2 s: the old answer may be used until it expires, not longer (plus a session's duration).
    expect(seenB).toBeDefined();
    expect(seenB as number).toBeLessThan(2000 + 1500);
    const served = new Set<string>();
    for (let i = 0; i < 4; i++) served.add(await whoServes(proxy));
    expect(served).toEqual(new Set([a.name, b.name]));
    // The URL's password reached the backends and never the log.
    expect(proxy.logText()).not.toContain(a.password);
    const connected = proxy.logs.filter((line) => line.msg === 'connected to backend').at(-1);
    expect(connected).toMatchObject({ source: `dns:ftp+srv://${name}:21 (config)` });
  });

  it('RFC 2782: the lowest priority serves; the next priority only when all of it fails', async () => {
    const name = '_ftp._tcp.prio.test';
    dns.set(name, 'SRV', [srv('a.hosts.test', a.port, 10), srv('b.hosts.test', b.port, 20)]);
    const proxy = await proxyWith([`ftp+srv://${login()}@${name}`], { retryCount: 3 });
    for (let i = 0; i < 4; i++) expect(await whoServes(proxy)).toBe(a.name);
    // The preferred target now answers nowhere: its connect fails and the retry takes priority 20.
    dns.set(name, 'SRV', [srv('dead.hosts.test', closedPort, 10), srv('b.hosts.test', b.port, 20)]);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    expect(await whoServes(proxy)).toBe(b.name);
    expect(proxy.logs).toContainEqual(
      expect.objectContaining({ msg: 'backend connect failed', backend: `ftp://127.0.0.1:${closedPort}` }),
    );
  });

  it('an SRV target "." means no service: the listed backends serve, and alone it refuses', async () => {
    const name = '_ftp._tcp.none.test';
    dns.set(name, 'SRV', [srv('.', 0)]);
    const proxy = await proxyWith([`ftp+srv://${login()}@${name}`, `ftp://${login()}@127.0.0.1:${c.port}`]);
    for (let i = 0; i < 3; i++) expect(await whoServes(proxy)).toBe(c.name);
    const alone = await proxyWith([`ftp+srv://${login()}@${name}`]);
    expect(await whoServes(alone)).toMatch(/^curl exit/);
    expect(alone.logText()).toContain('SRV target \\".\\" (no service)');
  });

  it('+txt: the first TXT record that is a plain URL names the backend', async () => {
    dns.set('config.txt.test', 'TXT', [
      { ttl: 60, data: 'v=spf1 -all' },
      { ttl: 60, data: 'ftp+srv://_ftp._tcp.loop.test' },
      { ttl: 60, data: `ftp://c.hosts.test:${c.port}` },
      { ttl: 60, data: `ftp://a.hosts.test:${a.port}` },
    ]);
    const proxy = await proxyWith([`ftp+txt://${login()}@config.txt.test`]);
    for (let i = 0; i < 3; i++) expect(await whoServes(proxy)).toBe(c.name);
  });

  it('no SRV record: falls back to the host A/AAAA records on the URL port, as mod_proxy does', async () => {
    dns.set('plain.hosts.test', 'A', [{ ttl: 60, data: '127.0.0.1' }]);
    const proxy = await proxyWith([`ftp+srv://${login()}@plain.hosts.test:${b.port}`]);
    expect(await whoServes(proxy)).toBe(b.name);
  });

  it('a name that does not exist refuses the login and logs why; DNS asked over TCP when truncated', async () => {
    const proxy = await proxyWith([`ftp+srv://${login()}@_ftp._tcp.missing.test`]);
    expect(await whoServes(proxy)).toMatch(/^curl exit/);
    expect(proxy.logText()).toContain('_ftp._tcp.missing.test does not exist (NXDOMAIN)');
    dns.truncateUdp = true;
    try {
      dns.set('_ftp._tcp.tcp.test', 'SRV', [srv('a.hosts.test', a.port)]);
      const overTcp = await proxyWith([`ftp+srv://${login()}@_ftp._tcp.tcp.test`]);
      expect(await whoServes(overTcp)).toBe(a.name);
    } finally {
      dns.truncateUdp = false;
    }
  });

  it('the CLI: `ftpx serve --dns-server` resolves through the given server and sees a change within the TTL', async () => {
    const name = '_ftp._tcp.cli.test';
    dns.set(name, 'SRV', [srv('a.hosts.test', a.port)]);
    const dir = await mkdtemp(join(tmpdir(), 'ftpx-dns-cli-'));
    const port = await freePort('127.0.0.1');
    const config = join(dir, 'ftpx.yaml');
    await writeFile(
      config,
      [
        `dataDir: ${join(dir, 'data')}`,
        'log: { level: info }',
        'listeners:',
        `  - { address: 127.0.0.1, port: ${port}, pool: main }`,
        'pools:',
        '  - name: main',
        `    backends: ['ftp+srv://${login()}@${name}']`,
        // The discovered targets are on loopback, which the destination policy refuses unless told.
        "    allowDestinationNetworks: ['127.0.0.0/8']",
        '',
      ].join('\n'),
    );
    const cli = await startProxyProcess({
      args: ['serve', '--config', config, '--dns-server', dns.address],
      port,
    });
    try {
      const fetch = async () => {
        const result = await curl([`ftp://anyone:${a.password}@127.0.0.1:${port}/whoami.txt`]);
        return result.code === 0 ? result.stdout.toString('utf8') : `curl exit ${result.code}`;
      };
      expect(await fetch()).toBe(a.name);
      dns.set(name, 'SRV', [srv('c.hosts.test', c.port)]);
      const changed = Date.now();
      let served = '';
      while (served !== c.name && Date.now() - changed < 6000) served = await fetch();
      expect(served).toBe(c.name);
      expect(Date.now() - changed).toBeLessThan(2000 + 1500);
      expect(cli.stderr()).not.toContain(a.password);
    } finally {
      await cli.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
