import { once } from 'node:events';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';

/**
 * Listens on loopback; resolves with the port and the first accepted socket. `paused`: accepted as
 * ftpx's data listeners accept (pauseOnConnect), nothing read until the relay takes the socket. The
 * server goes into `servers`, which the caller closes after each test.
 */
export async function acceptOne(
  servers: Server[],
  paused = false,
): Promise<{ port: number; accepted: Promise<Socket> }> {
  const server = createServer({ pauseOnConnect: paused });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection').then(([socket]) => socket as Socket);
  return { port: (server.address() as AddressInfo).port, accepted };
}
