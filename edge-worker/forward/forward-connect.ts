import { lookup } from 'node:dns/promises';
import type { DestinationPolicy } from '../../functions/core/net/index.js';
import { numericHost } from '../../functions/core/net/index.js';
import {
  type ConnectedBackend,
  type ConnectOptions,
  connectBackend,
} from '../ftp/control/backend-connect.js';
import type { Logger } from '../log/logger.js';
import type { Destination } from './destination.js';
import type { LoopGuard } from './loop-guard.js';

/**
 * The destination could not be reached or was refused; `message` is the precise reason, for the log
 * only (the client gets one generic reply for every refusal and failure: FORWARD_REFUSED_REPLY).
 */
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
  /** The pool's destination address policy, applied to every resolved address before any connect. */
  policy: DestinationPolicy;
  /**
   * ProxyForwardTo against the canonical resolved `address:port`: `allowed` for a negated rule is
   * whether the address passes it too; `explicit` whether a (non-negated) pattern names the address,
   * which is what opens loopback and private destinations.
   */
  addressRule?: (address: string, port: number) => { allowed: boolean; explicit: boolean; reason?: string };
}

/**
 * The one reply text for every destination that is refused or cannot be reached: refused by policy,
 * not resolvable, connection refused, silent, greeted with an error. Telling these apart would let a
 * client map the networks behind the proxy (which ports are closed, filtered or open).
 */
export const FORWARD_REFUSED_TEXT = 'Unable to connect to the destination.';

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
 * Connects to a forward destination: its name is resolved (all A and AAAA records; numeric forms such
 * as `2130706433` without a resolver), every address is canonicalised and judged by the destination
 * policy and ProxyForwardTo, and any address that is refused, or is this proxy's own listener,
 * refuses the whole destination. Then the checked addresses (never the name again, so a second
 * resolution cannot answer differently) are tried in turn, each with the full connect timeout, for
 * up to `retryCount` rounds. mod_proxy reads ProxyRetryCount in forward mode but never uses it (one
 * round only); ftpx honours it. A name that does not resolve is not retried.
 */
export async function connectDestination(
  destination: Destination,
  options: ForwardConnectOptions,
): Promise<ForwardConnected> {
  const numeric = numericHost(destination.host);
  const resolved =
    numeric !== undefined
      ? [numeric]
      : await (options.resolve ?? systemResolve)(destination.host).then(
          (found) => found,
          (err: NodeJS.ErrnoException) => {
            throw new ForwardConnectError(
              err.code === 'ENOTFOUND' ? 'Name or service not known' : `cannot resolve: ${err.message}`,
              { cause: err },
            );
          },
        );
  if (resolved.length === 0) throw new ForwardConnectError('the name has no addresses');
  options.log.trace('proxy.dns', 17, () => `resolved '${destination.host}' to ${resolved.join(', ')}`);
  const addresses: string[] = [];
  for (const found of resolved) {
    const refuse = (reason: string): never => {
      options.log.warn('forward destination refused', {
        destination: destination.hostPort,
        address: found,
        reason,
      });
      throw new ForwardConnectError(reason);
    };
    const verdict = await options.policy.check(found, destination.port, (address, port) =>
      Boolean(options.addressRule?.(address, port).explicit),
    );
    if (!verdict.allowed) return refuse(verdict.reason);
    const rule = options.addressRule?.(verdict.address, destination.port);
    if (rule && !rule.allowed) refuse(rule.reason ?? 'ProxyForwardTo refuses the resolved address');
    if (await options.loopGuard.isSelf(verdict.address, destination.port)) {
      refuse('Operation not permitted (the destination is this proxy)');
    }
    if (verdict.kind !== 'public') {
      options.log.info('forward destination allowed by policy', {
        destination: destination.hostPort,
        address: verdict.address,
        kind: verdict.kind,
        by: verdict.by,
      });
    }
    if (!addresses.includes(verdict.address)) addresses.push(verdict.address);
  }
  let lastError: Error = new ForwardConnectError('no addresses');
  for (let round = 1; round <= options.retryCount; round++) {
    for (const [index, address] of addresses.entries()) {
      if (index > 0)
        options.log.trace(
          'proxy.forward',
          8,
          () =>
            `attempting to connect to other address #${index + 1} (${address}) for requested URI '${destination.hostPort}'`,
        );
      try {
        const connected = await connectBackend(
          { protocol: 'ftp', host: address, port: destination.port, implicitTls: false },
          {
            timeoutMs: options.timeoutMs,
            log: options.log,
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
  options.log.trace(
    'proxy.forward',
    1,
    () => `error handling URI '${destination.hostPort}': ${connectFailureReason(lastError)}`,
  );
  throw new ForwardConnectError(connectFailureReason(lastError), { cause: lastError });
}
