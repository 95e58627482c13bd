import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import dynalite from 'dynalite';
import { type Table, unixSocketEndpoint } from '../../functions/core/store/index.js';
import { ensurePrivateDir } from './private-dir.js';

export interface EmbeddedStoreServer {
  /** The DynamoDB-API endpoint to give the AWS SDK (`unix:/path/to/dynamodb.sock`). */
  endpoint: string;
  /**
   * Makes `client` the owner's: its requests carry a token only this process knows. A request
   * without it comes from someone else (another ftpx on the socket, an operator's command, a test
   * reading the store).
   */
  markOwnRequests(client: Table['client']): void;
  /** Whether anyone but the owner's clients has made a request since the store started. */
  readonly sharedSinceStart: boolean;
  close(): Promise<void>;
}

/** The request header by which the owning process's clients tell themselves apart. */
const OWNER_HEADER = 'x-ftpx-store-owner';

/** Longest socket path the kernel takes (sun_path is 108 bytes on Linux, with the NUL). */
const MAX_SOCKET_PATH = 107;

/** How long close() lets requests in flight finish before it cuts their connections. */
const CLOSE_GRACE_MS = 5_000;

/**
 * The embedded store: dynalite serving the DynamoDB API, persisted with LevelDB under
 * `<dataDir>/dynamodb`. Everything above it talks to it through the real AWS SDK, so moving to
 * LocalStack or AWS is only a different `store.endpoint`.
 *
 * dynalite has no authentication, so it listens on no TCP port (any local user can connect to
 * loopback): it listens on a Unix socket in a fresh 0700 directory under dataDir (or the temporary
 * directory when there is no dataDir, or when the path would be too long for a socket), which only
 * this user can enter.
 */
export async function startEmbeddedStore(given: string | undefined): Promise<EmbeddedStoreServer> {
  // The socket's endpoint must name an absolute path whatever the working directory of its users.
  const dataDir = given !== undefined ? resolve(given) : undefined;
  let path: string | undefined;
  if (dataDir !== undefined) {
    await ensurePrivateDir(dataDir);
    path = join(dataDir, 'dynamodb');
    await ensurePrivateDir(path);
  }
  if (dataDir !== undefined) await removeStaleSocketDirs(dataDir);
  // mkdtemp creates the directory 0700.
  let socketDir =
    dataDir !== undefined
      ? await mkdtemp(join(dataDir, 'store-'))
      : await mkdtemp(join(tmpdir(), 'ftpx-store-'));
  let socketPath = join(socketDir, 'dynamodb.sock');
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
    await rm(socketDir, { recursive: true, force: true });
    socketDir = await mkdtemp(join(tmpdir(), 'ftpx-store-'));
    socketPath = join(socketDir, 'dynamodb.sock');
  }
  const server = dynalite({
    ...(path ? { path } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  // Requests still being answered when close() is called: dynalite closes LevelDB as soon as its
  // connections are gone, and an action cut off between two of its reads then throws "Database is
  // closed" from a stream nobody listens to, which takes the process down.
  let answering = 0;
  let allAnswered: (() => void) | undefined;
  const ownerToken = randomBytes(16).toString('hex');
  let shared = false;
  server.on('request', (request: { headers: Record<string, unknown> }, response: NodeJS.EventEmitter) => {
    if (!shared && request.headers[OWNER_HEADER] !== ownerToken) shared = true;
    answering++;
    response.once('close', () => {
      answering--;
      if (answering === 0) allAnswered?.();
    });
  });
  try {
    await new Promise<void>((listening, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        listening();
      });
    });
  } catch (err) {
    await rm(socketDir, { recursive: true, force: true });
    throw err;
  }
  return {
    endpoint: unixSocketEndpoint(socketPath),
    markOwnRequests: (client) => {
      client.middlewareStack.add(
        (next) => (args) => {
          const request = args.request as { headers?: Record<string, string> };
          if (request.headers) request.headers[OWNER_HEADER] = ownerToken;
          return next(args);
        },
        { step: 'build', name: 'ftpxEmbeddedStoreOwner' },
      );
    },
    get sharedSinceStart() {
      return shared;
    },
    close: async () => {
      await new Promise<void>((closed) => {
        server.close(() => closed());
        server.closeIdleConnections?.();
        if (answering === 0) {
          server.closeAllConnections?.();
          return;
        }
        const giveUp = setTimeout(() => server.closeAllConnections?.(), CLOSE_GRACE_MS);
        allAnswered = () => {
          clearTimeout(giveUp);
          server.closeAllConnections?.();
        };
      });
      await rm(socketDir, { recursive: true, force: true });
    },
  };
}

/**
 * `store-*` directories a process that died without closing left behind: their socket no longer
 * answers (ECONNREFUSED, or gone). A live one, another process's, is left alone.
 */
async function removeStaleSocketDirs(dataDir: string): Promise<void> {
  const names = (await readdir(dataDir)).filter((name) => /^store-[A-Za-z0-9]{6}$/.test(name));
  for (const name of names) {
    const socketDir = join(dataDir, name);
    if (!(await answers(join(socketDir, 'dynamodb.sock')))) {
      await rm(socketDir, { recursive: true, force: true });
    }
  }
}

function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    // Only a refused or missing socket is stale; a timeout may be a busy live process.
    socket.once('timeout', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', (err: NodeJS.ErrnoException) =>
      resolve(!(err.code === 'ECONNREFUSED' || err.code === 'ENOENT')),
    );
  });
}
