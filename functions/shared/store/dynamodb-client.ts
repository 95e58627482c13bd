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
          // Emulators accept any credentials; real AWS uses the default provider chain.
          credentials: { accessKeyId: 'ftpx-local', secretAccessKey: 'ftpx-local' },
        }
      : {}),
    maxAttempts: 3,
  });
}
