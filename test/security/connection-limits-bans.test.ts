import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CountingRelay, startCountingRelay } from '../support/counting-relay.js';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../support/ftp-backends.js';
import { curl } from '../support/ftp-clients.js';
import { freePort } from '../support/ports.js';
import { cliPath, type ProxyProcess, startProxyProcess, waitForStart } from '../support/proxy-process.js';
import { RawFtp } from '../support/raw-ftp.js';

const BOOTSTRAP = 'limits-bans-bootstrap-token-0123456789';
const EDGE_TOKEN = 'limits-bans-edge-token-0123456789abcdef';
const POLL_MS = 500;

interface Edge {
  name: string;
  process: ProxyProcess;
  limitsPort: number;
  preloginPort: number;
}

/** Runs the built `ftpx` with an admin token against the control plane. */
function ftpx(
  args: string[],
  apiUrl: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('FTPX_')));
    const child = spawn(process.execPath, [cliPath(), ...args], {
      env: { ...env, FTPX_API_URL: apiUrl, FTPX_API_TOKEN: BOOTSTRAP },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      stdout += text;
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The greeting (or refusal) a client from `source` gets, and whether the connection was then closed. */
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

/** Polls `check` every 100 ms for up to `ms`; the last result. */
async function within<T>(ms: number, check: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Connection limits and bans (docs/security.md) with real clients against two `ftpx serve`
 * processes sharing one control plane (`ftpx control-plane serve`, its store) over HTTP, in front of
 * a real ProFTPD, through a relay that counts the connections the backend accepts. Each attack
 * comes from its own loopback address; an honest curl download from 127.0.0.1 runs beside each.
 */
describe('connection limits and bans shared by two edge processes', () => {
  let dir: string;
  let backend: FtpBackend;
  let relay: CountingRelay;
  let cpUrl: string;
  let stopControlPlane: () => Promise<void>;
  const edges: Edge[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ftpx-limits-bans-'));
    backend = await startFtpBackend('proftpd', { name: 'limits-bans' });
    await writeHomeFile(backend, 'honest.txt', 'an honest download\n');
    relay = await startCountingRelay(backend);
    const cpPort = await freePort();
    const child = spawn(
      process.execPath,
      [cliPath(), 'control-plane', 'serve', '--listen', `127.0.0.1:${cpPort}`, '--data-dir', join(dir, 'cp')],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, FTPX_BOOTSTRAP_TOKEN: BOOTSTRAP, FTPX_EDGE_TOKEN: EDGE_TOKEN },
      },
    );
    let cpErr = '';
    child.stderr?.setEncoding('utf8').on('data', (text: string) => {
      cpErr += text;
    });
    await waitForStart(
      child,
      () => cpErr.includes(`listening on http://127.0.0.1:${cpPort}`),
      'control plane',
    );
    cpUrl = `http://127.0.0.1:${cpPort}`;
    stopControlPlane = async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    };
    for (const name of ['a', 'b']) {
      const limitsPort = await freePort();
      const preloginPort = await freePort();
      const config = join(dir, `${name}.yaml`);
      await writeFile(
        config,
        [
          `dataDir: ${join(dir, `data-${name}`)}`,
          'log: { level: info }',
          `controlPlane: { url: "${cpUrl}", token: ${EDGE_TOKEN} }`,
          'bans:',
          "  message: 'Banned: %a'",
          `  pollInterval: ${POLL_MS}ms`,
          '  rules:',
          '    - { event: MaxLoginAttempts, count: 1, window: 1m, duration: 1h }',
          'listeners:',
          `  - name: limits`,
          `    address: 127.0.0.1`,
          `    port: ${limitsPort}`,
          '    pool: main',
          '    connections:',
          '      maxConnectionsPerHost: 3',
          "      maxClientsPerHost: { max: 2, message: 'No more than %m sessions from your address.' }",
          `  - name: prelogin`,
          `    address: 127.0.0.1`,
          `    port: ${preloginPort}`,
          '    pool: main',
          '    connections: { maxUnauthenticatedPerHost: 2, maxInstances: 5 }',
          'pools:',
          '  - name: main',
          `    backends: [ftp://127.0.0.1:${relay.port}]`,
          '',
        ].join('\n'),
      );
      const process = await startProxyProcess({ args: ['serve', '--config', config], port: limitsPort });
      edges.push({ name, process, limitsPort, preloginPort });
    }
  }, 60_000);

  afterAll(async () => {
    await Promise.all(edges.map((edge) => edge.process.stop()));
    await stopControlPlane?.();
    await relay?.close();
    await backend?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const a = () => edges[0] as Edge;
  const b = () => edges[1] as Edge;

  /** An honest client from 127.0.0.1 logs in and downloads through `edge`. */
  const honest = async (edge: Edge) => {
    const run = await curl(
      [`ftp://${backend.user}:${backend.password}@127.0.0.1:${edge.limitsPort}/honest.txt`],
      { timeoutMs: 20_000 },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.toString('utf8')).toBe('an honest download\n');
  };

  it('MaxClientsPerHost counts logins on both processes; its message argument is the reply', async () => {
    const source = '127.0.0.11';
    const first = await RawFtp.open(a().limitsPort, '127.0.0.1', source);
    await first.login(backend.user, backend.password);
    const second = await RawFtp.open(b().limitsPort, '127.0.0.1', source);
    await second.login(backend.user, backend.password);
    const third = await RawFtp.open(a().limitsPort, '127.0.0.1', source);
    expect(await third.reply()).toMatch(/^220/);
    await third.command(`USER ${backend.user}`);
    expect(await third.command(`PASS ${backend.password}`)).toBe(
      '530 No more than 2 sessions from your address.',
    );
    expect(await third.closed()).toBe(true);
    await honest(a());
    await honest(b());
    // MaxConnectionsPerHost 3: two logged in, a third connection is let in, a fourth is not.
    const held = await RawFtp.open(b().limitsPort, '127.0.0.1', source);
    expect(await held.reply()).toMatch(/^220/);
    const before = relay.accepted();
    const refused = await firstReply(a().limitsPort, source);
    expect(refused).toEqual({
      reply: '530 Sorry, the maximum number of connections (3) for your host are already connected.',
      closed: true,
    });
    expect(relay.accepted()).toBe(before);
    for (const ftp of [first, second, held]) ftp.destroy();
    // The slots are given back: the host may connect again once the releases are in.
    const again = await within(
      5000,
      () => firstReply(a().limitsPort, source),
      (r) => r.reply?.startsWith('220') ?? false,
    );
    expect(again.reply).toMatch(/^220/);
  });

  it('caps connections not logged in per address (421) and MaxInstances per process (closed, no reply)', async () => {
    const source = '127.0.0.15';
    const waiting = [
      await RawFtp.open(a().preloginPort, '127.0.0.1', source),
      await RawFtp.open(a().preloginPort, '127.0.0.1', source),
    ];
    for (const ftp of waiting) expect(await ftp.reply()).toMatch(/^220/);
    const before = relay.accepted();
    expect(await firstReply(a().preloginPort, source)).toEqual({
      reply: '421 Too many connections waiting to log in; try again later.',
      closed: true,
    });
    expect(relay.accepted()).toBe(before);
    // The other process keeps its own pre-login count; a login frees the place at once.
    expect((await firstReply(b().preloginPort, source)).reply).toMatch(/^220/);
    await waiting[0]?.command(`USER ${backend.user}`);
    expect(await waiting[0]?.command(`PASS ${backend.password}`)).toMatch(/^230/);
    const freed = await RawFtp.open(a().preloginPort, '127.0.0.1', source);
    expect(await freed.reply()).toMatch(/^220/);
    // MaxInstances 5 on this process: 3 held above, two more from other addresses, the sixth is closed.
    const others = [
      await RawFtp.open(a().preloginPort, '127.0.0.1', '127.0.0.16'),
      await RawFtp.open(a().preloginPort, '127.0.0.1', '127.0.0.17'),
    ];
    for (const ftp of others) expect(await ftp.reply()).toMatch(/^220/);
    const beforeSixth = relay.accepted();
    expect(await firstReply(a().preloginPort, '127.0.0.18')).toEqual({ reply: undefined, closed: true });
    expect(relay.accepted()).toBe(beforeSixth);
    await honest(a());
    for (const ftp of [...waiting, freed, ...others]) ftp.destroy();
  });

  it('a ban added with ftpx bans refuses the client on both processes within seconds, and expires', async () => {
    const source = '127.0.0.13';
    const added = await ftpx(['bans', 'add', 'host', source, '--for', '15s', '--reason', 'test'], cpUrl);
    const bannedAt = Date.now();
    expect(added.code, added.stderr).toBe(0);
    const expires = /^banned host 127\.0\.0\.13 \(expires ([^)]+)\)/.exec(added.stdout)?.[1];
    expect(expires, added.stdout).toBeDefined();
    // The control plane stamps the expiry when it makes the ban, which may be well before the CLI exits.
    const expiresAt = Date.parse(expires as string);
    const banned = { reply: `530 Banned: ${source}`, closed: true };
    for (const edge of [a(), b()]) {
      const refused = await within(
        3000,
        () => firstReply(edge.limitsPort, source),
        (r) => r.reply === banned.reply,
      );
      expect(refused, edge.name).toEqual(banned);
    }
    // Each process polls the list every 500 ms: the ban was in force on both within 3 s.
    expect(Date.now() - bannedAt).toBeLessThan(3000);
    const before = relay.accepted();
    for (const edge of [a(), b()]) expect(await firstReply(edge.limitsPort, source)).toEqual(banned);
    expect(relay.accepted()).toBe(before);
    const listed = await ftpx(['bans', 'list', '--json'], cpUrl);
    expect(JSON.parse(listed.stdout).items).toContainEqual(
      expect.objectContaining({ kind: 'host', value: source, reason: 'test' }),
    );
    await honest(b());
    // The ban ends by itself 15 s after it was made.
    const after = await within(
      25_000,
      () => firstReply(b().limitsPort, source),
      (r) => r.reply?.startsWith('220') ?? false,
    );
    expect(after.reply).toMatch(/^220/);
    // Not before its expiry (each process polls the list every 500 ms).
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt - 1000);
  });

  it('ftpx bans remove lifts a ban on every process', async () => {
    const source = '127.0.0.19';
    expect((await ftpx(['bans', 'add', 'host', source], cpUrl)).code).toBe(0);
    const refused = await within(
      3000,
      () => firstReply(a().limitsPort, source),
      (r) => r.closed,
    );
    expect(refused.reply).toBe(`530 Banned: ${source}`);
    const removed = await ftpx(['bans', 'remove', 'host', source], cpUrl);
    expect(removed).toMatchObject({ code: 0, stdout: `lifted the ban of host ${source}\n` });
    expect((await ftpx(['bans', 'remove', 'host', source], cpUrl)).code).toBe(1);
    const back = await within(
      3000,
      () => firstReply(a().limitsPort, source),
      (r) => r.reply?.startsWith('220') ?? false,
    );
    expect(back.reply).toMatch(/^220/);
  });

  it('ftpx bans add host NETWORK refuses every address in it on both processes, and only those', async () => {
    const network = '127.0.1.0/24';
    const typo = await ftpx(['bans', 'add', 'host', '127.0.1.9/24'], cpUrl);
    expect(typo.code).not.toBe(0);
    expect(typo.stderr).toContain('did you mean "127.0.1.0/24"');
    const added = await ftpx(['bans', 'add', 'host', network, '--reason', 'network test'], cpUrl);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/^banned host 127\.0\.1\.0\/24 \(expires never\)/);
    for (const [edge, source] of [
      [a(), '127.0.1.2'],
      [b(), '127.0.1.250'],
    ] as const) {
      const refused = await within(
        3000,
        () => firstReply(edge.limitsPort, source),
        (r) => r.closed,
      );
      expect(refused, edge.name).toEqual({ reply: `530 Banned: ${source}`, closed: true });
    }
    const before = relay.accepted();
    expect(await firstReply(a().limitsPort, '127.0.1.77')).toEqual({
      reply: '530 Banned: 127.0.1.77',
      closed: true,
    });
    expect(relay.accepted()).toBe(before);
    // 127.0.2.2 is outside the network: let in.
    expect((await firstReply(a().limitsPort, '127.0.2.2')).reply).toMatch(/^220/);
    await honest(a());
    const listed = await ftpx(['bans', 'list', '--json'], cpUrl);
    expect(JSON.parse(listed.stdout).items).toContainEqual(
      expect.objectContaining({ kind: 'host', value: network, reason: 'network test' }),
    );
    expect((await ftpx(['bans', 'remove', 'host', network], cpUrl)).code).toBe(0);
    const back = await within(
      3000,
      () => firstReply(b().limitsPort, '127.0.1.2'),
      (r) => r.reply?.startsWith('220') ?? false,
    );
    expect(back.reply).toMatch(/^220/);
  });

  it('BanOnEvent MaxLoginAttempts: failing on one process bans the host on the other', async () => {
    const source = '127.0.0.14';
    const sprayer = await RawFtp.open(a().limitsPort, '127.0.0.1', source);
    expect(await sprayer.reply()).toMatch(/^220/);
    for (let i = 0; i < 3; i++) {
      await sprayer.command(`USER ${backend.user}`);
      expect(await sprayer.command('PASS wrong-password')).toMatch(/^530/);
    }
    expect(await sprayer.closed()).toBe(true);
    // Until the other process's next poll the host may still get in; then it never does.
    const refused = await within(
      3000,
      () => firstReply(b().limitsPort, source),
      (r) => r.closed,
    );
    expect(refused).toEqual({ reply: `530 Banned: ${source}`, closed: true });
    const before = relay.accepted();
    for (const edge of [a(), b()])
      expect(await firstReply(edge.limitsPort, source), edge.name).toEqual(refused);
    expect(relay.accepted()).toBe(before);
    const listed = await ftpx(['bans', 'list'], cpUrl);
    expect(listed.stdout).toMatch(/host\s+127\.0\.0\.14\s+\S+\s+MaxLoginAttempts autoban/);
    await honest(a());
    await honest(b());
  });
});
