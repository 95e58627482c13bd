import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTaskImage, imageSize, podmanEnv } from '../../../stack-local/container-image.js';
import { LocalJwtIssuer } from '../../../stack-local/jwt-authorizer.js';
import { findNode22, type LocalStack, startLocalStack } from '../../../stack-local/local-stack.js';
import { taskAddressesOf } from '../../../stack-local/task-network.js';
import { repoRoot } from '../../support/binaries.js';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../support/dynamodb-local.js';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../../support/ftp-backends.js';
import { curl } from '../../support/ftp-clients.js';
import { RawFtp } from '../../support/raw-ftp.js';
import { runCommand } from '../../support/run-command.js';
import { createTestCa, type TestCa } from '../../support/test-ca.js';
import { contextFile, readLocalContext } from './local-context.js';

/**
 * The edge worker's image, built from the template's image asset (the build context `cdk deploy`
 * sends) with podman, and the local stack's task run from it, as ECS runs it: the image's
 * ENTRYPOINT as its user, in the task's own network namespace. No registry is reached: the base
 * images are made by scripts/container-base-images.sh (Debian bookworm from mmdebstrap, Node 22)
 * and the build runs without a network, its npm packages from .cache/image-npm; both are prepared
 * by scripts/install-test-deps.sh.
 */
// The local context in 10.41.0.0/16 instead of 10.40.0.0/16: local-stack.test.ts may run at the same
// time, and the two tasks' networks (and backends on the VPC side) must not share addresses.
const LOCAL = await readLocalContext((text) => text.replaceAll('10.40.', '10.41.'));
const VPC = taskAddressesOf(LOCAL.parameters.vpc.cidr);
const CERTIFICATE_SECRET = 'ftpx-local/ftps-certificate';
const NODE_VERSION = basename(dirname(dirname(findNode22(repoRoot))));
const BASE_IMAGE = `localhost/ftpx-base:node-${NODE_VERSION}`;
const BUILD_IMAGE = `localhost/ftpx-build-base:node-${NODE_VERSION}`;
const IMAGE = 'localhost/ftpx-edge:stack-local-test';
const NPM_CACHE = join(repoRoot, '.cache', 'image-npm');
/** This stack's registry API is the template's other variant: behind a JWT authoriser (never contacted: the local issuer signs). */
const JWT = { issuer: 'https://issuer.ftpx.test/', audience: ['ftpx-registry'] };

const podman = (args: string[]) =>
  runCommand('podman', args, { env: { ...process.env, ...podmanEnv(repoRoot) }, timeoutMs: 60_000 });

describe('the edge image, built from the template and run as the local stack task', () => {
  let dir: string;
  let dynamo: DynamoDbLocal;
  let stack: LocalStack;
  let ca: TestCa;
  let backend: FtpBackend;
  const ftpPort = Number(/:(\d+)$/.exec(LOCAL.parameters.edge.pools[0]?.backends[0] ?? '')?.[1]);
  const stackLog: string[] = [];
  const listener = (port: number) => stack.listeners.get(port)?.localPort as number;
  const ftpCurl = (args: string[]) =>
    curl(['--no-ftp-skip-pasv-ip', '--disable-epsv', '--interface', VPC.host, ...args]);

  beforeAll(async () => {
    // What scripts/install-test-deps.sh prepares: podman, the two base images, the npm cache.
    const version = await podman(['--version']);
    expect(
      version.code,
      `podman is missing (scripts/install-test-deps.sh installs it): ${version.stderr}`,
    ).toBe(0);
    for (const image of [BASE_IMAGE, BUILD_IMAGE]) {
      const exists = await podman(['image', 'exists', image]);
      expect(exists.code, `${image} is missing: run scripts/install-test-deps.sh (it makes it)`).toBe(0);
    }
    const lockSha = (await runCommand('sha256sum', [join(repoRoot, 'package-lock.json')])).stdout
      .toString()
      .split(' ')[0];
    const cached = await readFile(join(NPM_CACHE, '.package-lock.sha256'), 'utf8').catch(() => '');
    expect(
      cached.trim(),
      `${NPM_CACHE} does not hold this package-lock.json's packages: run scripts/install-test-deps.sh`,
    ).toBe(lockSha);

    dir = await mkdtemp(join(tmpdir(), 'ftpx-stack-image-'));
    await writeFile(
      join(dir, 'context.json'),
      contextFile({
        ...LOCAL.input,
        edge: {
          ...LOCAL.input.edge,
          protocols: ['ftp', 'ftps', 'sftp'],
          secrets: { tlsCertificate: CERTIFICATE_SECRET },
        },
        api: { registryAuth: 'jwt', jwt: JWT },
      }),
    );
    const phases: string[] = [];
    let phaseStart = Date.now();
    const phase = (name: string) => {
      phases.push(`${name} ${((Date.now() - phaseStart) / 1000).toFixed(0)} s`);
      phaseStart = Date.now();
    };
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
    phase('synth');
    await buildTaskImage({
      cdkOut: join(dir, 'cdk.out'),
      repoRoot,
      tag: IMAGE,
      buildArgs: { BASE_IMAGE, BUILD_IMAGE, NPM_CONFIG_OFFLINE: 'true' },
      volumes: { [NPM_CACHE]: '/root/.npm' },
      network: 'none',
    });
    phase('image build');
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
      taskImage: IMAGE,
      log: (line) => {
        stackLog.push(line);
      },
    });
    backend = await startFtpBackend('proftpd', { name: 'stack-image', host: VPC.host, port: ftpPort });
    await writeHomeFile(backend, 'who.txt', 'from the image\n');
    phase('stack start');
    process.stdout.write(`container-image.test: ${phases.join(', ')}\n`);
  }, 900_000);

  afterAll(async () => {
    await writeFile(join(tmpdir(), 'ftpx-stack-image-last.log'), stackLog.join('\n')).catch(() => {});
    await stack?.stop();
    await Promise.all([backend?.stop(), dynamo?.stop(), ca?.remove()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs the worker as the image user node (1000), not root; reports the image size', async () => {
    const name = stack.task.containerName as string;
    expect(name).toBeTruthy();
    const user = await podman(['image', 'inspect', '--format', '{{.Config.User}}', IMAGE]);
    expect(user.stdout.toString().trim()).toBe('node');
    const pid = (await podman(['inspect', '--format', '{{.State.Pid}}', name])).stdout.toString().trim();
    const status = () => readFile(`/proc/${pid}/status`, 'utf8');
    // The container's PID 1 is the entrypoint script until it execs node.
    await expect
      .poll(async () => /^Name:\s+(.*)$/m.exec(await status())?.[1], { timeout: 30_000 })
      .toBe('node');
    expect(/^Uid:\s+(.*)$/m.exec(await status())?.[1]?.split(/\s+/)).toEqual([
      '1000',
      '1000',
      '1000',
      '1000',
    ]);
    const bytes = await imageSize(IMAGE, repoRoot);
    expect(bytes).toBeGreaterThan(0);
    process.stdout.write(`container-image.test: ${IMAGE} is ${(bytes / 1e6).toFixed(0)} MB\n`);
  });

  it('starts FTP, implicit FTPS and SFTP listeners from the ECS secrets; the NLB health checks go green', async () => {
    await expect
      .poll(() => [...stack.listeners.values()].map((l) => l.health()), { timeout: 60_000, interval: 500 })
      .toEqual(['healthy', 'healthy', 'healthy']);
    expect(stack.task.output()).toMatch(/listening on 0\.0\.0\.0:990 \(pool main/);
    expect(stack.task.output()).toMatch(/listening on 0\.0\.0\.0:22 /);
  });

  it('relays an FTP login, a download and an upload through the NLB listener to the backend', async () => {
    const login = `${backend.user}:${backend.password}`;
    const got = await ftpCurl([`ftp://${login}@127.0.0.1:${listener(21)}/who.txt`]);
    expect(got.stdout.toString(), got.stderr.toString()).toBe('from the image\n');
    const upload = join(dir, 'upload.txt');
    await writeFile(upload, 'into the backend\n');
    const put = await ftpCurl(['-T', upload, `ftp://${login}@127.0.0.1:${listener(21)}/upload.txt`]);
    expect(put.code, put.stderr.toString()).toBe(0);
    expect(await readFile(join(backend.homeDir, 'upload.txt'), 'utf8')).toBe('into the backend\n');
  });

  /** An API call with these headers, over the local API's TLS (its CA from the work dir). */
  async function api(method: string, path: string, headers: Record<string, string>, body?: unknown) {
    const result = await runCommand('curl', [
      '--silent',
      '--show-error',
      '--cacert',
      join(dir, 'work', 'api-ca.pem'),
      '-X',
      method,
      ...Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]),
      ...(body === undefined
        ? []
        : ['-H', 'content-type: application/json', '--data-binary', JSON.stringify(body)]),
      '-w',
      '\n%{http_code}',
      `${stack.apiUrl}${path}`,
    ]);
    const out = result.stdout.toString();
    const cut = out.lastIndexOf('\n');
    return { status: Number(out.slice(cut + 1)), body: out.slice(0, cut) };
  }

  it("authorises the registry API by the template's JWT authoriser: a token of its issuer with an ftpx scope passes; none, another audience, another key or no ftpx scope get 401; edge routes still want SigV4", async () => {
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
    const claims = { iss: JWT.issuer, aud: JWT.audience[0], sub: 'operator', scope: 'ftpx/admin' };
    const good = stack.jwtIssuer.issue(claims);
    const created = await api('POST', '/v1/pools', bearer(good), { name: 'by-jwt' });
    expect(created.status, created.body).toBe(201);
    const listed = await api('GET', '/v1/pools', bearer(good));
    expect(listed.status, listed.body).toBe(200);
    expect(listed.body).toContain('by-jwt');
    // Refused by the authoriser itself (API Gateway's reply), before the function.
    const gatewayRefusal = { status: 401, body: '{"message":"Unauthorized"}' };
    expect(await api('GET', '/v1/pools', {})).toEqual(gatewayRefusal);
    const otherAudience = stack.jwtIssuer.issue({ ...claims, aud: 'someone-else' });
    expect(await api('GET', '/v1/pools', bearer(otherAudience))).toEqual(gatewayRefusal);
    const otherKey = new LocalJwtIssuer().issue(claims);
    expect(await api('GET', '/v1/pools', bearer(otherKey))).toEqual(gatewayRefusal);
    // The authoriser lets a token without an ftpx scope through; the function then finds no principal.
    const noScope = stack.jwtIssuer.issue({ ...claims, scope: 'openid' });
    const refused = await api('GET', '/v1/pools', bearer(noScope));
    expect(refused.status).toBe(401);
    expect(refused.body).toContain('unauthorized');
    // The edge routes are IAM-authorised whatever the registry's authoriser: a JWT is no signature.
    expect((await api('POST', '/v1/resolve-backend', bearer(good), {})).status).toBe(403);
  });

  it('stops as ECS stops it: SIGTERM reaches node through podman, a running session finishes, exit 0', async () => {
    const session = await RawFtp.open(listener(21));
    await session.login(backend.user, backend.password);
    const stopping = stack.stopTask();
    await expect.poll(() => stack.task.output().includes('"msg":"draining"'), { timeout: 30_000 }).toBe(true);
    expect(await session.command('SIZE who.txt')).toBe('213 15');
    expect(await session.command('QUIT')).toMatch(/^221/);
    expect(await stopping).toBe(0);
  });
});
