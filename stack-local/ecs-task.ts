import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { SecretsFile } from './secrets-file.js';
import type { TaskNetwork } from './task-network.js';
import { type Cfn, StackLocalError } from './template.js';

/** Container definition keys the local task runs; any other fails the run by name. */
const CONTAINER_KEYS = new Set([
  'Name',
  'Image',
  'Command',
  'EntryPoint',
  'Environment',
  'Secrets',
  'PortMappings',
  'StopTimeout',
  'Essential',
  'LogConfiguration',
  'HealthCheck',
  'SystemControls',
]);

export interface LocalTaskOptions {
  container: Cfn;
  /** The Dockerfile directory the image is built from (its asset) and the repository it came from. */
  image: { repoRoot: string; dockerfile: string };
  secrets: SecretsFile;
  network: TaskNetwork;
  /** Extra environment the platform gives a task (credentials of the task role, the metadata URI, CA trust). */
  platformEnv: Record<string, string>;
  nodeBinDir: string;
  /**
   * Run the task from this container image (podman, in the task's network namespace) instead of the
   * repository's `dist/` with the image's ENTRYPOINT script: see container-image.ts for building it
   * from the template's image asset. `files` are the host files the task must see at those paths.
   */
  containerImage?: { name: string; files: Record<string, string>; podmanEnv: Record<string, string> };
  log: (line: string) => void;
}

export interface LocalTask {
  address: string;
  /** ECS's stop: SIGTERM to the container's main process, SIGKILL after StopTimeout. Resolves with the exit code. */
  stop(): Promise<number | null>;
  exited: Promise<number | null>;
  output(): string;
  /** The podman container's name when the task runs from an image. */
  containerName?: string;
}

/**
 * The image's ENTRYPOINT as a file of the repository: the Dockerfile's ENTRYPOINT names a path in
 * the image, and its COPY line says which repository file went there. The image's WORKDIR (/app)
 * is the repository itself (its `dist/`, built by `npm run build`).
 */
function entrypointOf(repoRoot: string, dockerfile: string): string {
  const text = readFileSync(dockerfile, 'utf8');
  const entry = /^ENTRYPOINT \["([^"]+)"\]$/m.exec(text)?.[1];
  if (!entry) throw new StackLocalError(`${dockerfile}: no exec-form ENTRYPOINT the local stack can run`);
  const copy = [...text.matchAll(/^COPY (?:--\S+ )*(\S+) (\S+)$/gm)].find((m) => m[2] === entry);
  if (!copy)
    throw new StackLocalError(
      `${dockerfile}: the ENTRYPOINT ${entry} is not a file COPY'd from the build context`,
    );
  const file = join(repoRoot, copy[1] as string);
  if (!existsSync(file)) throw new StackLocalError(`${file} (the image's ENTRYPOINT) does not exist`);
  return file;
}

export async function startTask(options: LocalTaskOptions): Promise<LocalTask> {
  const { container } = options;
  for (const key of Object.keys(container)) {
    if (!CONTAINER_KEYS.has(key))
      throw new StackLocalError(`container definition key ${key} is not understood by the local stack`);
  }
  if (container.EntryPoint)
    throw new StackLocalError('a container EntryPoint override is not understood by the local stack');
  if (container.HealthCheck)
    throw new StackLocalError('a container HealthCheck is not understood by the local stack');
  // Namespaced kernel parameters, set in the task's network namespace as Fargate sets them in awsvpc mode.
  for (const { Namespace, Value } of (container.SystemControls ?? []) as {
    Namespace: string;
    Value: string;
  }[])
    options.network.sysctl(String(Namespace), String(Value));
  const taskEnv: Record<string, string> = { ...options.platformEnv };
  for (const { Name, Value } of (container.Environment ?? []) as { Name: string; Value: string }[])
    taskEnv[Name] = String(Value);
  for (const { Name, ValueFrom } of (container.Secrets ?? []) as { Name: string; ValueFrom: string }[]) {
    taskEnv[Name] = options.secrets.read(ValueFrom);
  }
  const command = (container.Command ?? []) as string[];
  const containerName = options.containerImage
    ? `ftpx-stack-local-${process.pid}-${Date.now().toString(36)}`
    : undefined;
  let child: ChildProcess;
  if (options.containerImage && containerName) {
    child = runContainer(options.containerImage, containerName, options.network, taskEnv, command);
  } else {
    const env: Record<string, string> = {
      PATH: `${options.nodeBinDir}:/usr/sbin:/usr/bin:/sbin:/bin`,
      HOME: '/tmp',
      FTPX_APP_DIR: options.image.repoRoot,
      ...taskEnv,
    };
    const entrypoint = entrypointOf(options.image.repoRoot, options.image.dockerfile);
    child = options.network.run(['sh', entrypoint, ...command], env);
  }
  const removeContainer = () => {
    if (containerName && options.containerImage)
      execFile(
        'podman',
        ['rm', '--force', '--time', '0', containerName],
        { env: { ...process.env, ...options.containerImage.podmanEnv } },
        () => {},
      );
  };
  let output = '';
  const killOnExit = () => {
    child.kill('SIGKILL');
    removeContainer();
  };
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8');
    stream?.on('data', (text: string) => {
      output += text;
      if (output.length > 4_000_000) output = output.slice(-2_000_000);
      for (const line of text.split('\n')) if (line) options.log(`[task] ${line}`);
    });
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stopTimeoutMs = Number(container.StopTimeout ?? 30) * 1000;
  return {
    address: options.network.addresses.task,
    exited,
    output: () => output,
    ...(containerName ? { containerName } : {}),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      // nsenter, sh and the entrypoint all exec: this pid is the container's main process, node.
      // From an image, `podman run` forwards the signal to the container's PID 1 (the entrypoint
      // execs node), and exits with its code.
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        removeContainer();
      }, stopTimeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/**
 * The task as ECS runs it: the image's ENTRYPOINT and the container's command, as the image's
 * user, in the task's network namespace (awsvpc); the environment and secrets are handed to podman
 * in its own environment (`--env NAME`), so no secret is on a command line.
 */
function runContainer(
  image: { name: string; files: Record<string, string>; podmanEnv: Record<string, string> },
  name: string,
  network: TaskNetwork,
  env: Record<string, string>,
  command: string[],
): ChildProcess {
  const args = [
    'run',
    '--rm',
    '--name',
    name,
    '--network',
    `ns:${network.netnsPath}`,
    // ECS's stop is ours (stop()): podman passes our SIGTERM on.
    '--sig-proxy=true',
    ...Object.keys(env).flatMap((key) => ['--env', key]),
    ...Object.entries(image.files).flatMap(([inside, host]) => ['--volume', `${host}:${inside}:ro`]),
    image.name,
    ...command,
  ];
  return spawn('podman', args, {
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...image.podmanEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
}

/** ECS's task metadata endpoint (v4): what `--masquerade-address ecs-task:private` reads. */
export async function startTaskMetadata(
  host: string,
  taskAddress: string,
): Promise<{ uri: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.url === '/v4/local/task') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          Containers: [{ Networks: [{ NetworkMode: 'awsvpc', IPv4Addresses: [taskAddress] }] }],
        }),
      );
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, host, () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    uri: `http://${host}:${port}/v4/local`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
