import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateTableCommand, DescribeTableCommand, ResourceNotFoundException } from './dynamodb-sdk.js';
import { StoreError } from './store-error.js';

/**
 * One table holds every entity (single-table design, see functions/README.md): `pk` and `sk` are
 * strings built by the key helpers in keys.ts; items that expire carry `expiresAt` (epoch seconds).
 */
export interface Table {
  client: DynamoDBClient;
  name: string;
}

export const KEY_SCHEMA = { partitionKey: 'pk', sortKey: 'sk', expiry: 'expiresAt' } as const;

/** Creates the table when it does not exist (embedded mode and tests; the CDK app owns it in AWS). */
export async function ensureTable(table: Table): Promise<'created' | 'existed'> {
  try {
    await table.client.send(new DescribeTableCommand({ TableName: table.name }));
    return 'existed';
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) {
      throw new StoreError(`cannot describe table ${table.name}`, { cause: err });
    }
  }
  try {
    await table.client.send(
      new CreateTableCommand({
        TableName: table.name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: KEY_SCHEMA.partitionKey, AttributeType: 'S' },
          { AttributeName: KEY_SCHEMA.sortKey, AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: KEY_SCHEMA.partitionKey, KeyType: 'HASH' },
          { AttributeName: KEY_SCHEMA.sortKey, KeyType: 'RANGE' },
        ],
      }),
    );
  } catch (err) {
    // Another worker sharing the store may have created it between our describe and create.
    if ((err as { name?: string }).name !== 'ResourceInUseException') {
      throw new StoreError(`cannot create table ${table.name}`, { cause: err });
    }
  }
  await waitUntilActive(table);
  return 'created';
}

async function waitUntilActive(table: Table): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { Table: description } = await table.client.send(
      new DescribeTableCommand({ TableName: table.name }),
    );
    if (description?.TableStatus === 'ACTIVE') return;
    if (Date.now() > deadline) throw new StoreError(`table ${table.name} did not become ACTIVE within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
