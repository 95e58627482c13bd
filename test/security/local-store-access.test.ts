import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../support/ftp-backends.js';
import { curl } from '../support/ftp-clients.js';
import { freePort } from '../support/ports.js';
import { type ProxyProcess, startProxyProcess } from '../support/proxy-process.js';
import { runCommand } from '../support/run-command.js';
import { ensureSystemUser, type SystemUser } from '../support/system-user.js';

/**
 * Hole 7 of issue 14: the embedded store (dynalite) listened on a loopback TCP port with no
 * authentication, so any local account could read password hashes, TLS ticket keys and backend
 * credentials. Now it listens on a Unix socket in a 0700 directory under dataDir, dataDir itself is
 * 0700, and the cluster's workers reach the primary's control plane over their IPC channel (no port,
 * no token; before, a loopback port with a per-run token). Each attack runs
 * as another local user (runuser), while an honest FTP login goes through the proxy.
 */
let dir: string;
let other: SystemUser;
let backend: FtpBackend;

beforeAll(async () => {
  [other, backend] = await Promise.all([
    ensureSystemUser(),
    startFtpBackend('proftpd', { name: 'local-store' }),
  ]);
  await writeHomeFile(backend, 'honest.txt', 'an honest file');
  dir = await mkdtemp(join(tmpdir(), 'ftpx-local-store-'));
  // Everyone may walk to dataDir, as under /var/lib: only dataDir's own protection may stop them.
  await chmod(dir, 0o755);
}, 120_000);

afterAll(async () => {
  await backend?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs `command` as the other local user. */
const asOther = (command: string, args: string[]) =>
  runCommand('runuser', ['-u', other.name, '--', command, ...args], { timeoutMs: 20_000 });

/** A DynamoDB ListTables call with curl: what a local user would try on the store. */
const listTables = (target: string[]) => [
  '--silent',
  '--show-error',
  '--max-time',
  '10',
  ...target,
  '-X',
  'POST',
  '-H',
  'x-amz-target: DynamoDB_20120810.ListTables',
  '-H',
  'content-type: application/x-amz-json-1.0',
  '-H',
  'x-amz-date: 20260101T000000Z',
  '-H',
  'authorization: AWS4-HMAC-SHA256 Credential=a/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
  '-d',
  '{}',
];

/** TCP ports process `pid` listens on (from its socket inodes in /proc/net/tcp and tcp6). */
function listeningTcpPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match?.[1]) inodes.add(match[1]);
    } catch {
      // The descriptor closed meanwhile.
    }
  }
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields[3] === '0A' && fields[9] !== undefined && inodes.has(fields[9])) {
        ports.push(Number.parseInt(fields[1]?.split(':')[1] ?? '', 16));
      }
    }
  }
  return ports.sort((a, b) => a - b);
}

const writeConfig = async (name: string, port: number, dataDir: string) => {
  const file = join(dir, `${name}.yaml`);
  await writeFile(
    file,
    [
      `dataDir: ${dataDir}`,
      'log: { level: info }',
      'listeners:',
      `  - { address: 127.0.0.1, port: ${port}, pool: main }`,
      'pools:',
      `  - { name: main, backends: [${backend.url}] }`,
      '',
    ].join('\n'),
  );
  return file;
};

const honestLogin = async (port: number) => {
  const listing = await curl([
    '--max-time',
    '20',
    `ftp://${backend.user}:${backend.password}@127.0.0.1:${port}/honest.txt`,
  ]);
  expect(listing.stderr.toString()).toBe('');
  expect(listing.stdout.toString()).toBe('an honest file');
};

describe('the embedded store of a single-process edge worker', () => {
  let proxy: ProxyProcess | undefined;
  let dataDir: string;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    dataDir = join(dir, 'single');
    // An operator's dataDir made world-readable beforehand: ftpx takes it back to 0700.
    await mkdir(dataDir, { mode: 0o755 });
    await chmod(dataDir, 0o755);
    proxy = await startProxyProcess({
      args: ['serve', '--config', await writeConfig('single', port, dataDir)],
      port,
    });
  }, 60_000);
  afterAll(async () => {
    await proxy?.stop();
  });

  it('listens on no TCP port but the FTP listener', async () => {
    await honestLogin(port);
    expect(listeningTcpPorts(proxy?.pid as number)).toEqual([port]);
  });

  it('keeps dataDir, the store files and its socket out of other local users reach', async () => {
    expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
    const [socketDir] = (await readdir(dataDir)).filter((name) => name.startsWith('store-'));
    expect(socketDir).toBeDefined();
    const socket = join(dataDir, socketDir as string, 'dynamodb.sock');
    expect((await stat(socket)).isSocket()).toBe(true);
    // The owner (the proxy's user) reaches the store through the socket: the request is right.
    const owner = await curl([...listTables(['--unix-socket', socket]), 'http://localhost/']);
    expect(owner.stdout.toString()).toContain('"TableNames":["ftpx"]');

    // Another local user: connecting to the socket, listing dataDir, reading the LevelDB files.
    const connect = await asOther('curl', [...listTables(['--unix-socket', socket]), 'http://localhost/']);
    expect(connect.code).not.toBe(0);
    expect(connect.stdout.toString()).not.toContain('TableNames');
    expect(connect.stderr.toString()).toMatch(/Permission denied|Couldn't connect/i);
    const list = await asOther('ls', [dataDir]);
    expect(list.code).not.toBe(0);
    expect(list.stderr.toString()).toMatch(/Permission denied/);
    const current = await asOther('cat', [join(dataDir, 'dynamodb', 'CURRENT')]);
    expect(current.code).not.toBe(0);
    expect(current.stderr.toString()).toMatch(/Permission denied/);
    // Meanwhile the honest client is served.
    await honestLogin(port);
  });
});

describe('the control plane of `serve --workers 2`', () => {
  let proxy: ProxyProcess | undefined;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    const dataDir = join(dir, 'cluster');
    proxy = await startProxyProcess({
      args: ['serve', '--workers', '2', '--config', await writeConfig('cluster', port, dataDir)],
      port,
    });
  }, 90_000);
  afterAll(async () => {
    await proxy?.stop();
  });

  it('listens on no TCP port but the FTP listener: the workers reach the control plane by IPC, not by a port', async () => {
    await honestLogin(port);
    const workers = (await readFile(`/proc/${proxy?.pid}/task/${proxy?.pid}/children`, 'utf8'))
      .split(' ')
      .filter(Boolean)
      .map(Number);
    expect(workers).toHaveLength(2);
    // The primary only shares the listener with the workers (node:cluster's round robin).
    expect(listeningTcpPorts(proxy?.pid as number)).toEqual([port]);
    for (const worker of workers) expect(listeningTcpPorts(worker), `worker ${worker}`).toEqual([]);
    // Nothing in the log names a control-plane URL or carries a bearer token any more.
    expect(proxy?.stderr()).not.toMatch(/Bearer|"token"|"url":"http/);
    await honestLogin(port);
  });
});
