import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseParameters } from '../../../infra/lib/parameters.js';
import { edgeWorkerConfigYaml } from '../../../infra/lib/worker-config.js';
import { REPO_ROOT } from './template.js';

/** The edge worker's container: the Dockerfile's shape, its entrypoint, and a real build where Docker exists. */
const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
const ENTRYPOINT = join(REPO_ROOT, 'scripts', 'container-entrypoint.sh');

function dockerState(): { ok: true } | { ok: false; reason: string } {
  const info = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  if (info.error) return { ok: false, reason: `docker is not installed (${info.error.message})` };
  if (info.status !== 0)
    return { ok: false, reason: `docker info failed: ${info.stderr.trim().split('\n')[0]}` };
  return { ok: true };
}
const docker = dockerState();

describe('Dockerfile', () => {
  it('is multi-stage on Node 22 and runs as the unprivileged node user', () => {
    const stages = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((match) => match[1]);
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const image of stages) expect(image).toMatch(/^node:22[-.]/);
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
    expect(run.stdout).toMatch(/OK \(1 listener\(s\), 1 pool\(s\)/);
    expect(readFileSync(configPath, 'utf8')).toBe(`${yaml}\n`);
    expect(statSync(configPath).mode & 0o777).toBe(0o600);
  });
});

describe('container image build', () => {
  it.skipIf(!docker.ok)(
    `builds and runs as a non-root user${docker.ok ? '' : ` (skipped, not passed: ${docker.reason})`}`,
    () => {
      const tag = `ftpx-test:${process.pid}`;
      const build = spawnSync('docker', ['build', '-t', tag, REPO_ROOT], {
        encoding: 'utf8',
        timeout: 900_000,
      });
      expect(build.status, build.stderr).toBe(0);
      try {
        const version = spawnSync('docker', ['run', '--rm', tag, '--version'], { encoding: 'utf8' });
        expect(version.status, version.stderr).toBe(0);
        expect(version.stdout).toMatch(/\d+\.\d+\.\d+/);
        const uid = spawnSync('docker', ['run', '--rm', '--entrypoint', 'id', tag, '-u'], {
          encoding: 'utf8',
        });
        expect(uid.stdout.trim()).not.toBe('0');
      } finally {
        spawnSync('docker', ['rmi', '-f', tag]);
      }
    },
    1_000_000,
  );
});
