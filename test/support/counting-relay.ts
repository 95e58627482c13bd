import { connect, createServer, type Server, type Socket } from 'node:net';

export interface CountingRelay {
  /** `ftp://127.0.0.1:PORT`: give this to the proxy instead of the backend's own URL. */
  port: number;
  /** Connections the backend accepted through this relay so far. */
  accepted(): number;
  close(): Promise<void>;
}

/**
 * A TCP relay in front of a real backend that counts the connections it passes on: how a test proves
 * that a refused client cost the backend nothing. Loopback only.
 */
export async function startCountingRelay(target: { host: string; port: number }): Promise<CountingRelay> {
  let count = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    count += 1;
    const upstream = connect({ host: target.host, port: target.port });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => sockets.delete(socket));
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    accepted: () => count,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
