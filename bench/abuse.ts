/**
 * The abuse benchmark (`npm run bench:abuse [-- --config ftpx.yaml]`): an honest client's login
 * latency and download rate, ftpx's peak RSS and CPU, and how many hostile connections reached a
 * backend, while hostile clients (a) hold idle TCP connections (10,000 when the open-file limit
 * allows), (b) trickle a command byte by byte (1,000 slowloris clients), (c) log in behind a backend
 * that floods replies and never read, (d) spray passwords at a proxy-auth listener from 50 loopback
 * addresses (127.10.0.x). The attackers of (a)-(c) come from 127.0.0.1; the honest client from
 * 127.0.0.200 (control and data connections), as a gateway's customer does not share an attacker's
 * address. Each scenario runs its attack alone for `--seconds` (hostile connections at the backend
 * sampled every second), then the honest client works while the attack goes on. Loopback only; every
 * scenario is bounded in count and time. Not a test: figures depend on the machine. Writes
 * bench/results/abuse-<time>.json and .md.
 *
 * `--limits` runs the generated config with limits and bans on (maxConnectionsPerHost 10,
 * maxUnauthenticatedPerHost 4, a ProxyAuthFailure autoban); without it no limit or ban is configured
 * (ftpx's default pre-login caps still hold). `--only a,b,c,d` picks scenarios; `--seconds N` sets how
 * long each attack runs alone (15 s by default).
 *
 * `--config FILE` runs ftpx with that config instead of the generated one: it must have a listener on
 * FTPX_BENCH_PORT with pool `main` (the honest backend, FTPX_BENCH_BACKEND), one on
 * FTPX_BENCH_FLOOD_PORT with pool `flood` (FTPX_BENCH_FLOOD_BACKEND) and one on FTPX_BENCH_SPRAY_PORT
 * with a proxy-auth pool (FTPX_BENCH_AUTH_USER_FILE); `{{NAME}}` in it is substituted (also
 * FTPX_BENCH_HONEST_ADDRESS and FTPX_BENCH_ATTACKER_ADDRESS, for allow-lists and classes).
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
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
const HONEST_LOGINS = 9;
/**
 * The honest client's source address: a customer of a real gateway does not share the attackers'
 * address, and per-host limits (maxConnectionsPerHost, the pre-login caps) would refuse it if it did.
 */
const HONEST_ADDRESS = '127.0.0.200';
/** Where the idle, slowloris and reply-flood clients come from. */
const ATTACKER_ADDRESS = '127.0.0.1';
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

/**
 * Of `opened` sockets from ATTACKER_ADDRESS to `port`, how many the proxy has answered: those not
 * still waiting (SYN-SENT, or ESTAB with nothing received: the handshake is done in the kernel but the
 * proxy has not accepted it, its listen backlog being full). An answered socket holds the 220 or the
 * refusal unread (the clients never read), or is gone (reset).
 */
function answeredBy(port: number, opened: number): number {
  const out = execFileSync('ss', ['-Htn', `( dport = :${port} and src ${ATTACKER_ADDRESS} )`], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  let waiting = 0;
  for (const line of out.split('\n')) {
    const [state, recvQ] = line.trim().split(/\s+/);
    if (state === 'SYN-SENT' || (state === 'ESTAB' && recvQ === '0')) waiting += 1;
  }
  return opened - waiting;
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
  peakRssMiB: number;
  cpuPercent: number;
  loginMedianMs: number | string;
  loginVsQuiet: number | string;
  downloadMiBps: number | string;
  hostileAtBackendPeak: number;
  hostileAtBackendEnd: number;
}

/** A scenario's hostile load: started, left to run while the honest client works, stopped. */
interface Attack {
  /** The backend port the hostile sessions would reach (the proxy's connections to it are counted). */
  backendPort: number;
  /**
   * The backend's own count of the connections it holds (the flooding backend keeps one): sessions the
   * proxy ends within a second are missed by sampling `ss` every second, not by this.
   */
  backendConnections?: () => { open: number; peak: number; total: number };
  /**
   * The hostile sockets this process opened to a proxy port from ATTACKER_ADDRESS: how many ftpx had
   * answered (a 220 or a refusal) when the attack had run alone, as a note on the scenario.
   */
  opened?: { port: number; count: number };
  start(): Promise<void>;
  /** Ends the attack; returns a note for the scenario's name (the guesses made, say) or ''. */
  stop(): Promise<string>;
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
    FTPX_BENCH_HONEST_ADDRESS: HONEST_ADDRESS,
    FTPX_BENCH_ATTACKER_ADDRESS: ATTACKER_ADDRESS,
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
  // The idle sockets live in this process (one each); ftpx, a process of its own with its own limit,
  // holds only those it has not refused yet, and the backend only those ftpx passed on.
  const idleCount = Math.max(100, Math.min(10_000, limit - 1024));
  const rows: Row[] = [];

  /**
   * HONEST_LOGINS logins and a 32 MiB download from the honest client's own address. The logins are
   * spaced: ProFTPD's standalone master sleeps ~0.4 s after a session ends before it accepts the
   * next, which back-to-back logins would measure instead of the proxy.
   */
  const honest = async (): Promise<{ logins: number[]; rate: number | string }> => {
    const logins: number[] = [];
    for (let i = 0; i < HONEST_LOGINS; i++) {
      await sleep(700);
      try {
        logins.push(await loginMs('127.0.0.1', port, backend.user, backend.password, 10_000, HONEST_ADDRESS));
      } catch {
        // counted as missing
      }
    }
    const started = performance.now();
    // --interface binds the control and the data connection (ftpx refuses a passive data connection
    // from another address than the control connection's, so a wrong source fails the download).
    const result = await curl(
      [
        '--max-time',
        '30',
        '--interface',
        HONEST_ADDRESS,
        `ftp://${backend.user}:${backend.password}@127.0.0.1:${port}/payload.bin`,
      ],
      { timeoutMs: 40_000 },
    ).catch(() => undefined);
    const seconds = (performance.now() - started) / 1000;
    const ok = result && result.stdout.length === payload.length;
    return { logins, rate: ok ? round1(payload.length / (1024 * 1024) / seconds) : 'failed' };
  };

  let quietLogin: number | undefined;

  /**
   * One scenario: the attack starts and runs alone for SCENARIO_SECONDS (hostile connections that
   * reach a backend are sampled every second), then the honest client logs in and downloads while
   * the attack goes on; ftpx's RSS is sampled every 500 ms from start to stop (the peak is reported).
   */
  const measure = async (
    scenario: string,
    hostile: number,
    attack: Attack,
    attackSeconds: number,
  ): Promise<void> => {
    const ticks = await cpuTicks(proxy.pid);
    const started = performance.now();
    let peakRss = await rssMiB(proxy.pid);
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peakRss = Math.max(peakRss, await rssMiB(proxy.pid).catch(() => 0));
        await sleep(500);
      }
    })();
    // The previous scenario's sessions may still be closing: start from a backend without them.
    for (let waited = 0; waited < 15_000 && connectionsTo(attack.backendPort) > 0; waited += 500)
      await sleep(500);
    const before = connectionsTo(attack.backendPort);
    const ownPeakBefore = attack.backendConnections?.().peak ?? 0;
    let peakAtBackend = 0;
    let lastAtBackend = 0;
    try {
      await attack.start();
      const attackOnly = Date.now() + attackSeconds * 1000;
      while (Date.now() < attackOnly) {
        lastAtBackend = Math.max(0, connectionsTo(attack.backendPort) - before);
        peakAtBackend = Math.max(peakAtBackend, lastAtBackend);
        await sleep(1000);
      }
      const answered = attack.opened ? answeredBy(attack.opened.port, attack.opened.count) : undefined;
      const own = attack.backendConnections?.();
      if (own) {
        lastAtBackend = own.open;
        peakAtBackend = Math.max(peakAtBackend, own.peak - ownPeakBefore);
      }
      const { logins, rate } = await honest();
      // Ticks are 1/100 s: percent of one core = ticks * 1000 / elapsed ms.
      const cpu = (((await cpuTicks(proxy.pid)) - ticks) * 1000) / (performance.now() - started);
      const stopNote = await attack.stop();
      const note = [
        answered !== undefined
          ? `${answered.toLocaleString('en-US')} of ${attack.opened?.count.toLocaleString('en-US')} answered by ftpx within ${attackSeconds} s`
          : '',
        stopNote,
      ]
        .filter(Boolean)
        .join('; ');
      const loginMedian = logins.length > 0 ? round1(median(logins)) : undefined;
      if (quietLogin === undefined && hostile === 0 && logins.length === HONEST_LOGINS)
        quietLogin = loginMedian;
      rows.push({
        scenario: note ? `${scenario} (${note})` : scenario,
        hostile,
        peakRssMiB: peakRss,
        cpuPercent: round1(cpu),
        loginMedianMs:
          logins.length === HONEST_LOGINS
            ? (loginMedian as number)
            : `${logins.length}/${HONEST_LOGINS} logged in`,
        loginVsQuiet:
          logins.length === HONEST_LOGINS && quietLogin !== undefined && loginMedian !== undefined
            ? Math.round((loginMedian / quietLogin) * 100) / 100
            : '-',
        downloadMiBps: rate,
        hostileAtBackendPeak: peakAtBackend,
        hostileAtBackendEnd: lastAtBackend,
      });
      console.log(JSON.stringify(rows.at(-1)));
    } finally {
      sampling = false;
      await sampler;
    }
  };

  const hostileSockets: Socket[] = [];
  const openIdle = async (count: number, to: number): Promise<void> => {
    for (let i = 0; i < count; i++) {
      const socket = connect({ host: '127.0.0.1', port: to, localAddress: ATTACKER_ADDRESS });
      socket.on('error', () => {});
      socket.pause();
      hostileSockets.push(socket);
      if (i % 200 === 199) await sleep(50);
    }
  };
  const closeHostile = async (): Promise<string> => {
    for (const socket of hostileSockets.splice(0)) socket.destroy();
    await sleep(2000);
    return '';
  };

  /**
   * One password sprayer from `source`: connects, tries USER alice / PASS guess until the proxy
   * closes the connection (MaxLoginAttempts, a ban), and again, while `running()`. Returns its guesses.
   */
  const spray = async (source: string, running: () => boolean): Promise<number> => {
    let guesses = 0;
    while (running()) {
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
        while (!closed && running()) {
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
        while (!closed && running()) {
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

  const quietAttack: Attack = { backendPort: backend.port, start: async () => {}, stop: async () => '' };
  try {
    // Warm-up, not measured: ftpx loads parts of itself with the first session (the control plane's
    // functions, the store's client), which the quiet figure is not meant to include.
    await honest();
    await measure('quiet', 0, quietAttack, 0);

    if (ONLY.has('a'))
      await measure(
        '(a) idle TCP connections',
        idleCount,
        {
          backendPort: backend.port,
          opened: { port, count: idleCount },
          start: () => openIdle(idleCount, port),
          stop: closeHostile,
        },
        SCENARIO_SECONDS,
      );

    if (ONLY.has('b')) {
      let trickling: Promise<void> | undefined;
      let running = false;
      await measure(
        '(b) slowloris clients',
        1000,
        {
          backendPort: backend.port,
          opened: { port, count: 1000 },
          start: async () => {
            await openIdle(1000, port);
            running = true;
            trickling = (async () => {
              // One byte of a command line every 5 s per client, never a whole line.
              while (running) {
                for (const socket of hostileSockets) if (!socket.destroyed) socket.write('U');
                for (let waited = 0; waited < 5000 && running; waited += 250) await sleep(250);
              }
            })();
          },
          stop: async () => {
            running = false;
            await trickling;
            return closeHostile();
          },
        },
        SCENARIO_SECONDS,
      );
    }

    const floodTotalBefore = flood.connections().total;
    if (ONLY.has('c'))
      await measure(
        '(c) backend flooding a client that never reads',
        20,
        {
          backendPort: flood.port,
          backendConnections: () => flood.connections(),
          start: async () => {
            for (let i = 0; i < 20; i++) {
              const socket = connect({ host: '127.0.0.1', port: floodPort, localAddress: ATTACKER_ADDRESS });
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
          },
          stop: async () => {
            const reached = flood.connections().total - floodTotalBefore;
            await closeHostile();
            return `${reached} sessions reached the flooding backend in all`;
          },
        },
        SCENARIO_SECONDS,
      );

    if (ONLY.has('d')) {
      let running = false;
      let sprayers: Promise<number[]> | undefined;
      await measure(
        `(d) password sprayers (proxy auth), ${SPRAYERS} addresses`,
        SPRAYERS,
        {
          backendPort: backend.port,
          start: async () => {
            running = true;
            sprayers = Promise.all(
              Array.from({ length: SPRAYERS }, (_, i) => spray(`127.10.0.${i + 1}`, () => running)),
            );
          },
          stop: async () => {
            running = false;
            const counts = (await sprayers) ?? [];
            return `${counts.reduce((sum, count) => sum + count, 0)} guesses`;
          },
        },
        SCENARIO_SECONDS,
      );
    }
    await measure('quiet again, after the attacks', 0, quietAttack, 0);
  } finally {
    for (const socket of hostileSockets.splice(0)) socket.destroy();
    await proxy.stop();
    await flood.stop();
    await backend.stop();
    await rm(dir, { recursive: true, force: true });
  }

  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const quiet = rows[0];
  const attacked = rows.filter((r) => r.hostile > 0);
  const peakRss = Math.max(...rows.map((r) => r.peakRssMiB));
  const slow = attacked.filter((r) => typeof r.loginVsQuiet !== 'number' || r.loginVsQuiet > 2);
  const header = [
    `# Abuse benchmark (${stamp})`,
    '',
    `Config: ${userConfig ?? `generated, limits ${LIMITS ? 'on' : 'off'}`}; scenarios ${[...ONLY].join(',')}, ${SCENARIO_SECONDS} s of attack alone, then the honest client during the attack; open-file limit ${limit} (idle connections: ${idleCount}).`,
    `Honest client from ${HONEST_ADDRESS} (control and data connections), attackers from ${ATTACKER_ADDRESS} ((a)-(c)) and 127.10.0.1-${SPRAYERS} ((d)).`,
    `Load average at the end: ${loadavg()
      .map((value) => value.toFixed(1))
      .join(
        ' / ',
      )} (1 / 5 / 15 min) on ${cpus().length} cores shared with other jobs: figures are indicative.`,
    '',
    `| scenario | hostile | ftpx peak RSS MiB | ftpx CPU % | honest login median ms (${HONEST_LOGINS}) | login ÷ quiet | honest download MiB/s | hostile connections at a backend (peak / at end) |`,
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  const lines = rows.map(
    (r) =>
      `| ${r.scenario} | ${r.hostile} | ${r.peakRssMiB} | ${r.cpuPercent} | ${r.loginMedianMs} | ${r.loginVsQuiet} | ${r.downloadMiBps} | ${r.hostileAtBackendPeak} / ${r.hostileAtBackendEnd} |`,
  );
  const targets = [
    '',
    `Targets (issue 17): honest login within 2× its quiet value (${quiet?.loginMedianMs} ms): ${
      attacked.length === 0
        ? 'no scenario run'
        : slow.length === 0
          ? 'met'
          : `missed in ${slow.map((r) => r.scenario.slice(0, 3)).join(', ')}`
    }; ftpx RSS under 1024 MiB: ${peakRss < 1024 ? 'met' : 'missed'} (peak ${peakRss} MiB).`,
  ];
  const markdown = [...header, ...lines, ...targets, ''].join('\n');
  await writeFile(
    join('bench', 'results', `abuse-${stamp}.json`),
    `${JSON.stringify({ config: userConfig ?? null, limits: LIMITS, seconds: SCENARIO_SECONDS, idleCount, limit, honestAddress: HONEST_ADDRESS, loadavg: loadavg(), rows }, null, 2)}\n`,
  );
  await writeFile(join('bench', 'results', `abuse-${stamp}.md`), markdown);
  console.log(markdown);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
