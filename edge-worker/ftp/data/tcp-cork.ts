import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * TCP_CORK for data connections, through ftpx's own addon (native/tcp-cork, built by `npm install`):
 * Node offers no TCP_CORK. Corked before its last write and closed corked, a data connection's last
 * bytes and its FIN leave in one segment, as they do from ProFTPD and mod_proxy (both cork data
 * sockets), so that a client which looks for the end of the data right after its last read (Perl's
 * Net::FTP) always finds it there. Without the addon (it did not build, or not Linux), data
 * connections are closed right behind the last write without it (docs/operating.md).
 */
interface TcpCorkBinding {
  setCork(fd: number, on: boolean): void;
  getCork(fd: number): boolean;
}

/** The addon's exports: TCP_CORK, and the splice(2) relay where it was built with it (splice-relay.ts). */
export type DataSocketAddon = TcpCorkBinding & Partial<Record<'spliceStart' | 'spliceCancel', unknown>>;

const ADDON = join('native', 'tcp-cork', 'build', 'Release', 'tcp_cork.node');

/** Whether data connections are corked, and why not when they are not (for the start-up log line). */
export type TcpCorkStatus = { available: true; path: string } | { available: false; reason: string };

let binding: TcpCorkBinding | undefined;
let status: TcpCorkStatus | undefined;

/** Finds the addon above this file: the sources run from edge-worker/, the build from dist/edge-worker/. */
function findAddon(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 6; depth++) {
    const candidate = join(dir, ADDON);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

function load(): TcpCorkStatus {
  if (status) return status;
  if (process.platform !== 'linux') {
    status = { available: false, reason: `TCP_CORK is Linux's; this is ${process.platform}` };
    return status;
  }
  const path = findAddon();
  if (!path) {
    status = { available: false, reason: `${ADDON} was not built (npm install builds it with node-gyp)` };
    return status;
  }
  try {
    binding = createRequire(import.meta.url)(path) as TcpCorkBinding;
    status = { available: true, path };
  } catch (err) {
    status = { available: false, reason: `${path} does not load: ${(err as Error).message}` };
  }
  return status;
}

export function tcpCorkStatus(): TcpCorkStatus {
  return load();
}

/** The loaded addon, for the splice relay that shares it; undefined when it is not available. */
export function dataSocketAddon(): DataSocketAddon | undefined {
  return load().available ? binding : undefined;
}

/** The file descriptor under a plain or TLS socket, undefined once it is closed. */
export function socketFd(socket: Socket): number | undefined {
  return fdOf(socket);
}

/** The file descriptor under a TCP socket or a TLS socket on one (Node keeps it on the handle). */
function fdOf(socket: Socket): number | undefined {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } | null })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/**
 * Corks `socket` (or the TCP socket under a TLS one): the kernel holds what is written from now on
 * until the socket is closed or shut down (whose FIN then goes with it) or uncorked. False when it
 * could not: no addon, or no descriptor (the socket is already closed).
 */
export function cork(socket: Socket): boolean {
  return setCork(socket, true);
}

/** Sends what a corked socket holds now (the kernel would after 200 ms). */
export function uncork(socket: Socket): boolean {
  return setCork(socket, false);
}

/** Whether `socket` is corked now (for the tests); undefined without the addon or a descriptor. */
export function isCorked(socket: Socket): boolean | undefined {
  const fd = fdOf(socket);
  if (!load().available || !binding || fd === undefined) return undefined;
  return binding.getCork(fd);
}

function setCork(socket: Socket, on: boolean): boolean {
  if (!load().available || !binding) return false;
  const fd = fdOf(socket);
  if (fd === undefined) return false;
  try {
    binding.setCork(fd, on);
    return true;
  } catch {
    // A socket the peer has just reset refuses options; its close is all that is left to do.
    return false;
  }
}
