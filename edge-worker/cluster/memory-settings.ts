import { setFlagsFromString } from 'node:v8';

/**
 * Memory settings of `ftpx serve`'s processes (bench/README.md, "Memory" and "SFTP": what each one
 * saves and costs, measured). An operator's own setting (node options on the command line or in
 * NODE_OPTIONS, MALLOC_ARENA_MAX in the environment) always wins.
 */

/**
 * Workers: V8's young generation grows to 2 × 16 MiB under any burst (logins, transfers) and is given
 * back only once V8's memory reducer sees the process idle, a minute or more later; capped at
 * 2 × 8 MiB, each worker holds up to 16 MiB less. A smaller cap saves more (2 MiB: ~28 MiB a worker)
 * but costs the data path: the scavenges it adds showed as no change in CPU per GiB on downloads and
 * 6–18 % more on uploads (stream.pipeline, which allocates per chunk) with a 1 or 2 MiB cap; at 8 MiB
 * the scavenges double rather than multiply by eight. `--max-semi-space-size` on the command line or
 * in NODE_OPTIONS overrides it.
 */
export const WORKER_SEMI_SPACE_MIB = 8;

/**
 * glibc makes up to 8 malloc arenas per core, one per thread that allocates at once (libuv's pool,
 * V8's GC helpers), and each keeps what it freed. Two arenas is the usual setting for Node services;
 * the JS thread does nearly all allocation, so contention is not a cost here.
 */
export const WORKER_MALLOC_ARENAS = 2;

function nodeOptionGiven(name: string, execArgv: readonly string[], nodeOptions: string): boolean {
  const given = (option: string) => option === name || option.startsWith(`${name}=`);
  // V8 takes both spellings (--max-semi-space-size and --max_semi_space_size).
  const alternate = `--${name.slice(2).replaceAll('-', '_')}`;
  const options = [...execArgv, ...nodeOptions.split(/\s+/)];
  return options.some(
    (option) => given(option) || option === alternate || option.startsWith(`${alternate}=`),
  );
}

/** V8's own `--semi-space-growth-factor` (`node --v8-options`): the young generation doubles when it fills. */
export const V8_SEMI_SPACE_GROWTH_FACTOR = 2;

type SetFlags = (flags: string) => void;

/** What releaseYoungGeneration() undoes: set by holdYoungGeneration() at start. */
let held: () => void = () => {};

/**
 * Start-up (loading and compiling ~500 modules, building the config's objects) allocates in one
 * burst, and V8 answers it by growing the young generation to its cap: a worker sat at 2 × 8 MiB
 * committed with 4 MiB in use after start, and V8 gives that back only when its memory reducer finds
 * the process idle, 30–60 s later. Held at its initial 2 × 1 MiB until the process listens (V8 reads
 * the factor at each scavenge, so it can be set at run time), start-up pays a few more scavenges and
 * the idle process keeps ~10 MiB less; the release restores V8's growth, so the sessions' bursts grow
 * it exactly as before. An operator's own growth factor wins. Returns the release (idempotent), which
 * releaseYoungGeneration() also calls.
 */
export function holdYoungGeneration(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env.NODE_OPTIONS ?? '',
  setFlags: SetFlags = setFlagsFromString,
): () => void {
  if (nodeOptionGiven('--semi-space-growth-factor', execArgv, nodeOptions)) return () => {};
  setFlags('--semi-space-growth-factor=1');
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    setFlags(`--semi-space-growth-factor=${V8_SEMI_SPACE_GROWTH_FACTOR}`);
  };
  held = release;
  return release;
}

/** The process listens: the young generation grows with the load again. */
export function releaseYoungGeneration(): void {
  held();
}

/** The node options a worker starts with: the primary's own, with the young generation capped. */
export function workerExecArgv(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env.NODE_OPTIONS ?? '',
): string[] {
  if (nodeOptionGiven('--max-semi-space-size', execArgv, nodeOptions)) return [...execArgv];
  return [...execArgv, `--max-semi-space-size=${WORKER_SEMI_SPACE_MIB}`];
}

/** What a worker's environment adds to the primary's (cluster.fork merges it into process.env). */
export function workerEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return env.MALLOC_ARENA_MAX === undefined ? { MALLOC_ARENA_MAX: String(WORKER_MALLOC_ARENAS) } : {};
}

/**
 * The primary serves no sessions: its work is the control plane and the store, a few requests per
 * login, each of which leaves garbage (HTTP parsing, zod, the DynamoDB client, dynalite). With V8's
 * default heap growth the old generation grew with every login (115 → 305 MiB RSS over 10,000) and
 * was not given back; `--optimize-for-size` makes V8 collect before growing the heap (measured: 92 →
 * 100 MiB over 1,000 logins, back to 92 after, instead of 91 → 162), at the price of more GC CPU in
 * a process whose CPU is not on any data path. The young generation is kept from growing (its pages
 * stay at 2 × 1 MiB). Set at run time (the primary is the process the operator started), which V8
 * allows for these flags because it reads them at each collection; an operator's own setting of
 * either flag wins.
 */
export function tunePrimaryHeap(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env.NODE_OPTIONS ?? '',
): string[] {
  const applied: string[] = [];
  for (const flag of ['--optimize-for-size', '--semi-space-growth-factor=1']) {
    const name = flag.split('=')[0] as string;
    if (nodeOptionGiven(name, execArgv, nodeOptions)) continue;
    if (
      name === '--semi-space-growth-factor' &&
      nodeOptionGiven('--max-semi-space-size', execArgv, nodeOptions)
    ) {
      continue;
    }
    setFlagsFromString(flag);
    applied.push(flag);
  }
  // The primary keeps the factor of 1 it was started with (holdYoungGeneration); without it, V8's.
  if (applied.includes('--semi-space-growth-factor=1')) held = () => {};
  else releaseYoungGeneration();
  return applied;
}

/**
 * A process that serves SFTP: V8 grows the old-generation limit to 3× the live heap after each full
 * collection (`--heap-growing-percent=200`) instead of its own, tighter choice. Measured
 * (bench/README.md, "SFTP"): ssh2 allocates a fresh 32 KiB buffer per SSH packet on both legs, and
 * with ftpx's ~25 MiB live heap (the bare ssh2 relay has 7) V8 ran an incremental mark-compact every
 * ~10 MiB relayed, each marking the whole heap: 10–14 per 128 MiB, most of ftpx's CPU per GiB over
 * the bare relay. With the wider limit there are 0–2, and CPU per GiB about halves. The cost is RSS
 * while transfers run: dead packet buffers wait longer for a collection (+25–40 MiB measured).
 * Only processes with an SFTP listener take it (FTP-only ones keep V8's default); an operator's own
 * `--heap-growing-percent` wins. Set at run time: V8 reads it each time it sets the limit.
 */
export const SFTP_HEAP_GROWING_PERCENT = 200;

export function tuneHeapForSftp(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env.NODE_OPTIONS ?? '',
  setFlag: (flag: string) => void = setFlagsFromString,
): string[] {
  if (nodeOptionGiven('--heap-growing-percent', execArgv, nodeOptions)) return [];
  const flag = `--heap-growing-percent=${SFTP_HEAP_GROWING_PERCENT}`;
  setFlag(flag);
  return [flag];
}
