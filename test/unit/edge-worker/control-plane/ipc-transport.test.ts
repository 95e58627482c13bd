import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type ControlPlaneClient,
  ControlPlaneError,
  isControlPlaneUnavailable,
} from '../../../../edge-worker/control-plane/control-plane-client.js';
import { createInProcessControlPlane } from '../../../../edge-worker/control-plane/in-process-transport.js';
import {
  answerControlPlaneCalls,
  createIpcControlPlane,
  type IpcEndpoint,
} from '../../../../edge-worker/control-plane/ipc-transport.js';
import {
  type EmbeddedStoreServer,
  startEmbeddedStore,
} from '../../../../edge-worker/embedded/store-server.js';
import { Logger } from '../../../../edge-worker/log/logger.js';
import { resolveBackendResponseSchema } from '../../../../functions/contract/resolve-backend.js';
import { createDynamoDbClient } from '../../../../functions/core/store/dynamodb-client.js';
import { ensureTable, type Table } from '../../../../functions/core/store/table.js';

/**
 * The cluster's IPC transport between a fake channel's two ends (node's channel serialises to JSON,
 * so does this one): the worker's client against the primary's answerer running the real in-process
 * control plane on an in-memory store, and each end against a hostile other end.
 */
class Channel {
  readonly toPrimary: ((message: unknown) => void)[] = [];
  readonly toWorker: ((message: unknown) => void)[] = [];
  readonly closeListeners: (() => void)[] = [];
  /** Messages the worker sent, as the primary received them. */
  readonly sent: unknown[] = [];
  /** While false, the primary never sees the worker's messages (a primary stuck elsewhere). */
  deliver = true;
  open = true;

  private end(
    inbox: ((message: unknown) => void)[],
    outbox: ((message: unknown) => void)[],
    log?: unknown[],
  ) {
    return {
      send: (message: unknown, callback: (error: Error | null) => void) => {
        if (!this.open) {
          callback(new Error('channel closed'));
          return;
        }
        const copy: unknown = JSON.parse(JSON.stringify(message));
        log?.push(copy);
        setImmediate(() => {
          callback(null);
          if (this.deliver || outbox === this.toWorker) for (const listener of outbox) listener(copy);
        });
      },
      onMessage: (listener: (message: unknown) => void) => {
        inbox.push(listener);
        return () => inbox.splice(inbox.indexOf(listener), 1);
      },
      onClose: (listener: () => void) => {
        this.closeListeners.push(listener);
        return () => this.closeListeners.splice(this.closeListeners.indexOf(listener), 1);
      },
    } satisfies IpcEndpoint;
  }
  worker = this.end(this.toWorker, this.toPrimary, this.sent);
  primary = this.end(this.toPrimary, this.toWorker);
  /** A message straight into the worker's inbox, as a hostile primary would send it. */
  toWorkerRaw(message: unknown) {
    for (const listener of this.toWorker) listener(message);
  }
  close() {
    this.open = false;
    for (const listener of this.closeListeners.splice(0)) listener();
  }
}

const BACKENDS = ['ftp://a.example:21', 'ftp://b.example:21'];
const quietLog = () => {
  const lines: string[] = [];
  return { lines, log: new Logger({ write: (line: string) => lines.push(line) }, 'warn') };
};

let store: EmbeddedStoreServer;
let table: Table;
let inProcess: ControlPlaneClient;

beforeAll(async () => {
  store = await startEmbeddedStore(undefined);
  table = { client: createDynamoDbClient({ endpoint: store.endpoint, region: 'us-east-1' }), name: 'ftpx' };
  await ensureTable(table);
  inProcess = createInProcessControlPlane(table);
});

afterAll(async () => {
  table?.client.destroy();
  await store?.close();
});

const pair = (options: { timeoutMs?: number; maxPending?: number } = {}) => {
  const channel = new Channel();
  const primaryLog = quietLog();
  answerControlPlaneCalls(channel.primary, inProcess, { log: primaryLog.log });
  const client = createIpcControlPlane(channel.worker, options);
  return { channel, client, primaryLines: primaryLog.lines };
};

describe('the control plane over the cluster IPC channel', () => {
  it('answers as the in-process control plane does (RoundRobin turns across calls)', async () => {
    const { client } = pair();
    const request = { pool: 'ipc-rr', policy: 'RoundRobin' as const, backends: BACKENDS };
    const first = await client.resolveBackend(request);
    const second = await client.resolveBackend(request);
    expect(first.candidates.map((c) => c.backend)).toHaveLength(2);
    expect(second.candidates[0]?.backend).not.toBe(first.candidates[0]?.backend);
    await client.close();
  });

  it('checks each answer once, in the worker, when the primary answers unchecked (as the cluster primary does)', async () => {
    const channel = new Channel();
    const unchecked = createInProcessControlPlane(table, { checkResponses: false });
    answerControlPlaneCalls(channel.primary, unchecked, { log: quietLog().log });
    const client = createIpcControlPlane(channel.worker);
    const checks = vi.spyOn(resolveBackendResponseSchema, 'safeParse');
    try {
      const answer = await client.resolveBackend({
        pool: 'ipc-once',
        policy: 'RoundRobin',
        backends: BACKENDS,
      });
      expect(answer.candidates.map((c) => c.backend).sort()).toEqual(BACKENDS);
      expect(checks).toHaveBeenCalledTimes(1);
      // A checked in-process plane (`--workers 1`) still checks its own answers.
      await inProcess.resolveBackend({ pool: 'ipc-once', policy: 'RoundRobin', backends: BACKENDS });
      expect(checks).toHaveBeenCalledTimes(2);
    } finally {
      checks.mockRestore();
      await client.close();
    }
  });

  it('raises the in-process error for a handler refusal: same class, message and status (not an outage)', async () => {
    const { client } = pair();
    const wrong = { pool: '', policy: 'RoundRobin', backends: BACKENDS } as never;
    const local = await inProcess.resolveBackend(wrong).catch((err: unknown) => err);
    const remote = await client.resolveBackend(wrong).catch((err: unknown) => err);
    expect(local).toBeInstanceOf(ControlPlaneError);
    expect(remote).toBeInstanceOf(ControlPlaneError);
    expect((remote as Error).message).toBe((local as Error).message);
    expect((remote as { cause?: { statusCode?: number } }).cause?.statusCode).toBe(400);
    expect(isControlPlaneUnavailable(remote)).toBe(false);
    expect(isControlPlaneUnavailable(local)).toBe(false);
    await client.close();
  });

  it('fails a call the primary does not answer within the deadline, and drops its late reply', async () => {
    const { channel, client } = pair({ timeoutMs: 50 });
    channel.deliver = false;
    const request = { pool: 'ipc-late', policy: 'RoundRobin' as const, backends: BACKENDS };
    const late = await client.resolveBackend(request).catch((err: unknown) => err);
    expect(late).toBeInstanceOf(ControlPlaneError);
    expect((late as Error).message).toMatch(/no answer from the cluster primary within 50 ms/);
    expect(isControlPlaneUnavailable(late)).toBe(true);
    // The reply that comes after the deadline finds nobody waiting; the next call is answered.
    const id = (channel.sent.at(-1) as { id: number }).id;
    channel.toWorkerRaw({ type: 'control-plane-reply', id, result: { candidates: [] } });
    channel.deliver = true;
    await expect(client.resolveBackend(request)).resolves.toMatchObject({ candidates: expect.any(Array) });
    await client.close();
  });

  it('fails every waiting call when the channel closes, and new calls at once', async () => {
    const { channel, client } = pair();
    channel.deliver = false;
    const request = { pool: 'ipc-gone', policy: 'RoundRobin' as const, backends: BACKENDS };
    const waiting = [client.resolveBackend(request), client.resolveBackend(request)].map((call) =>
      call.catch((err: unknown) => err),
    );
    channel.close();
    for (const err of await Promise.all(waiting)) {
      expect((err as Error).message).toBe('control plane resolve-backend: the cluster primary is gone');
    }
    await expect(client.resolveBackend(request)).rejects.toThrow(/the cluster primary is gone/);
  });

  it('bounds the calls waiting for the primary', async () => {
    const { channel, client } = pair({ maxPending: 2, timeoutMs: 200 });
    channel.deliver = false;
    const request = { pool: 'ipc-bound', policy: 'RoundRobin' as const, backends: BACKENDS };
    const waiting = [client.resolveBackend(request), client.resolveBackend(request)].map((call) =>
      call.catch(() => undefined),
    );
    await expect(client.resolveBackend(request)).rejects.toThrow(/2 calls already wait/);
    await Promise.all(waiting);
    await client.close();
  });

  it('refuses a malformed reply for a waiting call as a malformed response, ignores others', async () => {
    const { channel, client } = pair({ timeoutMs: 1000 });
    channel.deliver = false;
    const request = { pool: 'ipc-bad-reply', policy: 'RoundRobin' as const, backends: BACKENDS };
    for (const hostile of [
      null,
      42,
      'x',
      { type: 'control-plane-reply' },
      { type: 'control-plane-reply', id: -1 },
    ])
      channel.toWorkerRaw(hostile);
    const call = client.resolveBackend(request).catch((err: unknown) => err);
    await new Promise((resolve) => setImmediate(resolve));
    const id = (channel.sent.at(-1) as { id: number }).id;
    // An answer the contract does not allow (a candidate without its backend).
    channel.toWorkerRaw({ type: 'control-plane-reply', id, result: { candidates: [{ index: 0 }] } });
    const err = await call;
    expect(err).toBeInstanceOf(ControlPlaneError);
    expect((err as Error).message).toBe('control plane resolve-backend: malformed response');
    const second = client.resolveBackend(request).catch((e: unknown) => e);
    await new Promise((resolve) => setImmediate(resolve));
    const next = (channel.sent.at(-1) as { id: number }).id;
    channel.toWorkerRaw({ type: 'control-plane-reply', id: next, error: { message: 'x', status: 200 } });
    expect(((await second) as Error).message).toBe('control plane resolve-backend: malformed reply');
    await client.close();
  });

  it('the primary refuses malformed calls (400 when it can name the call), logs them, and keeps answering', async () => {
    const { channel, client, primaryLines } = pair();
    const replies: unknown[] = [];
    channel.toWorker.push((message) => replies.push(message));
    const hostile: unknown[] = [
      { type: 'control-plane', id: 7, op: 'drop-table', request: {} },
      { type: 'control-plane', id: 8, op: 'resolve-backend', request: 'not an object' },
      { type: 'control-plane', id: 'nine', op: 'resolve-backend', request: {} },
      { type: 'control-plane', id: 10, op: 'resolve-backend', request: {}, extra: true },
    ];
    for (const message of hostile) for (const listener of channel.toPrimary) listener(message);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(replies).toEqual([
      { type: 'control-plane-reply', id: 7, error: { message: 'malformed call', status: 400 } },
      { type: 'control-plane-reply', id: 8, error: { message: 'malformed call', status: 400 } },
      { type: 'control-plane-reply', id: 10, error: { message: 'malformed call', status: 400 } },
    ]);
    expect(primaryLines.filter((line) => line.includes('malformed control-plane call'))).toHaveLength(4);
    await expect(
      client.resolveBackend({ pool: 'ipc-after', policy: 'RoundRobin', backends: BACKENDS }),
    ).resolves.toMatchObject({ candidates: expect.any(Array) });
    await client.close();
  });
});
