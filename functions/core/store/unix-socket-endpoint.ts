import { Agent, type AgentOptions } from 'node:http';
import { connect, type Socket } from 'node:net';

/**
 * A store endpoint on a Unix socket: `unix:/abs/path/store.sock`. The embedded store listens on one
 * (in a 0700 directory) instead of a TCP port, so that other local users cannot reach it: file
 * permissions, unlike a loopback port, tell users apart.
 */
const PREFIX = 'unix:';

export function unixSocketEndpoint(path: string): string {
  return `${PREFIX}${path}`;
}

/** The socket path of a `unix:` endpoint, or undefined for a URL. */
export function unixSocketPathOf(endpoint: string): string | undefined {
  if (!endpoint.startsWith(PREFIX)) return undefined;
  const path = endpoint.slice(PREFIX.length);
  return path.startsWith('/') ? path : undefined;
}

/** Whether `endpoint` is a well-formed `unix:` endpoint (an absolute path, no NUL). */
export function isUnixSocketEndpoint(endpoint: string): boolean {
  const path = unixSocketPathOf(endpoint);
  return path !== undefined && path.length > 1 && !path.includes('\0');
}

/** An HTTP agent whose every connection goes to one Unix socket, whatever host the URL names. */
export class UnixSocketAgent extends Agent {
  constructor(
    private readonly socketPath: string,
    options: AgentOptions = {},
  ) {
    super({ keepAlive: true, ...options });
  }

  override createConnection(
    _options: unknown,
    callback?: (err: Error | null, socket: Socket) => void,
  ): Socket {
    const socket = connect(this.socketPath);
    if (callback) {
      socket.once('connect', () => callback(null, socket));
      socket.once('error', (err) => callback(err, socket));
    }
    return socket;
  }
}
