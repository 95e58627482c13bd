import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

export interface StoreConnection {
  /** A DynamoDB-API endpoint URL (dynalite, LocalStack, DynamoDB Local); omitted means AWS itself. */
  endpoint?: string;
  region: string;
}

export function createDynamoDbClient(connection: StoreConnection): DynamoDBClient {
  const local = connection.endpoint !== undefined;
  return new DynamoDBClient({
    region: connection.region,
    ...(local
      ? {
          endpoint: connection.endpoint,
          // Emulators ignore credentials, but DynamoDB Local (since 1.23) rejects an access key id
          // that is not purely alphanumeric. Real AWS uses the default provider chain.
          credentials: { accessKeyId: 'ftpxlocal', secretAccessKey: 'ftpxlocal' },
        }
      : {}),
    maxAttempts: 3,
  });
}
