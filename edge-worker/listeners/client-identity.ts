import type { Socket } from 'node:net';
import { type Cidr, inNetworks } from '../../functions/core/net/index.js';
import type { ListenerConfig } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import { readProxyHeader } from '../proxy-protocol/decode.js';
import type { ProxyAddress } from '../proxy-protocol/types.js';

/**
 * The client's address: the socket's peer, or, for connections from a trusted network (a load
 * balancer), the source named by the PROXY header it must send first. A missing or malformed header
 * closes that connection only. Undefined when the connection was closed.
 */
export async function identifyClient(
  socket: Socket,
  inbound: ListenerConfig['proxyProtocol'],
  trustedNetworks: Cidr[] | undefined,
  log: Logger,
): Promise<ProxyAddress | undefined> {
  const peer = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
  if (!inbound || !trustedNetworks || !inNetworks(peer.address, trustedNetworks)) return peer;
  const result = await readProxyHeader(socket, { timeoutMs: inbound.timeout, required: true });
  if (result.kind === 'header') {
    // LOCAL (a health check of the load balancer itself) names no client: the peer is the client.
    return result.header.command === 'proxy' && result.header.source ? result.header.source : peer;
  }
  log.warn('refused connection: no valid PROXY protocol header', {
    peer: `${peer.address}:${peer.port}`,
    reason: result.kind === 'error' ? `${result.code}: ${result.reason}` : 'no header',
  });
  socket.destroy();
  return undefined;
}
