import { createServer, type Server, type Socket } from 'node:net';
import { type Cidr, parseCidrList } from '../../functions/core/net/index.js';
import type { ListenerConfig } from '../config/schema.js';
import type { Logger } from '../log/logger.js';

/**
 * The listening socket of an FTP or SSH listener: a new one bound to the listener's address, or, on
 * a reload, the one the replaced listener handed over (clients keep connecting without a gap).
 * `onConnection` is attached either way. Resolves with the port actually bound.
 */
export async function listenOn(
  config: ListenerConfig,
  inherited: Server | undefined,
  onConnection: (socket: Socket) => void,
  log: Logger,
): Promise<{ server: Server; port: number }> {
  const server = inherited ?? createServer({ noDelay: true, keepAlive: true });
  server.on('connection', onConnection);
  if (!inherited) {
    server.on('error', (err) => log.error('listener error', { error: err }));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const backlog = config.backlog !== undefined ? { backlog: config.backlog } : {};
      server.listen({ host: config.address, port: config.port, ...backlog }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }
  const address = server.address();
  return { server, port: address !== null && typeof address === 'object' ? address.port : config.port };
}

/** Hands a listening socket over to the listener that replaces its owner: it stops serving the old one. */
export function handOver(server: Server | undefined): Server | undefined {
  server?.removeAllListeners('connection');
  return server;
}

/** The networks whose connections must start with a PROXY protocol header (listener proxyProtocol). */
export function trustedNetworksOf(config: ListenerConfig): Cidr[] | undefined {
  if (!config.proxyProtocol) return undefined;
  const parsed = parseCidrList(config.proxyProtocol.trustedNetworks);
  // The config schema validated the list; this guards against a caller that skipped it.
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.cidrs;
}
