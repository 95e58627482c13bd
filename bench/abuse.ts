/**
 * The abuse benchmark (`npm run bench:abuse [-- --config ftpx.yaml]`): an honest client's login
 * latency and download rate, and ftpx's RSS and CPU, while hostile clients (a) hold idle TCP
 * connections, (b) trickle a command byte by byte (slowloris), (c) log in behind a backend that floods
 * replies and never read, (d) spray passwords at a proxy-auth listener from 50 loopback addresses
 * (127.10.0.x). Loopback only; every scenario is bounded in count and time. Not a test: figures depend
 * on the machine. Writes bench/results/abuse-<time>.json and .md.
 *
 * `--limits` runs the generated config with limits and bans on (maxConnectionsPerHost,
 * maxUnauthenticatedPerHost, a ProxyAuthFailure autoban); `--only a,b,c,d` picks scenarios;
 * `--seconds N` sets each scenario's length (15 s by default).
 *
 * `--config FILE` runs ftpx with that config instead of the generated one (limits on, say): it must
 * have a listener on FTPX_BENCH_PORT with pool `main` (the honest backend, FTPX_BENCH_BACKEND) and one
 * on FTPX_BENCH_FLOOD_PORT with pool `flood` (FTPX_BENCH_FLOOD_BACKEND); `{{NAME}}` in it is substituted.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFloodingBackend } from '../test/support/flooding-backend.js';
import { startFtpBackend, writeHomeFile } from '../test/support/ftp-backends.js';
import { curl } from '../test/support/ftp-clients.js';
import { freePort } from '../test/support/ports.js';
import { startProxyProcess } from '../test/support/proxy-process.js';
import { loginMs } from './ftp-login.js';
import { median, round1 } from './stats.js';

function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
}
const SCENARIO_SECONDS = Math.min(120, Math.max(1, Number(option('--seconds') ?? 15)));
const ONLY = new Set((option('--only') ?? 'a,b,c,d').split(','));
const LIMITS = process.argv.includes('--limits');
const SPRAYERS = 50;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return round1(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024);
}

async function cpuTicks(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** Established TCP connections to `port` on loopback (the proxy's connections to a backend). */
function connectionsTo(port: number): number {
  const out = execFileSync('ss', ['-Htn', 'state', 'established', `( dport = :${port} )`], {
    encoding: 'utf8',
  });
  return out.split('\n').filter((line) => line.trim() !== '').length;
}

function openFileLimit(): number {
  try {
    return Number(execFileSync('bash', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim());
  } catch {
    return 1024;
  }
}

interface Row {
  scenario: string;
  hostile: number;
  rssMiB: number;
  cpuPercent: number;
  loginMedianMs: number | string;
  downloadMiBps: number | string;
  hostileAtBackend: number;
}

async function main(): Promise<void> {
  const userConfig = option('--config');
  const dir = await mkdtemp(join(tmpdir(), 'ftpx-bench-abuse-'));
  const backend = await startFtpBackend('proftpd', { name: 'bench-abuse' });
  const payload = Buffer.alloc(32 * 1024 * 1024, 7);
  await writeHomeFile(backend, 'payload.bin', payload);
  const flood = await startFloodingBackend({ reply: '200 flood\r\n', count: 50_000_000 });
  const port = await freePort();
  const floodPort = await freePort();
  const sprayPort = await freePort();
  const passwd = join(dir, 'proxy.passwd');
  const hash = execFileSync('openssl', ['passwd', '-6', 'alice-pw'], { encoding: 'utf8' }).trim();
  await writeFile(passwd, `alice:${hash}:1001:100::/home/alice:/bin/sh\n`);
  const vars: Record<string, string> = {
    FTPX_BENCH_PORT: String(port),
    FTPX_BENCH_FLOOD_PORT: String(floodPort),
    FTPX_BENCH_BACKEND: backend.url,
    FTPX_BENCH_FLOOD_BACKEND: `ftp://127.0.0.1:${flood.port}`,
    FTPX_BENCH_DATA_DIR: join(dir, 'data'),
    FTPX_BENCH_SPRAY_PORT: String(sprayPort),
    FTPX_BENCH_AUTH_USER_FILE: passwd,
  };
  const limits = LIMITS ? ', connections: { maxConnectionsPerHost: 10, maxUnauthenticatedPerHost: 4 }' : '';
  const config = join(dir, 'ftpx.yaml');
  const template = userConfig
    ? await readFile(userConfig, 'utf8')
    : [
        'dataDir: {{FTPX_BENCH_DATA_DIR}}',
        'log: { level: warn }',
        ...(LIMITS
          ? ['bans:', '  rules: [{ event: ProxyAuthFailure, count: 5, window: 1m, duration: 10m }]']
          : []),
        'listeners:',
        `  - { address: 127.0.0.1, port: {{FTPX_BENCH_PORT}}, pool: main${limits} }`,
        `  - { address: 127.0.0.1, port: {{FTPX_BENCH_FLOOD_PORT}}, pool: flood${limits} }`,
        `  - { address: 127.0.0.1, port: {{FTPX_BENCH_SPRAY_PORT}}, pool: sprayed${limits} }`,
        'pools:',
        '  - { name: main, backends: [{{FTPX_BENCH_BACKEND}}] }',
        '  - { name: flood, backends: [{{FTPX_BENCH_FLOOD_BACKEND}}] }',
        '  - name: sprayed',
        '    backends: [{{FTPX_BENCH_BACKEND}}]',
        '    proxyAuth: true',
        '    authUserFile: {{FTPX_BENCH_AUTH_USER_FILE}}',
        '',
      ].join('\n');
  await writeFile(
    config,
    template.replace(/\{\{(\w+)\}\}/g, (_, name: string) => vars[name] ?? ''),
  );
  const proxy = await startProxyProcess({ args: ['serve', '--config', config], port });
  const limit = openFileLimit();
  // Each idle connection costs a socket here and one in ftpx (plus a backend one when unlimited).
  const idleCount = Math.max(100, Math.min(10_000, Math.floor((limit - 512) / 3)));
  const rows: Row[] = [];

  const honest = async (): Promise<{ login: number | string; rate: number | string }> => {
    const logins: number[] = [];
    for (let i = 0; i < 5; i++) {
      try {
        logins.push(await loginMs('127.0.0.1', port, backend.user, backend.password, 10_000));
      } catch {
        // counted as missing
      }
    }
    const started = performance.now();
    const result = await curl(
      ['--max-time', '30', `ftp://${backend.user}:${backend.password}@127.0.0.1:${port}/payload.bin`],
      { timeoutMs: 40_000 },
    ).catch(() => undefined);
    const seconds = (performance.now() - started) / 1000;
    const ok = result && result.stdout.length === payload.length;
    return {
      login: logins.length === 5 ? round1(median(logins)) : `${logins.length}/5 logged in`,
      rate: ok ? round1(payload.length / (1024 * 1024) / seconds) : 'failed',
    };
  };

  const measure = async (scenario: string, hostile: number, during: () => Promise<number>): Promise<void> => {
    const ticks = await cpuTicks(proxy.pid);
    const started = performance.now();
    const atBackend = await during();
    const { login, rate } = await honest();
    const rss = await rssMiB(proxy.pid);
    // Ticks are 1/100 s: percent of one core = ticks * 1000 / elapsed ms.
    const cpu = (((await cpuTicks(proxy.pid)) - ticks) * 1000) / (performance.now() - started);
    rows.push({
      scenario,
      hostile,
      rssMiB: rss,
      cpuPercent: round1(cpu),
      loginMedianMs: login,
      downloadMiBps: rate,
      hostileAtBackend: atBackend,
    });
    console.log(JSON.stringify(rows.at(-1)));
  };

  const hostileSockets: Socket[] = [];
  const openIdle = async (count: number, to: number): Promise<void> => {
    for (let i = 0; i < count; i++) {
      const socket = connect({ host: '127.0.0.1', port: to });
      socket.on('error', () => {});
      socket.pause();
      hostileSockets.push(socket);
      if (i % 200 === 199) await sleep(50);
    }
  };
  const closeHostile = async () => {
    for (const socket of hostileSockets.splice(0)) socket.destroy();
    await sleep(2000);
  };

  /**
   * One password sprayer from `source`: connects, tries USER alice / PASS guess until the proxy
   * closes the connection (MaxLoginAttempts, a ban), and again, until `deadline`. Returns its guesses.
   */
  const spray = async (source: string, deadline: number): Promise<number> => {
    let guesses = 0;
    while (Date.now() < deadline) {
      const socket = connect({ host: '127.0.0.1', port: sprayPort, localAddress: source });
      socket.setEncoding('latin1');
      let closed = false;
      let buffered = '';
      let wake: () => void = () => {};
      socket.on('error', () => {});
      socket.on('close', () => {
        closed = true;
        wake();
      });
      socket.on('data', (text: string) => {
        buffered += text;
        wake();
      });
      const reply = async (): Promise<string | undefined> => {
        while (!closed && Date.now() < deadline) {
          const end = buffered.indexOf('\r\n');
          if (end >= 0) {
            const line = buffered.slice(0, end);
            buffered = buffered.slice(end + 2);
            return line;
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, 500);
          });
        }
        return undefined;
      };
      if ((await reply())?.startsWith('220')) {
        while (!closed && Date.now() < deadline) {
          socket.write('USER alice\r\n');
          if (!(await reply())) break;
          socket.write(`PASS guess-${guesses}\r\n`);
          guesses += 1;
          if (!(await reply())) break;
        }
      }
      socket.destroy();
      // A refused or banned sprayer comes back after a short pause, as scanners do.
      await sleep(100);
    }
    return guesses;
  };

  try {
    await measure('quiet', 0, async () => 0);

    if (ONLY.has('d')) {
      let guesses = 0;
      await measure(`(d) password sprayers (proxy auth), ${SPRAYERS} addresses`, SPRAYERS, async () => {
        const before = connectionsTo(backend.port);
        const deadline = Date.now() + SCENARIO_SECONDS * 1000;
        const counts = await Promise.all(
          Array.from({ length: SPRAYERS }, (_, i) => spray(`127.10.0.${i + 1}`, deadline)),
        );
        guesses = counts.reduce((sum, count) => sum + count, 0);
        return connectionsTo(backend.port) - before;
      });
      const last = rows.at(-1);
      if (last) last.scenario += ` (${guesses} guesses)`;
    }

    if (ONLY.has('a'))
      await measure(`(a) idle TCP connections`, idleCount, async () => {
        const before = connectionsTo(backend.port);
        await openIdle(idleCount, port);
        await sleep(SCENARIO_SECONDS * 1000);
        return connectionsTo(backend.port) - before;
      });
    await closeHostile();

    if (ONLY.has('b'))
      await measure('(b) slowloris clients', 1000, async () => {
        const before = connectionsTo(backend.port);
        await openIdle(1000, port);
        const deadline = Date.now() + SCENARIO_SECONDS * 1000;
        while (Date.now() < deadline) {
          for (const socket of hostileSockets) if (!socket.destroyed) socket.write('U');
          await sleep(5000);
        }
        return connectionsTo(backend.port) - before;
      });
    await closeHostile();

    if (ONLY.has('c'))
      await measure('(c) backend flooding a client that never reads', 20, async () => {
        for (let i = 0; i < 20; i++) {
          const socket = connect({ host: '127.0.0.1', port: floodPort });
          socket.on('error', () => {});
          socket.setEncoding('latin1');
          let sent = false;
          socket.on('data', (text: string) => {
            if (!sent && text.includes('220')) {
              sent = true;
              socket.write('USER flood\r\nPASS flood\r\n');
              // Never read again.
              setTimeout(() => socket.pause(), 200);
            }
          });
          hostileSockets.push(socket);
        }
        await sleep(SCENARIO_SECONDS * 1000);
        return connectionsTo(flood.port);
      });
    await closeHostile();
  } finally {
    await proxy.stop();
    await flood.stop();
    await backend.stop();
    await rm(dir, { recursive: true, force: true });
  }

  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const header = [
    `# Abuse benchmark (${stamp})`,
    '',
    `Config: ${userConfig ?? `generated, limits ${LIMITS ? 'on' : 'off'}`}; scenarios ${[...ONLY].join(',')}, ${SCENARIO_SECONDS} s each; open-file limit ${limit} (idle connections scaled to ${idleCount}).`,
    'Loopback, 2-core machine shared with other jobs: figures are indicative.',
    '',
    '| scenario | hostile | ftpx RSS MiB | ftpx CPU % | honest login median ms | honest download MiB/s | hostile connections at a backend |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  const lines = rows.map(
    (r) =>
      `| ${r.scenario} | ${r.hostile} | ${r.rssMiB} | ${r.cpuPercent} | ${r.loginMedianMs} | ${r.downloadMiBps} | ${r.hostileAtBackend} |`,
  );
  const markdown = [...header, ...lines, ''].join('\n');
  await writeFile(
    join('bench', 'results', `abuse-${stamp}.json`),
    `${JSON.stringify({ config: userConfig ?? null, limits: LIMITS, seconds: SCENARIO_SECONDS, idleCount, limit, rows }, null, 2)}\n`,
  );
  await writeFile(join('bench', 'results', `abuse-${stamp}.md`), markdown);
  console.log(markdown);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
