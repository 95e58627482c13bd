/**
 * Cold start of the control-plane Lambda bundles: each entry bundled as the CDK app bundles it
 * (esbuild, ESM, node22, minified, the same banner), then loaded in a fresh Node process (Node 22 when
 * `NODE22` names one, e.g. `.cache/node22/22.23.3/bin/node`) and invoked once against a dynalite store
 * on a Unix socket. Reports the bundle size and the median time to import the bundle and to answer the
 * first request. Process start-up itself (the same for every bundle) is not counted.
 *
 *   npm run build && NODE22=.cache/node22/22.23.3/bin/node node dist/bench/lambda-cold-start.js
 *
 * BENCH_COLD_BASELINE=<another checkout> bundles the same entries from there too and alternates the
 * two bundles run by run, so that a busy machine slows both alike (before/after comparisons).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { startEmbeddedStore } from '../edge-worker/embedded/store-server.js';
import { createDynamoDbClient, ensureTable } from '../functions/core/store/index.js';
import { functionBuildOptions } from '../infra/lib/function-bundles.js';
import { median, round1 } from './stats.js';

const ROUNDS = Number(process.env.BENCH_COLD_ROUNDS ?? 7);
const NODE = process.env.NODE22 ?? process.execPath;
const REPO = new URL('../..', import.meta.url).pathname;
const BASELINE = process.env.BENCH_COLD_BASELINE;

interface Entry {
  name: string;
  entry: string;
  /** The JSON body of the first request (an HTTP API event around it). */
  body: unknown;
}

const ENTRIES: Entry[] = [
  {
    name: 'resolve-backend',
    entry: 'functions/resolve-backend/http-handler.ts',
    body: { pool: 'bench', policy: 'RoundRobin', backends: ['ftp://127.0.0.1:2121'] },
  },
  { name: 'auth', entry: 'functions/auth/http-handler.ts', body: {} },
  { name: 'tls-cache', entry: 'functions/tls-cache/http-handler.ts', body: {} },
  { name: 'session-events', entry: 'functions/session-events/http-handler.ts', body: {} },
];

const DRIVER = `
const [bundle, body] = process.argv.slice(2);
const t0 = performance.now();
const mod = await import(bundle);
const t1 = performance.now();
const event = {
  version: '2.0', routeKey: 'POST /x', rawPath: '/x', rawQueryString: '', isBase64Encoded: false,
  headers: { 'content-type': 'application/json' }, body,
  requestContext: { http: { method: 'POST', path: '/x', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' },
    requestId: 'bench', routeKey: 'POST /x', stage: '$default', accountId: '0', apiId: 'x', domainName: 'x',
    domainPrefix: 'x', time: '', timeEpoch: 0 },
};
const context = { functionName: 'bench', awsRequestId: 'bench', getRemainingTimeInMillis: () => 10000 };
const result = await mod.handler(event, context);
const t2 = performance.now();
process.stdout.write(JSON.stringify({ importMs: t1 - t0, firstInvokeMs: t2 - t1, status: result.statusCode }));
`;

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ftpx-cold-'));
  const store = await startEmbeddedStore(undefined);
  try {
    const table = {
      name: 'ftpx-bench',
      client: createDynamoDbClient({ region: 'us-east-1', endpoint: store.endpoint }),
    };
    await ensureTable(table);
    const driver = join(dir, 'driver.mjs');
    await writeFile(driver, DRIVER);
    console.log(`node ${await version(NODE)}, ${ROUNDS} cold starts per function (median)`);
    console.log(
      '| function | tree | bundle KiB | import ms | first invoke ms | import + invoke ms | status |',
    );
    console.log('|---|---|---|---|---|---|---|');
    const trees = BASELINE
      ? [
          { name: 'baseline', root: BASELINE },
          { name: 'this', root: REPO },
        ]
      : [{ name: 'this', root: REPO }];
    for (const { name, entry, body } of ENTRIES) {
      const bundles = [];
      for (const tree of trees) {
        const outfile = join(dir, `${name}-${tree.name}.mjs`);
        await bundle(join(tree.root, entry), outfile);
        bundles.push({ tree: tree.name, outfile, size: (await stat(outfile)).size, runs: [] as Run[] });
      }
      for (let i = 0; i < ROUNDS; i++) {
        for (const b of bundles)
          b.runs.push(await runOnce(driver, b.outfile, JSON.stringify(body), store.endpoint));
      }
      for (const b of bundles) {
        const imp = median(b.runs.map((r) => r.importMs));
        const inv = median(b.runs.map((r) => r.firstInvokeMs));
        const both = median(b.runs.map((r) => r.importMs + r.firstInvokeMs));
        console.log(
          `| ${name} | ${b.tree} | ${Math.round(b.size / 1024)} | ${round1(imp)} | ${round1(inv)} | ${round1(both)} | ${b.runs[0]?.status} |`,
        );
      }
    }
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

interface Run {
  importMs: number;
  firstInvokeMs: number;
  status: number;
}

/** Bundled as the CDK app bundles every function (infra/lib/function-bundles.ts). */
async function bundle(entry: string, outfile: string): Promise<void> {
  await build({
    entryPoints: [entry],
    outfile,
    ...functionBuildOptions(),
    logLevel: 'error',
  });
}

function runOnce(driver: string, bundle: string, body: string, endpoint: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, ['--enable-source-maps', driver, bundle, body], {
      env: {
        PATH: process.env.PATH ?? '',
        FTPX_TABLE_NAME: 'ftpx-bench',
        FTPX_STORE_ENDPOINT: endpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'bench',
        AWS_SECRET_ACCESS_KEY: 'bench',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (err.length < 4096) err += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`driver exited ${code}: ${err}`));
      else resolve(JSON.parse(out));
    });
  });
}

function version(node: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(node, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.on('close', () => resolve(out.trim()));
    child.on('error', reject);
  });
}

await main();
