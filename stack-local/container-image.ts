import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { loadSynthesizedStack, StackLocalError } from './template.js';

/**
 * The template's container image, built with podman from its asset in cdk.out (the build context
 * `cdk deploy` would send to Docker, .dockerignore applied), for the native architecture: the
 * template asks for arm64, which this machine can only emulate.
 */
export interface ImageBuild {
  cdkOut: string;
  stackName?: string;
  repoRoot: string;
  tag: string;
  /** e.g. BASE_IMAGE and BUILD_IMAGE for local base images (scripts/container-base-images.sh). */
  buildArgs?: Record<string, string>;
  /** host path → path in the build's RUN steps (an npm cache for an offline build). */
  volumes?: Record<string, string>;
  /** Builds without any network (the default): everything must come from the bases and volumes. */
  network?: 'none' | 'host';
  timeoutMs?: number;
}

/** Podman's settings for these machines (scripts/podman/containers.conf) unless CONTAINERS_CONF chooses others. */
export function podmanEnv(repoRoot: string): Record<string, string> {
  return {
    CONTAINERS_CONF: process.env.CONTAINERS_CONF ?? join(repoRoot, 'scripts', 'podman', 'containers.conf'),
  };
}

export async function buildTaskImage(build: ImageBuild): Promise<{ tag: string; output: string }> {
  const { imageAssets } = loadSynthesizedStack(build.cdkOut, build.stackName);
  const assets = [...imageAssets.values()];
  const [asset] = assets;
  if (!asset || assets.length > 1)
    throw new StackLocalError(
      `${build.cdkOut}: the local stack builds exactly one image asset (found ${assets.length})`,
    );
  const args = [
    'build',
    '--network',
    build.network ?? 'none',
    '--layers',
    '--tag',
    build.tag,
    '--file',
    join(asset.directory, asset.dockerFile),
    ...Object.entries(build.buildArgs ?? {}).flatMap(([key, value]) => ['--build-arg', `${key}=${value}`]),
    ...Object.entries(build.volumes ?? {}).flatMap(([host, inside]) => ['--volume', `${host}:${inside}`]),
    asset.directory,
  ];
  const result = await runProcess('podman', args, {
    env: { ...process.env, ...podmanEnv(build.repoRoot) },
    timeoutMs: build.timeoutMs ?? 900_000,
  });
  if (result.code !== 0)
    throw new StackLocalError(
      `podman build of ${asset.directory} failed (exit ${result.code}):\n${result.output.slice(-4000)}`,
    );
  return { tag: build.tag, output: result.output };
}

/** The image's size in bytes, as podman counts it (all its layers). */
export async function imageSize(tag: string, repoRoot: string): Promise<number> {
  const result = await runProcess('podman', ['image', 'inspect', '--format', '{{.Size}}', tag], {
    env: { ...process.env, ...podmanEnv(repoRoot) },
    timeoutMs: 60_000,
  });
  const size = Number(result.output.trim());
  if (result.code !== 0 || !Number.isFinite(size))
    throw new StackLocalError(`podman image inspect ${tag} failed: ${result.output.slice(-2000)}`);
  return size;
}

/** Runs podman to completion; stdout and stderr together, the last 16 MB of them. */
function runProcess(
  command: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { env: options.env, timeout: options.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        resolve({ code, output: `${stdout}${stderr}` });
      },
    );
  });
}
