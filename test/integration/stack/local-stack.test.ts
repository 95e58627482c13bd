import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../../stack-local/local-stack.js';
import { taskAddressesOf } from '../../../stack-local/task-network.js';
import { referenceSign } from '../../support/aws-reference-signer.js';
import { repoRoot } from '../../support/binaries.js';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../support/dynamodb-local.js';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../../support/ftp-backends.js';
import { curl } from '../../support/ftp-clients.js';
import { freePort } from '../../support/ports.js';
import { RawFtp } from '../../support/raw-ftp.js';
import { runCommand } from '../../support/run-command.js';
import { sftpBatch } from '../../support/ssh-clients.js';
import { type Sshd, startSshd } from '../../support/sshd.js';
import { createTestCa, type TestCa } from '../../support/test-ca.js';
import { contextFile, readLocalContext } from './local-context.js';

/**
 * The CDK app's template, synthesized as `cdk synth` does it, run by the local stack
 * (`npm run stack:local`): real clients through the NLB listeners, the edge task and its control
 * plane of Lambda functions behind the signed HTTP API, DynamoDB Local, the health-check schedule.
 * This is the test that fails when the template hands the task something it cannot start with (an
 * admin endpoint without a token, a listener without its certificate or host key).
 */
const LOCAL = await readLocalContext();
const VPC = taskAddressesOf(LOCAL.parameters.vpc.cidr);
const CERTIFICATE_SECRET = 'ftpx-local/ftps-certificate';

describe('the synthesized stack, run locally', () => {
  let dir: string;
  let dynamo: DynamoDbLocal;
  let stack: LocalStack;
  let ca: TestCa;
  let listed: FtpBackend;
  let registered: FtpBackend;
  let sshd: Sshd;
  const ftpPort = Number(/:(\d+)$/.exec(LOCAL.parameters.edge.pools[0]?.backends[0] ?? '')?.[1]);
  const sftpPort = Number(/:(\d+)$/.exec(LOCAL.parameters.edge.pools[1]?.backends[0] ?? '')?.[1]);
  let registeredPort: number;
  const stackLog: string[] = [];

  /** A request to the stack's API, signed with AWS's own SigV4 signer and the local credential. */
  async function api(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: unknown }> {
    const url = `${stack.apiUrl}${path}`;
    const text = body === undefined ? '' : JSON.stringify(body);
    const headers = await referenceSign(
      { method, url, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: text },
      { service: 'execute-api', region: stack.region },
      { accessKeyId: stack.credentials.accessKeyId, secretAccessKey: stack.credentials.secretAccessKey },
      new Date(),
    );
    const result = await runCommand('curl', [
      '--silent',
      '--show-error',
      '--cacert',
      join(dir, 'work', 'api-ca.pem'),
      '-X',
      method,
      ...Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]),
      ...(body === undefined ? [] : ['--data-binary', text]),
      '-w',
      '\n%{http_code}',
      url,
    ]);
    const out = result.stdout.toString();
    const cut = out.lastIndexOf('\n');
    const raw = out.slice(0, cut);
    return { status: Number(out.slice(cut + 1)), json: raw ? JSON.parse(raw) : undefined };
  }

  const listener = (port: number) => stack.listeners.get(port)?.localPort as number;
  // Passive data goes to the address in the 227 reply (the task's own), never through the NLB:
  // curl would otherwise reuse the control connection's address. The client connects from the
  // VPC-side address, so that its control connection (the address in the PROXY header) and its data
  // connections come from one address, as a real client's do (ProFTPD's AllowForeignAddress off).
  const ftpCurl = (args: string[]) =>
    curl(['--no-ftp-skip-pasv-ip', '--disable-epsv', '--interface', VPC.host, ...args]);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ftpx-stack-local-'));
    // The local context with every protocol: implicit FTPS needs the certificate secret, named.
    await writeFile(
      join(dir, 'context.json'),
      contextFile({
        ...LOCAL.input,
        edge: {
          ...LOCAL.input.edge,
          protocols: ['ftp', 'ftps', 'sftp'],
          secrets: { tlsCertificate: CERTIFICATE_SECRET },
        },
      }),
    );
    const synthStart = Date.now();
    const [synth, dynamoStarted, caMade] = await Promise.all([
      runCommand(
        'npx',
        [
          'cdk',
          'synth',
          '--quiet',
          '--no-notices',
          '-c',
          `config=${join(dir, 'context.json')}`,
          '-o',
          join(dir, 'cdk.out'),
        ],
        {
          cwd: join(repoRoot, 'infra'),
          env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' },
          timeoutMs: 300_000,
        },
      ),
      startDynamoDbLocal(),
      createTestCa(),
    ]);
    dynamo = dynamoStarted;
    ca = caMade;
    expect(synth.code, synth.stderr.toString()).toBe(0);
    process.stdout.write(`local-stack.test: synth ${((Date.now() - synthStart) / 1000).toFixed(0)} s\n`);
    // The local stand-in for Secrets Manager: the certificate the context names (the admin token
    // and the host key seed are the stack's own secrets, generated into this file by the runner).
    await writeFile(
      join(dir, 'secrets.json'),
      JSON.stringify({
        [CERTIFICATE_SECRET]: JSON.stringify({
          certificate: await readFile(ca.server.cert, 'utf8'),
          privateKey: await readFile(ca.server.key, 'utf8'),
        }),
      }),
    );
    stack = await startLocalStack({
      cdkOut: join(dir, 'cdk.out'),
      repoRoot,
      dynamoDbEndpoint: dynamo.endpoint,
      secretsFile: join(dir, 'secrets.json'),
      workDir: join(dir, 'work'),
      speedup: 60,
      log: (line) => {
        stackLog.push(line);
      },
    });
    // The backends, in the task's VPC (the host side of its network), where the context lists them.
    registeredPort = await freePort();
    [listed, registered, sshd] = await Promise.all([
      startFtpBackend('proftpd', { name: 'stack-listed', host: VPC.host, port: ftpPort }),
      startFtpBackend('proftpd', { name: 'stack-registered', host: VPC.host, port: registeredPort }),
      startSshd({ host: VPC.host, port: sftpPort }),
    ]);
    await writeHomeFile(listed, 'who.txt', 'listed\n');
    await writeHomeFile(registered, 'who.txt', 'registered\n');
  }, 360_000);

  afterAll(async () => {
    await writeFile(join(tmpdir(), 'ftpx-stack-local-last.log'), stackLog.join('\n')).catch(() => {});
    await stack?.stop();
    await Promise.all([listed?.stop(), registered?.stop(), sshd?.stop(), dynamo?.stop(), ca?.remove()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('starts the task with FTP, implicit FTPS and SFTP listeners; the NLB health checks go green', async () => {
    expect([...stack.listeners.keys()].sort((a, b) => a - b)).toEqual([21, 22, 990]);
    for (const l of stack.listeners.values()) expect(l.targetGroup.proxyProtocolV2).toBe(true);
    await expect
      .poll(() => [...stack.listeners.values()].map((l) => l.health()), { timeout: 60_000, interval: 500 })
      .toEqual(['healthy', 'healthy', 'healthy']);
    expect(stack.task.output()).toMatch(/listening on 0\.0\.0\.0:990 \(pool main/);
  });

  it('relays FTP, FTPS (explicit on 21, implicit on 990) and SFTP sessions with real clients', async () => {
    const login = `${listed.user}:${listed.password}`;
    const plain = await ftpCurl([`ftp://${login}@127.0.0.1:${listener(21)}/who.txt`]);
    expect(plain.stdout.toString(), plain.stderr.toString()).toBe('listed\n');
    const explicit = await ftpCurl([
      '--ssl-reqd',
      '--cacert',
      ca.caCert,
      `ftp://${login}@127.0.0.1:${listener(21)}/who.txt`,
    ]);
    expect(explicit.stdout.toString(), explicit.stderr.toString()).toBe('listed\n');
    const implicit = await ftpCurl([
      '--cacert',
      ca.caCert,
      `ftps://${login}@127.0.0.1:${listener(990)}/who.txt`,
    ]);
    expect(implicit.stdout.toString(), implicit.stderr.toString()).toBe('listed\n');
    await writeFile(join(sshd.dataDir, 'hello.txt'), 'over sftp\n');
    const local = join(dir, 'sftp-got.txt');
    const sftp = await sftpBatch(
      { host: '127.0.0.1', port: listener(22), user: sshd.user.name },
      { password: sshd.user.password },
      [`get ${join(sshd.dataDir, 'hello.txt')} ${local}`],
    );
    expect(sftp.code, sftp.stderr.toString()).toBe(0);
    expect(await readFile(local, 'utf8')).toBe('over sftp\n');
  });

  it('refuses an unsigned or wrongly signed API call; a backend registered with a signed one serves the next sessions', async () => {
    const unsigned = await runCommand('curl', [
      '--silent',
      '--cacert',
      join(dir, 'work', 'api-ca.pem'),
      '-w',
      '%{http_code}',
      '-o',
      '/dev/null',
      `${stack.apiUrl}/v1/pools`,
    ]);
    expect(unsigned.stdout.toString()).toBe('403');
    const pool = await api('POST', '/v1/pools', { name: 'main' });
    expect(pool.status, JSON.stringify(pool.json)).toBe(201);
    const put = await api('PUT', '/v1/pools/main/backends/registered', {
      url: `ftp://${VPC.host}:${registeredPort}`,
    });
    expect(put.status, JSON.stringify(put.json)).toBe(201);
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const got = await ftpCurl([
        `ftp://${listed.user}:${listed.password}@127.0.0.1:${listener(21)}/who.txt`,
      ]);
      seen.add(got.stdout.toString());
    }
    expect(seen).toEqual(new Set(['listed\n', 'registered\n']));
  });

  it('marks a stopped backend down on the health-check schedule', async () => {
    await registered.stop();
    await expect
      .poll(
        async () => {
          const health = await api('GET', '/v1/pools/main/health');
          return JSON.stringify(health.json);
        },
        { timeout: 30_000, interval: 1000 },
      )
      .toMatch(
        new RegExp(
          `${registeredPort}[^}]*"(?:healthy|ok)":false|"(?:healthy|ok)":false[^}]*${registeredPort}`,
        ),
      );
  });

  it('stops as ECS stops a task: deregistered, then SIGTERM; a running session finishes, the worker exits 0', async () => {
    const session = await RawFtp.open(listener(21));
    await session.login(listed.user, listed.password);
    const stopping = stack.stopTask();
    // Deregistered: the listener takes no new connections; the session goes on through the drain.
    await expect.poll(() => stack.listeners.get(21)?.health()).toBe('draining');
    const late = await RawFtp.open(listener(21)).then(
      async (raw) => (await raw.reply(5000)) ?? 'closed',
      () => 'refused',
    );
    expect(late).toMatch(/closed|refused/);
    await expect.poll(() => stack.task.output().includes('"msg":"draining"'), { timeout: 30_000 }).toBe(true);
    expect(await session.command('SIZE who.txt')).toBe('213 7');
    expect(await session.command('QUIT')).toMatch(/^221/);
    expect(await stopping).toBe(0);
  });
});
