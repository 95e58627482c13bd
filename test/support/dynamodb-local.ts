import { accessSync, constants, existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, readlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { createDynamoDbClient } from '../../functions/core/store/dynamodb-client.js';
import { repoRoot } from './binaries.js';
import { freePort } from './ports.js';
import { spawnServer } from './process.js';

/** Where scripts/install-test-deps.sh puts DynamoDB Local (the `emulator/` folder of its npm package). */
export const DYNAMODB_LOCAL_DIR = `${repoRoot}.cache/dynamodb-local`;

const JAR = join(DYNAMODB_LOCAL_DIR, 'DynamoDBLocal.jar');
const NATIVE_LIBS = join(DYNAMODB_LOCAL_DIR, 'DynamoDBLocal_lib');
const INSTALL_HINT = 'run `bash scripts/install-test-deps.sh`';
/** A cold JVM answers after ~1-3 s; far more on a machine busy with the rest of the suite. */
const READY_TIMEOUT_MS = 45_000;
const START_ATTEMPTS = 3;

export interface DynamoDbLocal {
  /** The DynamoDB-API endpoint to give the AWS SDK (loopback). */
  endpoint: string;
  /** Idempotent; also done for any instance still running when the test process exits. */
  stop(): Promise<void>;
}

class PortTaken extends Error {}

/**
 * Starts DynamoDB Local (AWS's emulator, from .cache/dynamodb-local) in memory on a free port, in its
 * own process group through spawnServer (killed by stop(), and by spawnServer's hooks when the test
 * process exits or gets SIGINT, SIGTERM or SIGHUP), and resolves once it answers ListTables on that
 * port. One database for every client whatever its credentials (`-sharedDb`), no telemetry.
 */
export async function startDynamoDbLocal(): Promise<DynamoDbLocal> {
  const java = findJava();
  if (!existsSync(JAR) || !existsSync(NATIVE_LIBS)) {
    throw new Error(`DynamoDB Local not found in ${DYNAMODB_LOCAL_DIR}; ${INSTALL_HINT}`);
  }
  let lastError: unknown;
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    try {
      return await startOnce(java);
    } catch (error) {
      // Another process took the free port before the JVM bound it: try another one.
      if (!(error instanceof PortTaken)) throw error;
      lastError = error;
    }
  }
  throw lastError;
}

async function startOnce(java: string): Promise<DynamoDbLocal> {
  const port = await freePort();
  const workDir = await mkdtemp(join(tmpdir(), 'ftpx-dynamodb-local-'));
  const server = spawnServer(
    java,
    [
      // A small heap and the serial collector keep it at ~210 MB resident next to the rest of the
      // suite; the C1 compiler alone halves its CPU time over runs this short.
      '-Xmx256m',
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      `-Djava.library.path=${NATIVE_LIBS}`,
      '-jar',
      JAR,
      '-inMemory',
      '-sharedDb',
      '-disableTelemetry',
      '-port',
      String(port),
    ],
    workDir,
  );
  const endpoint = `http://127.0.0.1:${port}`;
  const client = createDynamoDbClient({ endpoint, region: 'us-east-1' });
  try {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      const status = server.exitStatus();
      const output = await readFile(server.outputFile, 'utf8').catch(() => '');
      // A failed start leaves the JVM running (only its main thread dies): read what it said.
      if (/BindException|Failed to bind/.test(output)) {
        throw new PortTaken(`DynamoDB Local could not bind port ${port}:\n${output.trim()}`);
      }
      if (status !== undefined || output.includes('Exception in thread "main"')) {
        const what = status === undefined ? 'failed' : `exited (${status})`;
        const message = `DynamoDB Local ${what} on port ${port}:\n${output.trim()}`;
        throw new Error(status?.startsWith('spawn') ? `${message}\n${INSTALL_HINT}` : message);
      }
      // DynamoDB Local has no bind-address option (it listens on every interface): make sure the
      // listener on the port is this JVM, not a server that got the port in the meantime.
      if ((await listensOn(server.pid, port)) && (await answers(client))) break;
      if (Date.now() > deadline) {
        throw new Error(
          `DynamoDB Local did not answer on port ${port} within ${READY_TIMEOUT_MS} ms:\n${output.trim()}`,
        );
      }
      await delay(100);
    }
  } catch (error) {
    await server.stop();
    throw error;
  } finally {
    client.destroy();
  }
  return { endpoint, stop: () => server.stop() };
}

async function answers(client: ReturnType<typeof createDynamoDbClient>): Promise<boolean> {
  try {
    const { TableNames } = await client.send(new ListTablesCommand({}));
    return Array.isArray(TableNames);
  } catch {
    return false;
  }
}

/**
 * Whether process `pid` holds a listening TCP socket on `port` (Linux: the socket inodes of
 * /proc/net/tcp{,6} against the process's file descriptors). True when /proc cannot tell.
 */
async function listensOn(pid: number, port: number): Promise<boolean> {
  const portHex = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  let readable = false;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    readable = true;
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address is HEXIP:HEXPORT, st 0A is LISTEN, the inode is the tenth field.
      if (fields[1]?.endsWith(`:${portHex}`) && fields[3] === '0A' && fields[9]) inodes.add(fields[9]);
    }
  }
  if (!readable) return true;
  if (inodes.size === 0) return false;
  // Unreadable when the process is gone: the caller then sees its exit status.
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => []);
  for (const fd of fds) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode !== undefined && inodes.has(inode)) return true;
  }
  return false;
}

/** `$JAVA_HOME/bin/java`, else `java` on the PATH; throws naming the install script when neither exists. */
function findJava(): string {
  const candidates = [
    ...(process.env.JAVA_HOME ? [join(process.env.JAVA_HOME, 'bin', 'java')] : []),
    ...(process.env.PATH ?? '')
      .split(delimiter)
      .filter(Boolean)
      .map((dir) => join(dir, 'java')),
  ];
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Try the next one.
    }
  }
  throw new Error(`DynamoDB Local needs Java, and no java was found (JAVA_HOME, PATH); ${INSTALL_HINT}`);
}
