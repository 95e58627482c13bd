import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { type ConnectedBackend, type ConnectOptions, connectBackend } from '../ftp/backend-connect.js';
import type { Logger } from '../log/logger.js';
import type { Destination } from './destination.js';
import type { LoopGuard } from './loop-guard.js';

/** The destination could not be reached; `message` is the reason the client is told. */
export class ForwardConnectError extends Error {
  override readonly name = 'ForwardConnectError';
}

export interface ForwardConnectOptions {
  /** ProxyTimeoutConnect: per address (TCP connect and banner). */
  timeoutMs: number;
  /** ProxyRetryCount: rounds over all the addresses before giving up. */
  retryCount: number;
  sourceAddress: string | undefined;
  loopGuard: LoopGuard;
  log: Logger;
  /** Destination FTPS (ProxyTLSEngine for this destination); plain FTP when absent. */
  tls?: ConnectOptions['tls'];
  /** Name resolution: all A and AAAA records, in the resolver's order (the system's by default). */
  resolve?: (host: string) => Promise<string[]>;
}

/** The system's words for the errors a connect can end with, as mod_proxy's replies carry them. */
const STRERROR: Record<string, string> = {
  ECONNREFUSED: 'Connection refused',
  ECONNRESET: 'Connection reset by peer',
  ETIMEDOUT: 'Connection timed out',
  EHOSTUNREACH: 'No route to host',
  ENETUNREACH: 'Network is unreachable',
  EADDRNOTAVAIL: 'Cannot assign requested address',
};

/** Why one address failed, in words for the client: `530 Unable to connect to host:port: <this>`. */
export function connectFailureReason(err: Error): string {
  for (let cause: unknown = err; cause instanceof Error; cause = cause.cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const text = code === undefined ? undefined : STRERROR[code];
    if (text) return text;
  }
  // backend-connect.ts's own failures: its timeouts and a greeting that is not 2xx.
  if (/^connect to .* timed out$/.test(err.message)) return 'Connection timed out';
  if (/^banner from .* timed out$/.test(err.message)) return 'No greeting within ProxyTimeoutConnect';
  const greeted = / greeted with (.*)$/.exec(err.message);
  if (greeted) return `Server greeted with ${greeted[1]}`;
  return err.message;
}

const systemResolve = (host: string): Promise<string[]> =>
  lookup(host, { all: true, verbatim: true }).then((results) => results.map((result) => result.address));

export interface ForwardConnected extends ConnectedBackend {
  destination: Destination;
}

/**
 * Connects to a forward destination: its name is resolved (all A and AAAA records), any address that
 * is this proxy itself refuses the whole destination, then every address is tried in turn, each with
 * the full connect timeout, for up to `retryCount` rounds. mod_proxy reads ProxyRetryCount in forward
 * mode but never uses it (one round only); ftpx honours it. A name that does not resolve is not retried.
 */
export async function connectDestination(
  destination: Destination,
  options: ForwardConnectOptions,
): Promise<ForwardConnected> {
  const addresses =
    isIP(destination.host) !== 0
      ? [destination.host]
      : await (options.resolve ?? systemResolve)(destination.host).then(
          (found) => found,
          (err: NodeJS.ErrnoException) => {
            throw new ForwardConnectError(
              err.code === 'ENOTFOUND' ? 'Name or service not known' : `cannot resolve: ${err.message}`,
              { cause: err },
            );
          },
        );
  for (const address of addresses) {
    if (await options.loopGuard.isSelf(address, destination.port)) {
      options.log.warn('forward destination refused: it is this proxy', {
        destination: destination.hostPort,
        address,
      });
      throw new ForwardConnectError('Operation not permitted (the destination is this proxy)');
    }
  }
  let lastError: Error = new ForwardConnectError('no addresses');
  for (let round = 1; round <= options.retryCount; round++) {
    for (const address of addresses) {
      try {
        const connected = await connectBackend(
          { protocol: 'ftp', host: address, port: destination.port, implicitTls: false },
          {
            timeoutMs: options.timeoutMs,
            ...(options.sourceAddress ? { sourceAddress: options.sourceAddress } : {}),
            // TLS names the destination as the client did, not the address it resolved to.
            ...(options.tls ? { tls: { ...options.tls, serverName: destination.host } } : {}),
          },
        );
        options.log.info('connected to destination', {
          destination: destination.hostPort,
          address,
          ms: connected.connectMs,
          ...(round > 1 ? { round } : {}),
        });
        return { ...connected, destination };
      } catch (err) {
        lastError = err instanceof Error ? err : new Error(String(err));
        options.log.info('destination address failed', {
          destination: destination.hostPort,
          address,
          round,
          reason: lastError.message,
        });
      }
    }
  }
  throw new ForwardConnectError(connectFailureReason(lastError), { cause: lastError });
}
