import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  GetItemCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteBan, listBans, putBan } from '../../../functions/core/store/bans.js';
import { createDynamoDbClient } from '../../../functions/core/store/dynamodb-client.js';
import { epochSeconds } from '../../../functions/core/store/expiry.js';
import { keys } from '../../../functions/core/store/keys.js';
import { createStickyMapping, readStickyMapping } from '../../../functions/core/store/sticky-map.js';
import { sweepExpired } from '../../../functions/core/store/sweep-expired.js';
import { ensureTable, KEY_SCHEMA, type Table } from '../../../functions/core/store/table.js';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../support/dynamodb-local.js';

describe('the table on DynamoDB Local', () => {
  let ddb: DynamoDbLocal;
  const clients: Table['client'][] = [];
  const tableNamed = (name: string): Table => {
    const client = createDynamoDbClient({ endpoint: ddb.endpoint, region: 'us-east-1' });
    clients.push(client);
    return { client, name };
  };

  beforeAll(async () => {
    ddb = await startDynamoDbLocal();
  });

  afterAll(async () => {
    for (const client of clients) client.destroy();
    await ddb?.stop();
  });

  it('is created by ensureTable once, with the pk/sk key schema and on-demand billing', async () => {
    const table = tableNamed('ftpx-table');
    expect(await ensureTable(table)).toBe('created');
    expect(await ensureTable(table)).toBe('existed');
    const { Table: description } = await table.client.send(
      new DescribeTableCommand({ TableName: table.name }),
    );
    expect(description?.TableStatus).toBe('ACTIVE');
    expect(description?.KeySchema).toEqual([
      { AttributeName: KEY_SCHEMA.partitionKey, KeyType: 'HASH' },
      { AttributeName: KEY_SCHEMA.sortKey, KeyType: 'RANGE' },
    ]);
    expect(description?.AttributeDefinitions).toEqual(
      expect.arrayContaining([
        { AttributeName: KEY_SCHEMA.partitionKey, AttributeType: 'S' },
        { AttributeName: KEY_SCHEMA.sortKey, AttributeType: 'S' },
      ]),
    );
    expect(description?.AttributeDefinitions).toHaveLength(2);
    expect(description?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
  });

  it('is created once when two workers ensure it at the same moment', async () => {
    const [a, b] = [tableNamed('ftpx-table-race'), tableNamed('ftpx-table-race')];
    // Both find no table and both create it: the loser's ResourceInUseException counts as created.
    const outcomes = await Promise.all([ensureTable(a), ensureTable(b)]);
    for (const outcome of outcomes) expect(['created', 'existed']).toContain(outcome);
    const { Table: description } = await b.client.send(new DescribeTableCommand({ TableName: b.name }));
    expect(description?.TableStatus).toBe('ACTIVE');
  });

  it('takes TTL on expiresAt (the CDK app enables it in AWS); readers still filter, the sweep deletes', async () => {
    const table = tableNamed('ftpx-table-ttl');
    await ensureTable(table);
    const { TimeToLiveSpecification } = await table.client.send(
      new UpdateTimeToLiveCommand({
        TableName: table.name,
        TimeToLiveSpecification: { AttributeName: KEY_SCHEMA.expiry, Enabled: true },
      }),
    );
    expect(TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    const { TimeToLiveDescription } = await table.client.send(
      new DescribeTimeToLiveCommand({ TableName: table.name }),
    );
    expect(TimeToLiveDescription).toEqual({ AttributeName: 'expiresAt', TimeToLiveStatus: 'ENABLED' });

    // DynamoDB Local may delete items whose TTL passed on the real clock at any moment, so the item
    // lives an hour on the real clock and the readers and the sweep look two hours ahead: past its
    // expiry for them, still present for the emulator's own TTL.
    const realNow = Date.now();
    const now = realNow + 7_200_000;
    const ref = { pool: 'ttl', policy: 'PerUser', stickyKey: 'alice' };
    expect(
      await createStickyMapping(table, ref, 'ftp://127.0.0.1:2121', realNow, epochSeconds(realNow) + 3600),
    ).toBe(true);
    const key = keys.stickyMapping(ref.pool, ref.policy, ref.stickyKey);
    const stored = async () =>
      (
        await table.client.send(
          new GetItemCommand({
            TableName: table.name,
            Key: { pk: { S: key.pk }, sk: { S: key.sk } },
            ConsistentRead: true,
          }),
        )
      ).Item;
    expect(await stored()).toBeDefined();
    expect(await readStickyMapping(table, ref, now)).toBeUndefined();
    expect(await sweepExpired(table, now)).toEqual({ found: 1, deleted: 1 });
    expect(await stored()).toBeUndefined();
  });

  it('lists the bans of its one partition (a query without a sort-key prefix)', async () => {
    // DynamoDB refuses begins_with(sk, '') ("an AttributeValue may not contain an empty string"),
    // which dynalite accepts: the ban list failed on DynamoDB Local and in the deployed stack.
    const table = tableNamed('ftpx-table-bans');
    await ensureTable(table);
    const now = Date.now();
    await putBan(table, { kind: 'host', value: '192.0.2.7', reason: 'test', createdAt: now });
    await putBan(table, {
      kind: 'user',
      value: 'mallory',
      reason: 'test',
      createdAt: now,
      expiresAt: epochSeconds(now) + 3600,
    });
    const listed = await listBans(table, now);
    expect(listed.map((ban) => `${ban.kind}:${ban.value}`).sort()).toEqual([
      'host:192.0.2.7',
      'user:mallory',
    ]);
    expect(await deleteBan(table, 'host', '192.0.2.7')).toBe(true);
    expect((await listBans(table, now)).map((ban) => ban.value)).toEqual(['mallory']);
  });
});
