import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../support/ftp-backends.js';
import { curl } from '../support/ftp-clients.js';
import { freePort } from '../support/ports.js';
import { cliPath, type ProxyProcess, startProxyProcess, waitForStart } from '../support/proxy-process.js';
import { runCommand } from '../support/run-command.js';

/**
 * The operator commands (`ftpx pools|backends|users|groups|proxy-users|tokens`), run from the built
 * CLI (npm run build first) against a control plane started by the built CLI, as operators run
 * them. No output may ever show the bootstrap token or the edge token.
 */

const BOOTSTRAP = 'operator-cli-bootstrap-token-do-not-print';
const EDGE_TOKEN = 'operator-cli-edge-token-do-not-print';

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface ControlPlane {
  url: string;
  stderr(): string;
  stop(): Promise<number | null>;
}

/** Runs `ftpx ARGS` with the given environment (nothing of the test's FTPX_* leaks in). */
function ftpx(args: string[], env: Record<string, string> = {}, input?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const base = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !name.startsWith('FTPX_')),
    );
    const child = spawn(process.execPath, [cliPath(), ...args], {
      env: { ...base, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      stdout += text;
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
    });
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      for (const secret of [BOOTSTRAP, EDGE_TOKEN]) {
        if (stdout.includes(secret) || stderr.includes(secret)) {
          reject(new Error(`ftpx ${args.join(' ')} printed a token`));
        }
      }
      resolve({ code, stdout, stderr });
    });
  });
}

/** `ftpx control-plane serve` on a free port, with the bootstrap and edge tokens set. */
async function startControlPlane(dataDir: string): Promise<ControlPlane> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [cliPath(), 'control-plane', 'serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, FTPX_BOOTSTRAP_TOKEN: BOOTSTRAP, FTPX_EDGE_TOKEN: EDGE_TOKEN },
    },
  );
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    stderr += text;
  });
  try {
    await waitForStart(
      child,
      () => stderr.includes(`control plane listening on http://127.0.0.1:${port}\n`),
      'the control plane',
    );
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${stderr}`);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    stderr: () => stderr,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

describe('ftpx operator commands against a control plane', () => {
  let dir: string;
  let cp: ControlPlane;
  /** The environment of an operator holding the bootstrap admin token. */
  let admin: Record<string, string>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ftpx-operator-cli-'));
    cp = await startControlPlane(join(dir, 'cp-data'));
    admin = { FTPX_API_URL: cp.url, FTPX_API_TOKEN: BOOTSTRAP };
  });

  afterAll(async () => {
    const code = await cp?.stop();
    expect(code).toBe(0);
    expect(cp?.stderr()).not.toContain(BOOTSTRAP);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('creates a pool, adds backends and lists them as a table and as JSON', async () => {
    // proxy-auth on: the backends below carry URL passwords, which the registry takes only then.
    const created = await ftpx(
      ['pools', 'create', 'main', '--policy', 'RoundRobin', '--proxy-auth', 'on'],
      admin,
    );
    expect(created).toMatchObject({ code: 0, stdout: 'created pool "main" (connect policy RoundRobin)\n' });
    expect((await ftpx(['pools', 'create', 'other'], admin)).code).toBe(0);

    const added = await ftpx(['backends', 'add', 'main', 'ftp://127.0.0.1:2121'], admin);
    expect(added.code, added.stderr).toBe(0);
    const generatedId = /^added backend (\S+) \(ftp:\/\/127\.0\.0\.1:2121\) to pool "main"\n$/.exec(
      added.stdout,
    )?.[1];
    expect(generatedId, added.stdout).toBeDefined();
    const withId = await ftpx(
      [
        'backends',
        'add',
        'main',
        'ftp://svc:s3cret@10.0.0.5',
        '--id',
        'b2',
        '--disabled',
        '--label',
        'zone=a',
      ],
      admin,
    );
    expect(withId).toMatchObject({
      code: 0,
      stdout: 'added backend b2 (ftp://svc:***@10.0.0.5) to pool "main", disabled\n',
    });

    const table = await ftpx(['backends', 'list', 'main'], admin);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+URL\s+ENABLED\s+WEIGHT\s+LABELS$/);
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(new RegExp(`^${generatedId}\\s+ftp://127\\.0\\.0\\.1:2121\\s+yes\\s+-\\s+-$`)),
      expect.stringMatching(/^b2\s+ftp:\/\/svc:\*\*\*@10\.0\.0\.5\s+no\s+-\s+zone=a$/),
    ]);
    expect(table.stdout).not.toContain('s3cret');

    const json = await ftpx(['backends', 'list', 'main', '--json'], admin);
    const page = JSON.parse(json.stdout) as { items: { id: string; url: string; enabled: boolean }[] };
    expect(page.items.map((backend) => [backend.id, backend.url, backend.enabled])).toEqual([
      [generatedId, 'ftp://127.0.0.1:2121', true],
      ['b2', 'ftp://svc:***@10.0.0.5', false],
    ]);
    expect(page).not.toHaveProperty('nextCursor');

    const enabled = await ftpx(['backends', 'enable', 'main', 'b2'], admin);
    expect(enabled.stdout).toBe('enabled backend b2 (ftp://svc:***@10.0.0.5) of pool "main"\n');
    const shown = await ftpx(['backends', 'get', 'main', 'b2'], admin);
    expect(shown.stdout).toMatch(
      /^pool: +main\nid: +b2\nurl: +ftp:\/\/svc:\*\*\*@10\.0\.0\.5\nbackend: +ftp:\/\/10\.0\.0\.5:21\nenabled: +yes\n/,
    );

    const updated = await ftpx(['pools', 'update', 'other', '--description', 'spare servers'], admin);
    expect(updated).toMatchObject({ code: 0, stdout: 'updated pool "other"\n' });
    const pools = await ftpx(['pools', 'list'], admin);
    expect(pools.stdout).toMatch(
      /^NAME +POLICY +DESCRIPTION\nmain +RoundRobin +-\nother +- +spare servers\n$/,
    );
    const other = await ftpx(['pools', 'get', 'other'], admin);
    expect(other.stdout).toMatch(
      /^name: +other\nconnect policy: +-\ndescription: +spare servers\nproxy auth: +off\nversion: +2\n/,
    );
  });

  it('follows the pages of a long list to the end, or stops at --limit', async () => {
    expect((await ftpx(['pools', 'create', 'big'], admin)).code).toBe(0);
    // 120 backends through the API itself (a page holds at most 100).
    const ids = Array.from({ length: 120 }, (_, i) => `b${String(i).padStart(3, '0')}`);
    for (let start = 0; start < ids.length; start += 20) {
      await Promise.all(
        ids.slice(start, start + 20).map(async (id, i) => {
          const response = await request(`${cp.url}/v1/pools/big/backends/${id}`, {
            method: 'PUT',
            headers: { authorization: `Bearer ${BOOTSTRAP}`, 'content-type': 'application/json' },
            body: JSON.stringify({ url: `ftp://10.1.0.${start + i + 1}:21` }),
          });
          await response.body.dump();
          expect(response.statusCode).toBe(201);
        }),
      );
    }
    const all = await ftpx(['backends', 'list', 'big', '--json'], admin);
    expect((JSON.parse(all.stdout) as { items: { id: string }[] }).items.map((item) => item.id)).toEqual(ids);
    const text = await ftpx(['backends', 'list', 'big'], admin);
    expect(text.stdout.trimEnd().split('\n')).toHaveLength(121);
    const limited = await ftpx(['backends', 'list', 'big', '--limit', '5'], admin);
    expect(limited.stdout.trimEnd().split('\n')).toHaveLength(6);
    expect(limited.stderr).toMatch(/there are more; raise --limit/);
    const limitedJson = JSON.parse(
      (await ftpx(['backends', 'list', 'big', '--limit', '5', '--json'], admin)).stdout,
    );
    expect(limitedJson.items).toHaveLength(5);
    expect(typeof limitedJson.nextCursor).toBe('string');
  });

  it('creates a scoped token whose secret is shown once and works within its scope only', async () => {
    const created = await ftpx(
      ['tokens', 'create', 'deployer', '--scope', 'write', '--pools', 'main'],
      admin,
    );
    expect(created.code, created.stderr).toBe(0);
    const secret = created.stdout.trim();
    expect(created.stdout).toBe(`${secret}\n`);
    expect(secret).toMatch(/^[A-Za-z0-9._~+/-]{20,}$/);
    expect(created.stderr).toMatch(/created token \S+ "deployer" \(scope write, pools main\)/);
    expect(created.stderr).toMatch(/shown only this once/);
    const tokenId = /created token (\S+)/.exec(created.stderr)?.[1] ?? '';

    const listed = await ftpx(['tokens', 'list'], admin);
    expect(listed.stdout).toMatch(
      new RegExp(`^ID +NAME +SCOPE +POOLS +EXPIRES +LAST USED\\n${tokenId} +deployer +write +main +- +-\\n`),
    );
    expect(listed.stdout).not.toContain(secret);
    const listedJson = await ftpx(['tokens', 'list', '--json'], admin);
    expect(listedJson.stdout).not.toContain(secret);

    const deployer = { FTPX_API_URL: cp.url, FTPX_API_TOKEN: secret };
    // Allowed: write in its pool.
    const added = await ftpx(['backends', 'add', 'main', 'ftp://10.0.0.9:21', '--id', 'b9'], deployer);
    expect(added).toMatchObject({ code: 0, stdout: 'added backend b9 (ftp://10.0.0.9:21) to pool "main"\n' });
    const pools = await ftpx(['pools', 'list'], deployer);
    expect(pools.stdout).toMatch(/^NAME +POLICY +DESCRIPTION\nmain +RoundRobin +-\n$/);
    // Forbidden: another pool, pools themselves, tokens.
    const otherPool = await ftpx(['backends', 'add', 'other', 'ftp://10.0.0.9:21'], deployer);
    expect(otherPool.code).toBe(1);
    expect(otherPool.stderr).toBe('ftpx: this token may not change pool "other" (HTTP 403 forbidden)\n');
    const hidden = await ftpx(['backends', 'list', 'other'], deployer);
    expect(hidden.code).toBe(1);
    expect(hidden.stderr).toBe('ftpx: pool "other" not found (HTTP 404 not_found)\n');
    const newPool = await ftpx(['pools', 'create', 'mine'], deployer);
    expect(newPool.code).toBe(1);
    expect(newPool.stderr).toBe('ftpx: this needs an admin token (HTTP 403 forbidden)\n');
    expect((await ftpx(['tokens', 'list'], deployer)).code).toBe(1);

    // Read scope: reads, no changes. The token is given with --token this time.
    const reader = await ftpx(
      ['tokens', 'create', 'reader', '--scope', 'read', '--pools', 'main', '--json'],
      admin,
    );
    const readSecret = (JSON.parse(reader.stdout) as { secret: string }).secret;
    const asReader = ['--api', cp.url, '--token', readSecret];
    expect((await ftpx(['backends', 'get', 'main', 'b9', ...asReader])).code).toBe(0);
    const refused = await ftpx(['backends', 'remove', 'main', 'b9', ...asReader]);
    expect(refused).toMatchObject({
      code: 1,
      stderr: 'ftpx: this needs a token with write scope (HTTP 403 forbidden)\n',
    });

    // Revoked: the secret stops working at once.
    expect(await ftpx(['tokens', 'revoke', tokenId], admin)).toMatchObject({
      code: 0,
      stdout: `revoked token ${tokenId}\n`,
    });
    const revoked = await ftpx(['backends', 'list', 'main'], deployer);
    expect(revoked.code).toBe(1);
    expect(revoked.stderr).toBe(
      'ftpx: a valid bearer token is required (HTTP 401 unauthorized)\n  the token was not accepted: unknown, revoked or expired\n',
    );
  });

  it('maps users and groups to backends', async () => {
    const mapped = await ftpx(
      ['users', 'map', 'main', 'alice', 'ftp://10.0.0.1', 'ftp://u:pw@10.0.0.2:2121'],
      admin,
    );
    expect(mapped).toMatchObject({
      code: 0,
      stdout: 'mapped user "alice" of pool "main" to ftp://10.0.0.1, ftp://u:***@10.0.0.2:2121\n',
    });
    const shown = await ftpx(['users', 'show', 'main', 'alice'], admin);
    expect(shown.stdout).toMatch(
      /^pool: +main\nuser: +alice\nbackends: +ftp:\/\/10\.0\.0\.1, ftp:\/\/u:\*\*\*@10\.0\.0\.2:2121\n/,
    );
    // map again replaces.
    expect((await ftpx(['users', 'map', 'main', 'alice', 'ftp://10.0.0.3'], admin)).code).toBe(0);
    const json = JSON.parse((await ftpx(['users', 'list', 'main', '--json'], admin)).stdout);
    expect(
      json.items.map((item: { user: string; backends: string[] }) => [item.user, item.backends]),
    ).toEqual([['alice', ['ftp://10.0.0.3']]]);
    expect((await ftpx(['groups', 'map', 'main', 'staff', 'ftp://10.0.0.4'], admin)).code).toBe(0);
    expect((await ftpx(['groups', 'list', 'main'], admin)).stdout).toMatch(
      /^GROUP +BACKENDS\nstaff +ftp:\/\/10\.0\.0\.4\n$/,
    );

    expect(await ftpx(['users', 'unmap', 'main', 'alice'], admin)).toMatchObject({
      code: 0,
      stdout: 'unmapped user "alice" of pool "main"\n',
    });
    const gone = await ftpx(['users', 'show', 'main', 'alice'], admin);
    expect(gone).toMatchObject({
      code: 1,
      stderr: 'ftpx: user mapping "alice" of pool "main" not found (HTTP 404 not_found)\n',
    });
    expect((await ftpx(['users', 'list', 'main'], admin)).stdout).toBe('no user mappings in pool "main"\n');
  });

  it('manages proxy users, with the password on standard input', async () => {
    const created = await ftpx(
      [
        'proxy-users',
        'create',
        'main',
        'bob',
        '--primary-group',
        'staff',
        '--groups',
        'ops,dev',
        '--password-stdin',
      ],
      admin,
      'correct horse\n',
    );
    expect(created).toMatchObject({ code: 0, stdout: 'created proxy user "bob" in pool "main"\n' });
    expect((await ftpx(['proxy-users', 'disable', 'main', 'bob'], admin)).stdout).toBe(
      'disabled proxy user "bob" of pool "main"\n',
    );
    const listed = await ftpx(['proxy-users', 'list', 'main'], admin);
    expect(listed.stdout).toMatch(/^NAME +PRIMARY GROUP +GROUPS +ENABLED\nbob +staff +ops,dev +no\n$/);
    expect(
      listed.stdout + (await ftpx(['proxy-users', 'get', 'main', 'bob', '--json'], admin)).stdout,
    ).not.toMatch(/correct horse|password/);
    expect((await ftpx(['proxy-users', 'delete', 'main', 'bob'], admin)).code).toBe(0);
  });

  it('removes a backend, and deletes a pool only once it is empty', async () => {
    expect(await ftpx(['backends', 'remove', 'main', 'b2'], admin)).toMatchObject({
      code: 0,
      stdout: 'removed backend b2 from pool "main"\n',
    });
    const gone = await ftpx(['backends', 'get', 'main', 'b2'], admin);
    expect(gone).toMatchObject({
      code: 1,
      stderr: 'ftpx: backend "b2" of pool "main" not found (HTTP 404 not_found)\n',
    });
    const json = JSON.parse((await ftpx(['backends', 'list', 'main', '--json'], admin)).stdout);
    expect(json.items.map((item: { id: string }) => item.id)).not.toContain('b2');

    const notEmpty = await ftpx(['pools', 'delete', 'big'], admin);
    expect(notEmpty.code).toBe(1);
    expect(notEmpty.stderr).toMatch(/\(HTTP 409 pool_not_empty\)/);
    expect(await ftpx(['pools', 'delete', 'other'], admin)).toMatchObject({
      code: 0,
      stdout: 'deleted pool "other"\n',
    });
  });

  it('reports API errors with their message and issues, and exit code 1', async () => {
    const unknown = await ftpx(['backends', 'list', 'nope'], admin);
    expect(unknown).toMatchObject({
      code: 1,
      stdout: '',
      stderr: 'ftpx: pool "nope" not found (HTTP 404 not_found)\n',
    });

    const invalid = await ftpx(['backends', 'add', 'main', 'http://10.0.0.5'], admin);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(
      /^ftpx: invalid request: body\.url \(HTTP 400 invalid_request\)\n {2}body\.url: .*ftp:\/\//,
    );
    const invalidJson = await ftpx(['pools', 'create', 'x', '--policy', 'Fastest', '--json'], admin);
    expect(invalidJson.code).toBe(1);
    expect(JSON.parse(invalidJson.stdout)).toMatchObject({
      error: { code: 'invalid_request', issues: [{ path: 'body.connectPolicy' }] },
    });
    expect(invalidJson.stderr).toMatch(/ {2}body\.connectPolicy: .*RoundRobin/);

    const badToken = await ftpx(['pools', 'list', '--api', cp.url, '--token', 'not-a-real-token']);
    expect(badToken).toMatchObject({ code: 1, stdout: '' });
    expect(badToken.stderr).toMatch(/^ftpx: a valid bearer token is required \(HTTP 401 unauthorized\)\n/);
    expect(badToken.stderr).not.toContain('not-a-real-token');
    const noToken = await ftpx(['pools', 'list'], { FTPX_API_URL: cp.url });
    expect(noToken.stderr).toMatch(/give a token with --token TOKEN or FTPX_API_TOKEN/);

    const closed = await freePort();
    const unreachable = await ftpx(['pools', 'list', '--api', `http://127.0.0.1:${closed}`], admin);
    expect(unreachable).toMatchObject({
      code: 1,
      stdout: '',
      stderr: `ftpx: cannot reach the control plane at http://127.0.0.1:${closed}: connect ECONNREFUSED 127.0.0.1:${closed}\n`,
    });
  });

  it('refuses a wrong command line with exit code 2 and the usage', async () => {
    const cases: [string[], RegExp][] = [
      [['pools'], /pools needs a subcommand/],
      [['backends', 'add', 'main'], /backends add needs URL/],
      [['backends', 'list', 'main', '--wat'], /Unknown option '--wat'/],
      [['tokens', 'create', 'x'], /--scope is required/],
      [['pools', 'list', '--api', 'cp:9090'], /--api must be an http:\/\/ or https:\/\/ URL/],
    ];
    for (const [args, message] of cases) {
      const result = await ftpx(args, admin);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(message);
      expect(result.stderr, args.join(' ')).toMatch(/Usage: ftpx /);
    }
    const help = await ftpx(['--help']);
    expect(help.stdout).toMatch(/Operator commands/);
    expect(help.stdout).toMatch(/ftpx backends +list\|get\|add\|remove\|enable\|disable/);
  });
});

/**
 * The README's "Control plane and edge workers" example: a control plane and two edge workers on
 * one machine, a backend registered with one curl command, a download through either worker.
 */
describe('the README example: a backend registered with one curl command', () => {
  let dir: string;
  let cp: ControlPlane;
  let backend: FtpBackend;
  const workers: ProxyProcess[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ftpx-readme-'));
    backend = await startFtpBackend('proftpd', { name: 'registered' });
    await writeHomeFile(backend, 'hello.txt', 'served by a registered backend\n');
    cp = await startControlPlane(join(dir, 'cp-data'));
  });

  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.stop()));
    await cp?.stop();
    await backend?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('serves a download from the registered backend through both edge workers', async () => {
    // The pool's only configured backend is down: nothing listens on that port.
    const down = await freePort();
    for (const name of ['a', 'b']) {
      const port = await freePort();
      const config = join(dir, `${name}.yaml`);
      await writeFile(
        config,
        [
          'log: { level: warn }',
          'listeners:',
          `  - { address: 127.0.0.1, port: ${port}, pool: main }`,
          'pools:',
          '  - name: main',
          `    backends: [ftp://127.0.0.1:${down}]`,
          // The registered backend is on loopback, which the destination policy refuses unless listed.
          '    allowDestinationNetworks: [127.0.0.0/8]',
          '',
        ].join('\n'),
      );
      workers.push(
        await startProxyProcess({
          args: [
            'serve',
            '--config',
            config,
            '--control-plane-url',
            cp.url,
            '--control-plane-token',
            EDGE_TOKEN,
          ],
          port,
        }),
      );
    }
    const download = (worker: ProxyProcess) =>
      curl([`ftp://${backend.user}:${backend.password}@127.0.0.1:${worker.port}/hello.txt`], {
        timeoutMs: 30_000,
      });

    // Before: every session finds its only backend down.
    const before = await download(workers[0]!);
    expect(before.code).not.toBe(0);

    // The operator CLI creates the pool; one curl registers the backend.
    const admin = { FTPX_API_URL: cp.url, FTPX_API_TOKEN: BOOTSTRAP };
    expect((await ftpx(['pools', 'create', 'main'], admin)).code).toBe(0);
    const registered = await runCommand('curl', [
      '-sS',
      '--fail-with-body',
      '-X',
      'POST',
      '-H',
      `Authorization: Bearer ${BOOTSTRAP}`,
      '-H',
      'content-type: application/json',
      `${cp.url}/v1/pools/main/backends`,
      '-d',
      JSON.stringify({ url: backend.url }),
    ]);
    expect(registered.code, registered.stderr + registered.stdout.toString()).toBe(0);
    const answer = JSON.parse(registered.stdout.toString()) as { id: string };
    expect(answer).toMatchObject({ pool: 'main', url: backend.url, enabled: true });
    expect((await ftpx(['backends', 'list', 'main'], admin)).stdout).toContain(backend.url);

    // After: both workers reach the registered backend.
    for (const worker of workers) {
      const after = await download(worker);
      expect(after.code, `${after.stderr}\n${worker.stderr()}`).toBe(0);
      expect(after.stdout.toString()).toBe('served by a registered backend\n');
      expect(worker.stderr()).not.toContain(EDGE_TOKEN);
    }

    // Disabled, the workers stop using it; enabled, they use it again.
    expect((await ftpx(['backends', 'disable', 'main', answer.id], admin)).code).toBe(0);
    expect((await download(workers[1]!)).code).not.toBe(0);
    expect((await ftpx(['backends', 'enable', 'main', answer.id], admin)).code).toBe(0);
    expect((await download(workers[1]!)).stdout.toString()).toBe('served by a registered backend\n');
  });
});
