import { spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseParameters } from '../../../infra/lib/parameters.js';
import { edgeWorkerConfigYaml, SECRET_FILES } from '../../../infra/lib/worker-config.js';
import { REPO_ROOT } from './template.js';

/** The edge worker's container: the Dockerfile's shape and its entrypoint (the real build: test/integration/stack/container-image.test.ts). */
const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
const ENTRYPOINT = join(REPO_ROOT, 'scripts', 'container-entrypoint.sh');

describe('Dockerfile', () => {
  it('is multi-stage on Node 22 and runs as the unprivileged node user', () => {
    // Both stages FROM a build argument whose default (what a deployment builds from) is Node 22;
    // scripts/container-base-images.sh makes local equivalents where no registry is reached.
    const stages = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((match) => match[1]);
    // The FROM lines name the build arguments, as the Dockerfile's text does.
    expect(stages).toEqual([`\${BUILD_IMAGE}`, `\${BASE_IMAGE}`]);
    const defaults = Object.fromEntries(
      [...dockerfile.matchAll(/^ARG (BUILD_IMAGE|BASE_IMAGE)=(\S+)$/gm)].map((match) => [match[1], match[2]]),
    );
    expect(defaults).toEqual({ BUILD_IMAGE: 'node:22-bookworm-slim', BASE_IMAGE: 'node:22-bookworm-slim' });
    const final = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(final).toMatch(/^USER node$/m);
    expect(final).not.toMatch(/^USER root$/m);
    expect(final).toMatch(/^ENTRYPOINT \["\/usr\/local\/bin\/ftpx-entrypoint"\]$/m);
    // Only production dependencies reach the final image.
    expect(dockerfile).toMatch(/npm prune --omit=dev/);
  });

  it('has a .dockerignore that keeps node_modules, build output and cdk.out out of the context', () => {
    const ignore = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const pattern of ['.git', '**/node_modules', '**/dist', '**/cdk.out', 'infra']) {
      expect(ignore).toContain(pattern);
    }
    // `**/data` once dropped the sources in edge-worker/ftp/data and the build failed.
    expect(ignore).not.toContain('**/data');
  });
});

describe('container entrypoint', () => {
  it('is executable', () => {
    accessSync(ENTRYPOINT, constants.X_OK);
  });

  it('writes FTPX_CONFIG_YAML privately and runs the CLI on it: the CDK app’s config passes check-config', () => {
    const cli = join(REPO_ROOT, 'dist', 'edge-worker', 'cli.js');
    expect(existsSync(cli), 'run `npm run build` first (dist/ is what the image runs)').toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'ftpx-entrypoint-'));
    const configPath = join(dir, 'ftpx.yaml');
    const parameters = parseParameters({});
    const yaml = edgeWorkerConfigYaml({
      edge: parameters.edge,
      tlsCache: parameters.tlsCache,
      loadBalancerNetwork: '10.40.0.0/16',
    });
    const run = spawnSync('sh', [ENTRYPOINT, 'check-config', '--config', configPath], {
      encoding: 'utf8',
      env: { ...process.env, FTPX_CONFIG_YAML: yaml, FTPX_APP_DIR: REPO_ROOT, FTPX_CONFIG_PATH: configPath },
      timeout: 30_000,
    });
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/OK \(2 listener\(s\), 2 pool\(s\)/);
    expect(readFileSync(configPath, 'utf8')).toBe(`${yaml}\n`);
    expect(statSync(configPath).mode & 0o777).toBe(0o600);
  });
});

describe('container entrypoint secrets', () => {
  it('writes the FTPS certificate, its key and the host key from ECS secrets, privately, and hides the variables', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ftpx-entrypoint-secrets-'));
    const secretsDir = join(dir, 'secrets');
    // A stand-in for the CLI that prints which FTPX_ variables it was started with.
    const app = join(dir, 'app');
    mkdirSync(join(app, 'dist', 'edge-worker'), { recursive: true });
    symlinkSync(join(REPO_ROOT, 'scripts'), join(app, 'scripts'));
    writeFileSync(
      join(app, 'dist', 'edge-worker', 'cli.js'),
      "console.log(Object.keys(process.env).filter((k) => k.startsWith('FTPX_')).sort().join(','));\n",
    );
    const seed = 'k'.repeat(20) + 'Z'.repeat(28);
    const run = spawnSync('sh', [ENTRYPOINT, 'serve'], {
      encoding: 'utf8',
      env: {
        ...process.env,
        FTPX_APP_DIR: app,
        FTPX_SECRETS_DIR: secretsDir,
        FTPX_TLS_CERTIFICATE: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----',
        FTPX_TLS_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----',
        FTPX_SSH_HOST_KEY_SEED: seed,
      },
      timeout: 30_000,
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe('FTPX_APP_DIR,FTPX_SECRETS_DIR');
    for (const [name, file] of Object.entries(SECRET_FILES)) {
      const path = join(secretsDir, basename(file));
      expect(statSync(path).mode & 0o777, name).toBe(0o600);
    }
    expect(readFileSync(join(secretsDir, 'tls-certificate.pem'), 'utf8')).toContain('MIIB');
    // The same seed always gives the same key, one OpenSSH accepts.
    const key = join(secretsDir, basename(SECRET_FILES.sshHostKey));
    const publicKey = spawnSync('ssh-keygen', ['-y', '-f', key], { encoding: 'utf8' });
    expect(publicKey.status, publicKey.stderr).toBe(0);
    expect(publicKey.stdout).toMatch(/^ssh-ed25519 AAAA/);
    const again = spawnSync('node', [join(REPO_ROOT, 'scripts', 'ssh-host-key-from-seed.mjs')], {
      input: seed,
      encoding: 'utf8',
    });
    expect(again.stdout).toBe(readFileSync(key, 'utf8'));
    const other = spawnSync('node', [join(REPO_ROOT, 'scripts', 'ssh-host-key-from-seed.mjs')], {
      input: `${seed}x`,
      encoding: 'utf8',
    });
    expect(other.stdout).not.toBe(again.stdout);
  });

  it('refuses a certificate without its key, naming both JSON keys', () => {
    const run = spawnSync('sh', [ENTRYPOINT, '--version'], {
      encoding: 'utf8',
      env: {
        ...process.env,
        FTPX_APP_DIR: REPO_ROOT,
        FTPX_SECRETS_DIR: mkdtempSync(join(tmpdir(), 'ftpx-entrypoint-secrets-')),
        FTPX_TLS_CERTIFICATE: 'x',
      },
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/certificate and privateKey/);
  });

  it('the Dockerfile ships the host key script where the entrypoint looks for it', () => {
    expect(dockerfile).toMatch(
      /^COPY .*scripts\/ssh-host-key-from-seed\.mjs \.\/scripts\/ssh-host-key-from-seed\.mjs$/m,
    );
  });
});

// The image is built and run (podman, offline, from the template's image asset) in
// test/integration/stack/container-image.test.ts.
