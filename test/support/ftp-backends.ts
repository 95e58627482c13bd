import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitForBanner } from './ftp-banner.js';
import { freePort } from './ports.js';
import { spawnServer } from './process.js';
import { launchProftpd } from './proftpd.js';
import { launchPureFtpd } from './pure-ftpd.js';
import type { BackendTlsOptions, Launcher, ServerLaunch } from './server-launch.js';
import { launchVsftpd } from './vsftpd.js';

export { makeRandomFile, sha256File } from './files.js';
export { writeHomeFile } from './home-files.js';

export type FtpBackendKind = 'proftpd' | 'vsftpd' | 'pure-ftpd';

export interface FtpBackend {
  kind: FtpBackendKind;
  /** e.g. 'proftpd-1'; appears in the 220 greeting. */
  name: string;
  host: string;
  port: number;
  /** `ftp://127.0.0.1:${port}` */
  url: string;
  user: string;
  password: string;
  /** The login's FTP root (the server chroots there, so it is `/` over FTP). */
  homeDir: string;
  /** The server's transfer log; empty until a transfer has finished. */
  transferLog: string;
  /** The server's master process (ProFTPD forks a session process under it per login). */
  pid: number;
  /** Idempotent: kills the server and all its sessions, then removes its temp dir. */
  stop(): Promise<void>;
}

export interface StartFtpBackendOptions {
  /** Defaults to `${kind}-${n}`, unique within this process. */
  name?: string;
  /** Where to listen; '127.0.0.1' by default, '::1' for an IPv6 backend. */
  host?: string;
  /** The address the server names in its 227 replies instead of its own (a misconfigured NAT); ProFTPD only. */
  passiveAddress?: string;
  /** The server's own idle timeout in seconds (TimeoutIdle); ProFTPD only. */
  idleTimeoutSeconds?: number;
  /** More lines for the server's config, e.g. a `<Limit>`; ProFTPD only. */
  extraConfig?: string;
  /** Listen on this port (e.g. to restart a stopped backend where it was) instead of a free one. */
  port?: number;
  /** FTPS (ProFTPD and vsftpd): explicit unless `implicit`; `url` is then ftps://. */
  tls?: BackendTlsOptions;
}

const launchers: Record<FtpBackendKind, Launcher> = {
  proftpd: launchProftpd,
  vsftpd: launchVsftpd,
  'pure-ftpd': launchPureFtpd,
};

const DEFAULT_HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 10_000;
/** Another process may take the free port before the server binds it; a new port is cheap. */
const ATTEMPTS = 3;

let started = 0;

/** The server exited while starting, which a port taken by someone else also causes. */
class ServerDied extends Error {}

/** Starts a real FTP server on a free loopback port, in a fresh temp dir, and waits for its greeting. */
export async function startFtpBackend(
  kind: FtpBackendKind,
  options: StartFtpBackendOptions = {},
): Promise<FtpBackend> {
  started += 1;
  const name = options.name ?? `${kind}-${started}`;
  let lastError: unknown;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    try {
      return await startOnce(kind, name, options);
    } catch (error) {
      lastError = error;
      if (!(error instanceof ServerDied)) break;
    }
  }
  throw lastError;
}

async function startOnce(
  kind: FtpBackendKind,
  name: string,
  options: StartFtpBackendOptions,
): Promise<FtpBackend> {
  const HOST = options.host ?? DEFAULT_HOST;
  const port = options.port ?? (await freePort(HOST));
  const workDir = await mkdtemp(join(tmpdir(), `ftpx-${kind}-`));
  let launch: ServerLaunch;
  try {
    // mkdtemp makes the dir 0700; the servers drop to unprivileged users that must reach their homes.
    await chmod(workDir, 0o755);
    launch = await launchers[kind]({
      name,
      host: HOST,
      port,
      workDir,
      ...(options.passiveAddress ? { passiveAddress: options.passiveAddress } : {}),
      ...(options.idleTimeoutSeconds ? { idleTimeoutSeconds: options.idleTimeoutSeconds } : {}),
      ...(options.extraConfig ? { extraConfig: options.extraConfig } : {}),
      ...(options.tls ? { tls: options.tls } : {}),
    });
  } catch (error) {
    await rm(workDir, { recursive: true, force: true });
    throw error;
  }

  const server = spawnServer(launch.command, launch.args, workDir);
  const died = () => {
    const status = server.exitStatus();
    return status === undefined ? undefined : `${kind} ${name} exited (${status})`;
  };
  try {
    const greeting = await waitForBanner(HOST, port, READY_TIMEOUT_MS, died, options.tls?.implicit ?? false);
    // A dying server's port may be answered by another test's server; only our own greeting counts.
    if (!greeting.includes(name) || died() !== undefined) {
      throw new ServerDied(`port ${port} answered with someone else's greeting: ${greeting.trim()}`);
    }
  } catch (error) {
    const retryable = error instanceof ServerDied || died() !== undefined;
    const message = error instanceof Error ? error.message : String(error);
    const logs = await describeLogs([server.outputFile, ...launch.logFiles]);
    await server.stop();
    const failure = `${kind} ${name} did not come up on ${HOST}:${port}: ${message}\n${logs}`;
    throw retryable ? new ServerDied(failure) : new Error(failure);
  }

  return {
    kind,
    name,
    host: HOST,
    port,
    url: `${options.tls ? 'ftps' : 'ftp'}://${HOST.includes(':') ? `[${HOST}]` : HOST}:${port}`,
    user: launch.user,
    password: launch.password,
    homeDir: launch.homeDir,
    transferLog: launch.transferLog,
    pid: server.pid,
    stop: () => server.stop(),
  };
}

async function describeLogs(files: string[]): Promise<string> {
  const parts = await Promise.all(
    files.map(async (file) => {
      const text = await readFile(file, 'utf8').catch(() => '(missing)');
      return `--- ${file}\n${text.trim() || '(empty)'}`;
    }),
  );
  return parts.join('\n');
}
