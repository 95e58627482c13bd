import { createServer } from 'node:net';

/**
 * Asks the kernel for a port that is free right now. Another process may still grab it before the caller
 * binds it, so callers that start servers retry on "address in use".
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') {
    throw new Error(`freePort: unexpected listen address ${String(address)}`);
  }
  return address.port;
}
