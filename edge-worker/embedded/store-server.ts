import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import dynalite from 'dynalite';

export interface EmbeddedStoreServer {
  /** The DynamoDB-API endpoint to give the AWS SDK. */
  endpoint: string;
  close(): Promise<void>;
}

/**
 * The embedded store: dynalite serving the DynamoDB API on loopback, persisted with LevelDB under
 * `<dataDir>/dynamodb`. Everything above it talks to it through the real AWS SDK, so moving to
 * LocalStack or AWS is only a different `store.endpoint`.
 */
export async function startEmbeddedStore(dataDir: string | undefined): Promise<EmbeddedStoreServer> {
  let path: string | undefined;
  if (dataDir !== undefined) {
    path = join(dataDir, 'dynamodb');
    await mkdir(path, { recursive: true, mode: 0o700 });
  }
  const server = dynalite({
    ...(path ? { path } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
