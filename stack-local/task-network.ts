import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { StackLocalError } from './template.js';

/**
 * The task's network, as awsvpc mode gives a Fargate task one: its own network namespace (and a
 * private /tmp, the container's writable layer), joined to the host by a veth pair whose two
 * addresses are the last /30 of the VPC's CIDR block: the host side stands for the VPC (the load
 * balancer, the API, the backends), the task side is the task's private IP. Nothing else is routed.
 */
export interface TaskAddresses {
  host: string;
  task: string;
}

export function taskAddressesOf(vpcCidr: string): TaskAddresses {
  const match = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(vpcCidr);
  if (!match) throw new StackLocalError(`the VPC CidrBlock ${vpcCidr} is not an IPv4 network`);
  const [a, b, c, d, bits] = match.slice(1).map(Number) as [number, number, number, number, number];
  const base = ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
  const size = 2 ** (32 - bits);
  const last30 = (base + size - 4) >>> 0;
  const text = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  return { host: text(last30 + 1), task: text(last30 + 2) };
}

export interface TaskNetwork {
  addresses: TaskAddresses;
  /** The namespace's file, for a container to join (`podman run --network ns:PATH`). */
  netnsPath: string;
  /** Runs a command in the task's network and mount namespaces; its pid is the command's own. */
  run(command: string[], env: Record<string, string>): ChildProcess;
  /** Sets a kernel parameter of the task's network namespace (ECS's systemControls, `net.*` only). */
  sysctl(key: string, value: string): void;
  /** Writes a file the task sees at `path` (its own /tmp is not the host's). */
  writeFile(path: string, content: string): void;
  remove(): void;
}

/**
 * Makes the namespaces (held by a sleeping process, with a fresh tmpfs on /tmp and loopback up) and
 * the veth pair, before anything runs in them: the host side must exist for the API to listen on it.
 */
export async function createTaskNetwork(addresses: TaskAddresses): Promise<TaskNetwork> {
  const ownNet = readlinkSync('/proc/self/ns/net');
  const holder = spawn(
    'unshare',
    [
      '--net',
      '--mount',
      '--fork',
      '--',
      'sh',
      '-c',
      'mount -t tmpfs -o mode=1777 tmpfs /tmp && ip link set lo up && exec sleep infinity',
    ],
    { stdio: 'ignore', detached: true },
  );
  const killOnExit = () => holder.kill('SIGKILL');
  process.once('exit', killOnExit);
  const unsharePid = holder.pid;
  if (unsharePid === undefined) throw new StackLocalError('unshare did not start (is util-linux installed?)');
  let pid: number | undefined;
  for (let i = 0; ; i++) {
    // The sleeping child holds the namespaces once its /tmp is mounted (it then runs sleep).
    try {
      const child = Number(
        readFileSync(`/proc/${unsharePid}/task/${unsharePid}/children`, 'utf8').trim().split(/\s+/)[0],
      );
      if (
        child &&
        readlinkSync(`/proc/${child}/ns/net`) !== ownNet &&
        readFileSync(`/proc/${child}/comm`, 'utf8').trim() === 'sleep'
      ) {
        pid = child;
        break;
      }
    } catch {}
    if (holder.exitCode !== null || i > 500) {
      holder.kill('SIGKILL');
      throw new StackLocalError(
        'the task network namespace could not be made (unshare --net --mount needs root)',
      );
    }
    await delay(10);
  }
  const hostIf = `ftpxl${randomBytes(3).toString('hex')}`;
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const inTask = (...args: string[]) =>
    execFileSync('nsenter', [`--net=/proc/${pid}/ns/net`, 'ip', ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  try {
    ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', String(pid));
    ip('addr', 'add', `${addresses.host}/30`, 'dev', hostIf);
    ip('link', 'set', hostIf, 'up');
    inTask('addr', 'add', `${addresses.task}/30`, 'dev', 'eth0');
    inTask('link', 'set', 'eth0', 'up');
  } catch (err) {
    holder.kill('SIGKILL');
    throw new StackLocalError(`the task network could not be set up: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return {
    addresses,
    netnsPath: `/proc/${pid}/ns/net`,
    run: (command, env) =>
      spawn('nsenter', [`--net=/proc/${pid}/ns/net`, `--mount=/proc/${pid}/ns/mnt`, '--', ...command], {
        env,
        cwd: '/',
        stdio: ['ignore', 'pipe', 'pipe'],
        // Signals reach the task only as ECS sends them (stop(): SIGTERM, then SIGKILL).
        detached: true,
      }),
    sysctl: (key, value) => {
      if (!/^net\.[a-z0-9_.]+$/.test(key))
        throw new StackLocalError(`the task's systemControls ${key} is not a network namespace parameter`);
      execFileSync('nsenter', [`--net=/proc/${pid}/ns/net`, 'sysctl', '-q', '-w', `${key}=${value}`], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
    },
    // /proc/PID/root resolves paths in that process's mount namespace.
    writeFile: (path, content) => {
      const inside = `/proc/${pid}/root${path}`;
      mkdirSync(dirname(inside), { recursive: true });
      writeFileSync(inside, content, { mode: 0o644 });
    },
    remove: () => {
      try {
        ip('link', 'del', hostIf);
      } catch {
        // Gone with the namespace already.
      }
      holder.kill('SIGKILL');
      process.off('exit', killOnExit);
      if (pid !== undefined) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {}
      }
    },
  };
}
