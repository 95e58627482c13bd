import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import type { Cfn } from './template.js';

/** The table's key schema, attributes, indexes and TTL, created in DynamoDB Local as the template says. */
export async function createTable(
  endpoint: string,
  credentials: { accessKeyId: string; secretAccessKey: string },
  region: string,
  tableName: string,
  properties: Cfn,
): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region, credentials });
  try {
    const input: CreateTableCommandInput = {
      TableName: tableName,
      AttributeDefinitions: properties.AttributeDefinitions,
      KeySchema: properties.KeySchema,
      BillingMode: properties.BillingMode ?? 'PROVISIONED',
      ...(properties.GlobalSecondaryIndexes
        ? { GlobalSecondaryIndexes: properties.GlobalSecondaryIndexes }
        : {}),
      ...(properties.LocalSecondaryIndexes
        ? { LocalSecondaryIndexes: properties.LocalSecondaryIndexes }
        : {}),
    };
    await client.send(new CreateTableCommand(input));
    const ttl = properties.TimeToLiveSpecification;
    if (ttl?.Enabled) {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: tableName,
          TimeToLiveSpecification: { Enabled: true, AttributeName: ttl.AttributeName },
        }),
      );
    }
  } finally {
    client.destroy();
  }
}
