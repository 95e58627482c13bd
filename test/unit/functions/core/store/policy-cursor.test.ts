import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedStore } from '../../../../../edge-worker/embedded/store-server.js';
import { createDynamoDbClient } from '../../../../../functions/core/store/dynamodb-client.js';
import { advanceCursor, reserveCursorBlocks } from '../../../../../functions/core/store/policy-cursor.js';
import { ensureTable, type Table } from '../../../../../functions/core/store/table.js';

/** A client of the store that calls `counted` for each UpdateItem it sends (the cursor's ADDs). */
function countingUpdates(endpoint: string, counted: () => void) {
  const client = createDynamoDbClient({ endpoint, region: 'us-east-1' });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'UpdateItemCommand') counted();
      return next(args);
    },
    { step: 'initialize', name: 'countUpdates' },
  );
  return client;
}

/** The RoundRobin cursor on dynalite, shared by two clients (two control planes on one store). */
describe('policy cursor', () => {
  let store: Awaited<ReturnType<typeof startEmbeddedStore>>;
  let first: Table;
  let second: Table;
  let firstUpdates = 0;

  beforeAll(async () => {
    store = await startEmbeddedStore(undefined);
    first = {
      client: countingUpdates(store.endpoint, () => {
        firstUpdates++;
      }),
      name: 'cursor',
    };
    second = {
      client: createDynamoDbClient({ endpoint: store.endpoint, region: 'us-east-1' }),
      name: 'cursor',
    };
    await ensureTable(first);
  });
  afterAll(async () => {
    first?.client.destroy();
    second?.client.destroy();
    await store?.close();
  });

  it('one after the other, from either client: consecutive values', async () => {
    const values: number[] = [];
    for (let i = 0; i < 3; i++) {
      values.push(await advanceCursor(first, 'seq', 'RoundRobin'));
      values.push(await advanceCursor(second, 'seq', 'RoundRobin'));
    }
    expect(values).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('a burst shares ADDs, and every caller of both clients still gets a value of its own', async () => {
    const before = firstUpdates;
    const burst = await Promise.all([
      ...Array.from({ length: 20 }, () => advanceCursor(first, 'burst', 'RoundRobin')),
      ...Array.from({ length: 10 }, () => advanceCursor(second, 'burst', 'RoundRobin')),
    ]);
    expect([...burst].sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    // The first ADD goes alone, the 19 asked for meanwhile share the next one.
    expect(firstUpdates - before).toBe(2);
    // In the order they were asked for, within one client.
    const fromFirst = burst.slice(0, 20);
    expect(fromFirst.slice(1)).toEqual([...fromFirst.slice(1)].sort((a, b) => a - b));
  });

  it('cursors of other pools are not held up by each other', async () => {
    const [a, b] = await Promise.all([
      advanceCursor(first, 'x', 'RoundRobin'),
      advanceCursor(first, 'y', 'RoundRobin'),
    ]);
    expect([a, b]).toEqual([1, 1]);
  });

  it('a failed ADD fails its batch only; the next advance works', async () => {
    const broken: Table = { client: first.client, name: 'no-such-table' };
    await expect(advanceCursor(broken, 'z', 'RoundRobin')).rejects.toThrow(/cannot advance/);
    expect(await advanceCursor(first, 'z', 'RoundRobin')).toBe(1);
  });

  describe("with blocks reserved (the embedded store's one writer)", () => {
    let owner: Table;
    let ownerUpdates = 0;
    let exclusive = true;
    beforeAll(() => {
      const client = countingUpdates(store.endpoint, () => {
        ownerUpdates++;
      });
      reserveCursorBlocks(client, 64, () => exclusive);
      owner = { client, name: 'cursor' };
    });
    afterAll(() => owner?.client.destroy());

    it('one write per 64 advances, and the values stay consecutive', async () => {
      const values: number[] = [];
      for (let i = 0; i < 100; i++) values.push(await advanceCursor(owner, 'block', 'RoundRobin'));
      expect(values).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
      expect(ownerUpdates).toBe(2);
    });

    it('a burst larger than a block gets one value each, in the order asked', async () => {
      const before = ownerUpdates;
      const burst = await Promise.all(
        Array.from({ length: 150 }, () => advanceCursor(owner, 'block-burst', 'RoundRobin')),
      );
      expect(burst).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
      // The first advance reserves 64; the 149 asked meanwhile take 63 of those and one ADD of 86.
      expect(ownerUpdates - before).toBe(2);
    });

    it('once it is no longer the one writer, the rest of its block is dropped: exact ADDs again', async () => {
      expect(await advanceCursor(owner, 'shared', 'RoundRobin')).toBe(1);
      expect(await advanceCursor(owner, 'shared', 'RoundRobin')).toBe(2);
      exclusive = false;
      try {
        const before = ownerUpdates;
        const values: number[] = [];
        for (let i = 0; i < 3; i++) {
          values.push(await advanceCursor(first, 'shared', 'RoundRobin'));
          values.push(await advanceCursor(owner, 'shared', 'RoundRobin'));
        }
        expect(values).toEqual([65, 66, 67, 68, 69, 70]);
        expect(ownerUpdates - before).toBe(3);
      } finally {
        exclusive = true;
      }
    });

    it('rejects a block that is not a positive integer', () => {
      expect(() => reserveCursorBlocks(owner.client, 0, () => true)).toThrow(RangeError);
    });
  });
});
