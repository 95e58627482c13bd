/**
 * The idle-sessions benchmark (`npm run bench:idle -- [--sessions N] [--workers N|auto] [--rounds R]
 * [--heap-snapshot [--snapshot-of primary]] [--idle-after S]`): N FTP clients log in through `ftpx
 * serve` (USER/PASS, each session with its backend connection) and stay idle; ftpx's memory (every
 * process of it: primary and workers) is read before, with all N logged in, 10 s after they quit and
 * again S s after they quit (default 60: V8's memory reducer gives heap back once a process has been
 * idle a while), for R rounds (a second round shows whether the memory of the first was returned or
 * reused). The backend is bench/ftp-greeter.ts, a minimal FTP server in its own process (a real
 * server cannot hold 10,000 logins on one machine). With --heap-snapshot, the first worker writes a
 * V8 heap snapshot at N sessions (--heapsnapshot-signal) and the largest object groups by retained
 * self size are listed. Loopback only; bounded in count (at most 10,000 sessions) and time
 * (LOGIN_DEADLINE_MS per round). Not a test: figures depend on the machine. Writes
 * bench/results/idle-sessions-<time>.json and .md.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { childrenOf, type TreeMemory, treeMemory } from './process-memory.js';
import { startServe } from './serve-process.js';
import { round1 } from './stats.js';

const MAX_SESSIONS = 10_000;
const LOGIN_DEADLINE_MS = 10 * 60_000;
/** Clients logging in at once: below ftpx's default limit of connections waiting to log in. */
const IN_FLIGHT = 24;
const SETTLE_MS = 5000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Greeter {
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

async function startGreeter(): Promise<Greeter> {
  const child = spawn(process.execPath, [new URL('./ftp-greeter.js', import.meta.url).pathname], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  child.stdout?.setEncoding('utf8');
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the FTP greeter did not start')), 30_000);
    child.stdout?.on('data', (text: string) => {
      const match = /port (\d+)/.exec(text);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
  });
  return {
    port,
    child,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** One client: connect, USER, PASS, and stay. Resolves with the socket once 230 came. */
function login(port: number, index: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setEncoding('latin1');
    let text = '';
    let step = 0;
    const timer = setTimeout(() => fail(new Error('login timed out')), timeoutMs);
    const fail = (err: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    socket.on('error', fail);
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (step === 0 && /^220 /m.test(text)) {
        step = 1;
        text = '';
        socket.write(`USER idle${index}\r\n`);
      } else if (step === 1 && /^331 /m.test(text)) {
        step = 2;
        text = '';
        socket.write('PASS idle\r\n');
      } else if (step === 2 && /^230 /m.test(text)) {
        step = 3;
        clearTimeout(timer);
        text = '';
        socket.off('error', fail);
        socket.on('error', () => {});
        resolve(socket);
      } else if (/^[45]\d\d /m.test(text)) {
        fail(new Error(`refused: ${text.trim()}`));
      } else if (text.length > 4096) {
        text = text.slice(-512);
      }
    });
  });
}

async function openSessions(port: number, count: number): Promise<{ sockets: Socket[]; failed: string[] }> {
  const sockets: Socket[] = [];
  const failed: string[] = [];
  const deadline = Date.now() + LOGIN_DEADLINE_MS;
  let next = 0;
  const lane = async () => {
    while (next < count && Date.now() < deadline) {
      const index = next++;
      try {
        sockets.push(await login(port, index, 60_000));
      } catch (err) {
        if (failed.length < 20) failed.push((err as Error).message);
        else failed.push('');
      }
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  return { sockets, failed };
}

async function closeSessions(sockets: Socket[]): Promise<void> {
  for (const socket of sockets) socket.end('QUIT\r\n');
  await sleep(2000);
  for (const socket of sockets) socket.destroy();
}

/** Heap snapshot summary: the groups (constructor or type) with the most self size. */
async function summarizeSnapshot(file: string): Promise<{ group: string; count: number; selfKiB: number }[]> {
  const snapshot = JSON.parse(await readFile(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const groups = new Map<string, { count: number; size: number }>();
  for (let i = 0; i < snapshot.nodes.length; i += width) {
    const type = types[snapshot.nodes[i + typeAt] as number] ?? '?';
    const name = snapshot.strings[snapshot.nodes[i + nameAt] as number] ?? '?';
    const key =
      type === 'object' || type === 'native'
        ? name
        : type === 'closure'
          ? `(closure ${name || 'anonymous'})`
          : `(${type})`;
    const group = groups.get(key) ?? { count: 0, size: 0 };
    group.count += 1;
    group.size += snapshot.nodes[i + sizeAt] as number;
    groups.set(key, group);
  }
  return [...groups.entries()]
    .sort((a, b) => b[1].size - a[1].size)
    .slice(0, 25)
    .map(([group, { count, size }]) => ({ group, count, selfKiB: round1(size / 1024) }));
}

async function heapSnapshotOf(pid: number, dir: string): Promise<string> {
  const before = new Set(await readdir(dir));
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    await sleep(1000);
    const file = (await readdir(dir)).find((name) => !before.has(name) && name.endsWith('.heapsnapshot'));
    if (!file) continue;
    // Written in chunks: complete once it ends the JSON document.
    const path = join(dir, file);
    const text = await readFile(path, 'utf8');
    if (text.trimEnd().endsWith(']}')) return path;
  }
  throw new Error('no heap snapshot within 120 s');
}

interface Round {
  round: number;
  sessions: number;
  failed: number;
  loginSeconds: number;
  before: TreeMemory;
  atN: TreeMemory;
  after: TreeMemory;
  /** Again once the proxy has been idle for --idle-after seconds (V8's memory reducer gives back heap then). */
  afterIdle: TreeMemory | undefined;
  perSessionKiB: { rss: number; private: number };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sessions: { type: 'string', default: '2000' },
      workers: { type: 'string', default: 'auto' },
      rounds: { type: 'string', default: '2' },
      'heap-snapshot': { type: 'boolean', default: false },
      /** Whose heap: the first worker's (default) or the primary's (the control plane and the store). */
      'snapshot-of': { type: 'string', default: 'worker' },
      /** Seconds after the sessions closed for a last reading (0: none). */
      'idle-after': { type: 'string', default: '60' },
    },
  });
  const sessions = Math.min(MAX_SESSIONS, Math.max(1, Number(values.sessions)));
  const rounds = Math.min(3, Math.max(1, Number(values.rounds)));
  const dir = await mkdtemp(join(tmpdir(), 'ftpx-bench-idle-'));
  const greeter = await startGreeter();
  const config = join(dir, 'ftpx.yaml');
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  await writeFile(
    config,
    [
      `dataDir: ${join(dir, 'data')}`,
      'log: { level: warn }',
      'listeners:',
      `  - { address: 127.0.0.1, port: ${port}, pool: main }`,
      'pools:',
      `  - { name: main, backends: [ftp://127.0.0.1:${greeter.port}] }`,
      '',
    ].join('\n'),
  );
  // FTPX_BENCH_NODE_ARGS: extra node options for ftpx (V8 flags to compare, say), space-separated.
  const nodeArgs = [
    ...(values['heap-snapshot'] ? ['--heapsnapshot-signal=SIGUSR2'] : []),
    ...(process.env.FTPX_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
  ];
  const proxy = await startServe(config, { workers: values.workers, nodeArgs, cwd: dir });
  const results: Round[] = [];
  let heap: { group: string; count: number; selfKiB: number }[] | undefined;
  try {
    await sleep(SETTLE_MS);
    for (let round = 1; round <= rounds; round++) {
      const before = await treeMemory(proxy.pid);
      const started = performance.now();
      const { sockets, failed } = await openSessions(port, sessions);
      const loginSeconds = round1((performance.now() - started) / 1000);
      await sleep(SETTLE_MS);
      const atN = await treeMemory(proxy.pid);
      if (round === 1 && values['heap-snapshot']) {
        const worker =
          values['snapshot-of'] === 'primary' ? proxy.pid : ((await childrenOf(proxy.pid))[0] ?? proxy.pid);
        const snapshot = await heapSnapshotOf(worker, dir);
        heap = await summarizeSnapshot(snapshot);
        // FTPX_BENCH_KEEP_SNAPSHOT=FILE keeps the snapshot for a closer look (Chrome DevTools).
        if (process.env.FTPX_BENCH_KEEP_SNAPSHOT)
          await copyFile(snapshot, process.env.FTPX_BENCH_KEEP_SNAPSHOT);
      }
      await closeSessions(sockets);
      await sleep(SETTLE_MS * 2);
      const after = await treeMemory(proxy.pid);
      const idleAfterMs = Math.min(300, Math.max(0, Number(values['idle-after']))) * 1000;
      let afterIdle: TreeMemory | undefined;
      if (idleAfterMs > SETTLE_MS * 2) {
        await sleep(idleAfterMs - SETTLE_MS * 2);
        afterIdle = await treeMemory(proxy.pid);
      }
      const n = Math.max(1, sockets.length);
      results.push({
        round,
        sessions: sockets.length,
        failed: failed.length,
        loginSeconds,
        before,
        atN,
        after,
        afterIdle,
        perSessionKiB: {
          rss: round1(((atN.rssMiB - before.rssMiB) * 1024) / n),
          private: round1(((atN.privateMiB - before.privateMiB) * 1024) / n),
        },
      });
      console.log(
        JSON.stringify({ round, sessions: sockets.length, failed: failed.slice(0, 3), atN: atN.rssMiB }),
      );
    }
  } finally {
    await proxy.stop();
    await greeter.stop();
    await rm(dir, { recursive: true, force: true });
  }

  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const first = results[0];
  const lines = [
    `# Idle sessions (${stamp})`,
    '',
    `\`ftpx serve --workers ${values.workers}\` (${first?.before.processes.length ?? '?'} processes), ${sessions} idle logged-in FTP sessions per round against bench/ftp-greeter.ts on loopback; log level warn. RSS sums every process (the node binary's shared code counted once per process); "unique" is the private memory of every process plus the shared pages once; PSS (summed) divides each shared page among the processes that map it, the proxy's share of the machine; "distinct" counts every page of the proxy's processes once by physical frame (exact; needs root). 2-core machine shared with other jobs.`,
    '',
    `| round | sessions (failed) | login s | RSS before | RSS at N | RSS after close | RSS ${values['idle-after']} s after | unique before | unique at N | unique after | PSS before | PSS at N | PSS after close | distinct before | distinct at N | distinct after close | KiB/session (RSS) | KiB/session (private) |`,
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...results.map(
      (r) =>
        `| ${r.round} | ${r.sessions} (${r.failed}) | ${r.loginSeconds} | ${r.before.rssMiB} | ${r.atN.rssMiB} | ${r.after.rssMiB} | ${r.afterIdle?.rssMiB ?? '–'} | ${r.before.uniqueMiB} | ${r.atN.uniqueMiB} | ${r.after.uniqueMiB} | ${r.before.pssMiB} | ${r.atN.pssMiB} | ${r.after.pssMiB} | ${r.before.distinctMiB ?? '–'} | ${r.atN.distinctMiB ?? '–'} | ${r.after.distinctMiB ?? '–'} | ${r.perSessionKiB.rss} | ${r.perSessionKiB.private} |`,
    ),
    '',
    'Per process at N (round 1): ' +
      (first?.atN.processes
        .map((p) => `${p.role} ${p.rssMiB} MiB RSS / ${p.pssMiB} PSS / ${p.privateMiB} private`)
        .join(', ') ?? ''),
    '',
    `Per process ${values['idle-after']} s after they quit (round 1): ` +
      (first?.afterIdle?.processes
        .map((p) => `${p.role} ${p.rssMiB} MiB RSS / ${p.pssMiB} PSS / ${p.privateMiB} private`)
        .join(', ') ?? '–'),
    '',
  ];
  if (heap) {
    lines.push(
      `Heap snapshot of ${values['snapshot-of'] === 'primary' ? 'the primary' : 'worker 1'} at N: largest groups by self size.`,
      '',
      '| group | count | self KiB |',
      '| --- | --- | --- |',
      ...heap.map((h) => `| ${h.group.replace(/\|/g, '\\|')} | ${h.count} | ${h.selfKiB} |`),
      '',
    );
  }
  const markdown = lines.join('\n');
  await writeFile(
    join('bench', 'results', `idle-sessions-${stamp}.json`),
    `${JSON.stringify({ workers: values.workers, sessions, rounds: results, heap: heap ?? null }, null, 2)}\n`,
  );
  await writeFile(join('bench', 'results', `idle-sessions-${stamp}.md`), markdown);
  console.log(markdown);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
