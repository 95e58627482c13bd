import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedStore } from '../../../../edge-worker/embedded/store-server.js';
import { MemoryServerHostKeys } from '../../../../edge-worker/sftp/server-host-keys.js';
import { sshHostKeyRequestSchema } from '../../../../functions/contract/ssh-host-keys.js';
import { createDynamoDbClient } from '../../../../functions/core/store/dynamodb-client.js';
import { writeSshHostKey } from '../../../../functions/core/store/ssh-host-keys.js';
import { ensureTable, type Table } from '../../../../functions/core/store/table.js';
import { createSshHostKeysHandler } from '../../../../functions/ssh-host-keys/handler.js';

const A = Buffer.from('key-a').toString('base64');
const B = Buffer.from('key-b').toString('base64');
const PINNED = Buffer.from('key-pinned').toString('base64');

/** Trust on first use as stored: the first key wins unless `replace` (verifyServer off) or a pin says otherwise. */
describe('ssh-host-keys put (the store, through the control-plane handler)', () => {
  let store: Awaited<ReturnType<typeof startEmbeddedStore>>;
  let table: Table;
  let handler: ReturnType<typeof createSshHostKeysHandler>;
  const call = (request: Record<string, unknown>) => handler(request as never, {} as never);

  beforeAll(async () => {
    store = await startEmbeddedStore(undefined);
    table = {
      client: createDynamoDbClient({ endpoint: store.endpoint, region: 'us-east-1' }),
      name: 'hostkeys',
    };
    await ensureTable(table);
    handler = createSshHostKeysHandler({ table });
  });
  afterAll(async () => {
    table?.client.destroy();
    await store?.close();
  });

  it('records the first key and answers with it to a later first-use put of another key', async () => {
    const backend = 'sftp://127.0.0.1:2201';
    expect(await call({ op: 'put', pool: 'p', backend, key: A })).toEqual({ key: A, pinned: false });
    expect(await call({ op: 'put', pool: 'p', backend, key: B })).toEqual({ key: A, pinned: false });
    expect(await call({ op: 'get', pool: 'p', backend })).toEqual({ key: A, pinned: false });
  });

  it('racing first uses agree on one key', async () => {
    const backend = 'sftp://127.0.0.1:2202';
    const answers = await Promise.all(
      [A, B, A, B].map((key) => call({ op: 'put', pool: 'p', backend, key })),
    );
    const stored = (await call({ op: 'get', pool: 'p', backend })) as { key: string };
    expect(answers.every((answer) => answer.key === stored.key)).toBe(true);
  });

  it('replace (verifyServer off) replaces an unpinned key, never a pinned one', async () => {
    const backend = 'sftp://127.0.0.1:2203';
    await call({ op: 'put', pool: 'p', backend, key: A });
    expect(await call({ op: 'put', pool: 'p', backend, key: B, replace: true })).toEqual({
      key: B,
      pinned: false,
    });
    await writeSshHostKey(table, 'p', backend, PINNED, { pinned: true });
    expect(await call({ op: 'put', pool: 'p', backend, key: A, replace: true })).toEqual({
      key: PINNED,
      pinned: true,
    });
  });

  it('the contract takes replace with put only', () => {
    expect(
      sshHostKeyRequestSchema.safeParse({ op: 'get', pool: 'p', backend: 'b', replace: true }).success,
    ).toBe(false);
  });
});

describe('MemoryServerHostKeys (a worker without a store)', () => {
  it('has the same first-use and replace rules', async () => {
    const keys = new MemoryServerHostKeys();
    const a = Buffer.from('a');
    const b = Buffer.from('b');
    expect((await keys.put('p', 'x', a)).key).toEqual(a);
    expect((await keys.put('p', 'x', b)).key).toEqual(a);
    expect((await keys.put('p', 'x', b, { replace: true })).key).toEqual(b);
    expect((await keys.get('p', 'x'))?.key).toEqual(b);
  });
});
