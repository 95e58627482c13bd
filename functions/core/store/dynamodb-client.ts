import { DynamoDBClient } from './dynamodb-sdk.js';
import { UnixSocketAgent, unixSocketPathOf } from './unix-socket-endpoint.js';

export interface StoreConnection {
  /**
   * A DynamoDB-API endpoint URL (dynalite, LocalStack, DynamoDB Local), or `unix:/path` for the
   * embedded store's socket; omitted means AWS itself.
   */
  endpoint?: string;
  region: string;
}

export function createDynamoDbClient(connection: StoreConnection): DynamoDBClient {
  const local = connection.endpoint !== undefined;
  const socketPath = connection.endpoint !== undefined ? unixSocketPathOf(connection.endpoint) : undefined;
  return new DynamoDBClient({
    region: connection.region,
    ...(local
      ? {
          // On a Unix socket the URL only fills the Host header; the agent picks the socket.
          endpoint: socketPath !== undefined ? 'http://localhost' : connection.endpoint,
          ...(socketPath !== undefined
            ? { requestHandler: { httpAgent: new UnixSocketAgent(socketPath) } }
            : {}),
          // Emulators ignore credentials, but DynamoDB Local (since 1.23) rejects an access key id
          // that is not purely alphanumeric. Real AWS uses the default provider chain.
          credentials: { accessKeyId: 'ftpxlocal', secretAccessKey: 'ftpxlocal' },
        }
      : {}),
    maxAttempts: 3,
  });
}
