import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../../support/ftp-backends.js';
import { freePort } from '../../support/ports.js';
import { type ProftpdSftp, startProftpdSftp } from '../../support/proftpd-sftp.js';
import { startProxyProcess } from '../../support/proxy-process.js';
import { pythonFtp } from '../../support/python-ftp.js';
import { runCommand } from '../../support/run-command.js';
import { sftpBatch } from '../../support/ssh-clients.js';
import { makeKeyPair } from '../../support/sshd.js';
import { createTestCa, type TestCa } from '../../support/test-ca.js';

/**
 * mod_proxy's trace channels through real sessions: `ftpx serve` with `log.traces` (YAML) or `Trace`
 * (proftpd.conf), a TraceLog file, and ftplib / OpenSSH sftp through ftpx to ProFTPD (mod_tls,
 * mod_sftp). Each event is the one mod_proxy traces on that channel at that level
 * (https://github.com/Castaglia/proftpd-mod_proxy, lib/proxy/**.c): it shows with the channel at
 * its level, and not with the channel one level below.
 */
interface Event {
  channel: string;
  level: number;
  msg: RegExp;
  /** The sessions that produce it: FTP (reverse, forward, FTPS listener) or SSH. */
  from: 'ftp' | 'ssh';
}

const EVENTS: Event[] = [
  { channel: 'proxy', level: 17, msg: /^connecting to backend server for passive data transfer for RETR$/ },
  {
    channel: 'proxy.conn',
    level: 5,
    msg: /^successfully connected to 127\.0\.0\.1#\d+ from 127\.0\.0\.1#\d+$/,
  },
  { channel: 'proxy.conn', level: 12, msg: /^connecting to backend address 127\.0\.0\.1#\d+$/ },
  {
    channel: 'proxy.reverse',
    level: 8,
    msg: /^connected to backend 'ftps?:\/\/127\.0\.0\.1:\d+' in \d+ ms$/,
  },
  {
    channel: 'proxy.uri',
    level: 17,
    msg: /^parsed host '127\.0\.0\.1' out of URI 'ftps?:\/\/127\.0\.0\.1:\d+'$/,
  },
  { channel: 'proxy.forward', level: 1, msg: /^error handling URI '127\.0\.0\.1:\d+': / },
  { channel: 'proxy.dns', level: 17, msg: /^resolved '127\.0\.0\.1' to 127\.0\.0\.1$/ },
  {
    channel: 'proxy.ftp.ctrl',
    level: 9,
    msg: /^proxied command 'PASS \(hidden\)' from frontend to backend$/,
  },
  { channel: 'proxy.ftp.ctrl', level: 9, msg: /^received '230 .*' response from backend to frontend$/ },
  { channel: 'proxy.ftp.ctrl', level: 9, msg: /^received command: PASS \(hidden\)$/ },
  { channel: 'proxy.ftp.sess', level: 9, msg: /^backend server does not support AUTH TLS$/ },
  {
    channel: 'proxy.ftp.xfer',
    level: 12,
    msg: /^obtained address 127\.0\.0\.1#\d+ for passive data transfer$/,
  },
  { channel: 'proxy.ftp.msg', level: 9, msg: /^parsed '22[79] .*' into 127\.0\.0\.1#\d+$/ },
  { channel: 'proxy.ftp.conn', level: 9, msg: /^connected to server '127\.0\.0\.1#\d+'$/ },
  { channel: 'proxy.ftp.data', level: 15, msg: /^received \d+ bytes of data \(whole transfer\), read EOF$/ },
  { channel: 'proxy.ftp.dirlist', level: 9, msg: /^translating LIST into MLSD for ''$/ },
  { channel: 'proxy.tls', level: 9, msg: /^skipping sending of IP address SNI '127\.0\.0\.1'$/ },
  { channel: 'proxy.tls', level: 9, msg: /^negotiated NEW SSL\/TLS session$/ },
  { channel: 'proxy.tls', level: 9, msg: /^RESUMED SSL\/TLS session: TLSv1\.[23] using cipher \S+$/ },
  {
    channel: 'proxy.tls',
    level: 12,
    msg: /^found cached SSL session using key 'ftps:\/\/127\.0\.0\.1:\d+'$/,
  },
  { channel: 'proxy.tls', level: 19, msg: /^caching SSL session using key 'ftps:\/\/127\.0\.0\.1:\d+'$/ },
  { channel: 'timing', level: 4, msg: /^TLS handshake duration: \d+ ms$/ },
  { channel: 'tls.shmcache', level: 9, msg: /^adding session to shared session cache \(store\)$/ },
  { channel: 'tls.shmcache', level: 9, msg: /^getting session from shared session cache \(store\)$/ },
  { channel: 'proxy.ssh.interop', level: 5, msg: /^handling connection to SSH2 server 'SSH-2\.0-/ },
  { channel: 'proxy.ssh.kex', level: 8, msg: /^client-sent key exchange algorithms: / },
  { channel: 'proxy.ssh.kex', level: 9, msg: /^sending KEXINIT message to server$/ },
  { channel: 'proxy.ssh.kex', level: 20, msg: /^session key exchange algorithm: \S+$/ },
  { channel: 'proxy.ssh.cipher', level: 19, msg: /^setting key for cipher \S+ \(client-to-server\)$/ },
  { channel: 'proxy.ssh.mac', level: 19, msg: /^setting key for MAC \S+ \(server-to-client\)$/ },
  { channel: 'proxy.ssh.compress', level: 20, msg: /^using none compression \(client-to-server\)$/ },
  { channel: 'proxy.ssh.service', level: 9, msg: /^sent SERVICE_REQUEST packet$/ },
  { channel: 'proxy.ssh.auth', level: 9, msg: /^writing USER_AUTH_REQUEST password message to server$/ },
  { channel: 'proxy.ssh.auth', level: 9, msg: /^received USER_AUTH_SUCCESS message from server$/ },
  { channel: 'proxy.ssh.packet', level: 3, msg: /^sent \S+ packet$/ },
  { channel: 'timing', level: 4, msg: /^SSH key exchange duration: \d+ ms$/ },
].map(
  (event) =>
    ({
      ...event,
      from: event.channel.startsWith('proxy.ssh') || /SSH/.test(event.msg.source) ? 'ssh' : 'ftp',
    }) as Event,
);

/** Each channel at the level its events need (`+ 0`), or one below (`- 1`). */
function levels(events: readonly Event[], shift: 0 | -1): Record<string, number> {
  const byChannel: Record<string, number> = {};
  for (const event of events) {
    const current = byChannel[event.channel];
    // At level: the highest any of its events needs; below: one under the lowest.
    byChannel[event.channel] =
      shift === 0
        ? Math.max(current ?? 0, event.level)
        : Math.min(current ?? Number.POSITIVE_INFINITY, event.level - 1);
  }
  return byChannel;
}

/** The configured level of a channel, as ProFTPD resolves it (parents, then `*`). */
function configuredLevel(traces: Record<string, number>, channel: string): number {
  for (let name = channel; ; name = name.slice(0, name.lastIndexOf('.'))) {
    const level = traces[name];
    if (level !== undefined) return level;
    if (!name.includes('.')) return traces['*'] ?? 0;
  }
}

interface TraceLine {
  channel: string;
  trace: number;
  msg: string;
}

describe('trace channels (Trace / log.traces) in real sessions', () => {
  let ca: TestCa;
  let ftps: FtpBackend;
  let plain: FtpBackend;
  let sftp: ProftpdSftp;
  let dir: string;
  let hostKey: string;

  beforeAll(async () => {
    ca = await createTestCa();
    dir = await mkdtemp(join(tmpdir(), 'ftpx-traces-'));
    hostKey = join(dir, 'host');
    [ftps, plain, sftp] = await Promise.all([
      startFtpBackend('proftpd', {
        name: 'trace-ftps',
        tls: { cert: ca.server.cert, key: ca.server.key, maxProtocol: 'TLSv1.2' },
      }),
      startFtpBackend('proftpd', { name: 'trace-plain' }),
      startProftpdSftp(),
      makeKeyPair(hostKey, 'ed25519'),
    ]);
    await writeHomeFile(ftps, 'file.txt', 'traced\n');
  });

  afterAll(async () => {
    await Promise.all([ftps?.stop(), plain?.stop(), sftp?.stop()]);
    await ca?.remove();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Runs the FTP (and SSH) sessions against a proxy listening from `port` on, returns the TraceLog. */
  async function sessions(ports: Ports, traceFile: string, withSsh: boolean): Promise<TraceLine[]> {
    const local = join(dir, 'got.txt');
    const ftpOps = [
      { op: 'login' as const },
      { op: 'mlsd' as const },
      { op: 'retr' as const, path: 'file.txt', local },
    ];
    // Reverse to the FTPS backend, twice: the second login resumes the cached backend session.
    for (let round = 0; round < 2; round++) {
      const run = await pythonFtp(ftpOps, {
        host: '127.0.0.1',
        port: ports.reverse,
        user: ftps.user,
        password: ftps.password,
        epsv: true,
      });
      expect(run.result.results.map((result) => result.error)).toEqual([undefined, undefined, undefined]);
    }
    expect(await readFile(local, 'utf8')).toBe('traced\n');
    // FTPS client on a listener with the shared session cache, to a backend refusing AUTH TLS.
    const secured = await pythonFtp([{ op: 'login' }, { op: 'list' }], {
      host: '127.0.0.1',
      port: ports.ftps,
      user: plain.user,
      password: plain.password,
      tls: 'explicit',
      caFile: ca.caCert,
    });
    expect(secured.result.results.map((result) => `${result.op} ${result.error ?? 'ok'}`)).toEqual([
      'auth ok',
      'prot ok',
      'login ok',
      'list ok',
    ]);
    // A TLS 1.2 client without tickets: its session goes into the shared session cache by ID.
    const sClient = await runCommand(
      'openssl',
      ['s_client', '-connect', `127.0.0.1:${ports.ftps}`, '-starttls', 'ftp', '-tls1_2', '-no_ticket'],
      { input: 'QUIT\r\n', timeoutMs: 20_000 },
    );
    expect(sClient.stdout.toString()).toMatch(/^New, TLSv1\.2/m);
    // Forward to a closed loopback port: the connect fails as mod_proxy's "error handling URI".
    const forward = await pythonFtp([{ op: 'login' }], {
      host: '127.0.0.1',
      port: ports.forward,
      user: `${plain.user}@127.0.0.1:${ports.closed}`,
      password: plain.password,
    });
    expect(forward.result.results[0]?.error).toMatch(/^530 /);
    if (withSsh) {
      const result = await sftpBatch(
        { host: '127.0.0.1', port: ports.ssh, user: sftp.user },
        { password: sftp.password },
        ['pwd'],
      );
      expect(result.code).toBe(0);
    }
    return readTrace(traceFile);
  }

  async function readTrace(file: string): Promise<TraceLine[]> {
    // Trace lines are written as the events happen; the last session's may still be on their way.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const text = await readFile(file, 'utf8').catch(() => '');
    expect(text).not.toContain(ftps.password);
    expect(text).not.toContain(plain.password);
    expect(text).not.toContain(sftp.password);
    return text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as TraceLine);
  }

  interface Ports {
    reverse: number;
    ftps: number;
    forward: number;
    ssh: number;
    closed: number;
  }

  async function yamlProxy(traces: Record<string, number>, traceFile: string) {
    const ports: Ports = {
      reverse: await freePort(),
      ftps: await freePort(),
      forward: await freePort(),
      ssh: await freePort(),
      closed: await freePort(),
    };
    const config = {
      dataDir: join(dir, `data-${ports.reverse}`),
      log: { level: 'warn', traceFile, traces },
      tlsCache: { tickets: { enabled: false } },
      classes: [{ name: 'local', from: ['127.0.0.0/8'], forwardEnabled: true }],
      listeners: [
        { name: 'reverse', address: '127.0.0.1', port: ports.reverse, pool: 'ftps' },
        {
          name: 'ftps',
          address: '127.0.0.1',
          port: ports.ftps,
          pool: 'plain',
          tls: { certificates: [{ cert: ca.server.cert, key: ca.server.key }], protocols: ['TLSv1.2'] },
        },
        { name: 'forward', address: '127.0.0.1', port: ports.forward, pool: 'forward' },
        {
          name: 'ssh',
          address: '127.0.0.1',
          port: ports.ssh,
          pool: 'ssh',
          protocol: 'sftp',
          sftp: { hostKeys: [hostKey] },
        },
      ],
      pools: [
        { name: 'ftps', backends: [ftps.url], directoryListPolicy: 'LIST', tls: { caFile: ca.caCert } },
        { name: 'plain', backends: [plain.url], tls: { caFile: ca.caCert } },
        {
          name: 'forward',
          backends: [],
          role: 'forward',
          forward: { method: 'user@host' },
          connectTimeout: '2s',
          retryCount: 1,
          allowDestinationNetworks: ['127.0.0.0/8'],
        },
        { name: 'ssh', backends: [sftp.url] },
      ],
    };
    const file = join(dir, `ftpx-${ports.reverse}.yaml`);
    // JSON is YAML.
    await writeFile(file, JSON.stringify(config, null, 2));
    const proxy = await startProxyProcess({ args: ['serve', '--config', file], port: ports.ssh });
    return { proxy, ports };
  }

  const has = (lines: readonly TraceLine[], event: Event) =>
    lines.some(
      (line) => line.channel === event.channel && line.trace === event.level && event.msg.test(line.msg),
    );

  it('YAML log.traces at each event’s level: every event shows, no line above its channel’s level', async () => {
    const traces = levels(EVENTS, 0);
    const traceFile = join(dir, 'at-level.log');
    const { proxy, ports } = await yamlProxy(traces, traceFile);
    try {
      const lines = await sessions(ports, traceFile, true);
      expect(
        EVENTS.filter((event) => !has(lines, event)).map((e) => `${e.channel}:${e.level} ${e.msg}`),
      ).toEqual([]);
      expect(lines.filter((line) => line.trace > configuredLevel(traces, line.channel))).toEqual([]);
    } finally {
      await proxy.stop();
    }
  });

  it('YAML log.traces one level below: none of those events shows', async () => {
    const traces = levels(EVENTS, -1);
    const traceFile = join(dir, 'below.log');
    const { proxy, ports } = await yamlProxy(traces, traceFile);
    try {
      const lines = await sessions(ports, traceFile, true);
      expect(
        EVENTS.filter((event) => has(lines, event)).map((e) => `${e.channel}:${e.level} ${e.msg}`),
      ).toEqual([]);
      expect(lines.filter((line) => line.trace > configuredLevel(traces, line.channel))).toEqual([]);
    } finally {
      await proxy.stop();
    }
  });

  it('proftpd.conf Trace: proxy.ftp.ctrl:9 shows commands and replies (PASS masked), proxy.ftp.ctrl:1 does not', async () => {
    for (const level of [9, 1]) {
      const port = await freePort();
      const traceFile = join(dir, `conf-${level}.log`);
      const conf = join(dir, `proftpd-${level}.conf`);
      await writeFile(
        conf,
        [
          'ServerType standalone',
          `Port ${port}`,
          'DefaultAddress 127.0.0.1',
          `TraceLog ${traceFile}`,
          `Trace proxy.ftp.ctrl:${level} proxy.tls:12 proxy.conn:5`,
          '<IfModule mod_proxy.c>',
          '  ProxyEngine on',
          `  ProxyTables ${join(dir, `tables-${level}`)}`,
          '  ProxyRole reverse',
          `  ProxyReverseServers ${ftps.url}`,
          '  ProxyTLSEngine auto',
          `  ProxyTLSCACertificateFile ${ca.caCert}`,
          '</IfModule>',
          '',
        ].join('\n'),
      );
      const proxy = await startProxyProcess({ args: ['serve', '--proftpd-conf', conf], port });
      try {
        const run = await pythonFtp([{ op: 'login' }, { op: 'pwd' }], {
          host: '127.0.0.1',
          port,
          user: ftps.user,
          password: ftps.password,
        });
        expect(run.result.results[0]?.reply).toMatch(/^230 /);
        const lines = await readTrace(traceFile);
        const ctrl = lines.filter((line) => line.channel === 'proxy.ftp.ctrl').map((line) => line.msg);
        if (level === 9) {
          expect(ctrl).toContain(`proxied command 'USER ${ftps.user}' from frontend to backend`);
          expect(ctrl).toContain("proxied command 'PASS (hidden)' from frontend to backend");
          expect(ctrl).toContain("proxied command 'PWD' from frontend to backend");
          expect(ctrl.some((msg) => /^received '257 .*' response from backend to frontend$/.test(msg))).toBe(
            true,
          );
        } else {
          expect(ctrl).toEqual([]);
        }
        // The other channels of the same Trace directive, at their levels.
        expect(lines.some((line) => line.channel === 'proxy.conn' && line.trace === 5)).toBe(true);
        expect(lines.some((line) => line.channel === 'proxy.tls' && line.trace === 9)).toBe(true);
        expect(
          lines.filter(
            (line) => line.trace > ({ 'proxy.ftp.ctrl': level, 'proxy.tls': 12 }[line.channel] ?? 5),
          ),
        ).toEqual([]);
      } finally {
        await proxy.stop();
      }
    }
  });
});
