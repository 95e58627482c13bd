import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { relayData } from '../../../../../edge-worker/ftp/data/data-relay.js';
import {
  adoptReadBuffer,
  connectReadBuffered,
  isReadBuffered,
  pumpInto,
} from '../../../../../edge-worker/ftp/data/read-buffer.js';
import { SPLICE_RELAY_ENV } from '../../../../../edge-worker/ftp/data/splice-relay.js';

// These are the JS relay's tests (the reused read buffer, the tail hold): the splice relay, which
// would take these plain sockets, has its own (splice-relay.test.ts).
beforeAll(() => {
  process.env[SPLICE_RELAY_ENV] = 'off';
});
afterAll(() => {
  delete process.env[SPLICE_RELAY_ENV];
});

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

/**
 * Listens on loopback; resolves with the port and the first accepted socket. `paused`: accepted as
 * ftpx's data listeners accept (pauseOnConnect), nothing read until the relay takes the socket.
 */
async function acceptOne(paused = false): Promise<{ port: number; accepted: Promise<Socket> }> {
  const server = createServer({ pauseOnConnect: paused });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection').then(([socket]) => socket as Socket);
  return { port: (server.address() as AddressInfo).port, accepted };
}

/**
 * A backend that alternates short writes (which the tail hold keeps back as copies) with long ones
 * (which stay in the shared read buffer until written), so that both are on their way to the sink at
 * once. Returns the SHA-256 of what it sent.
 */
async function sendBursts(socket: Socket, rounds: number): Promise<string> {
  const hash = createHash('sha256');
  for (let i = 0; i < rounds; i++) {
    for (const size of [700 + i, 3 * 1024 * 1024]) {
      const chunk = randomBytes(size);
      hash.update(chunk);
      if (!socket.write(chunk)) await once(socket, 'drain');
      await sleep(1);
    }
  }
  socket.end();
  return hash.digest('hex');
}

/** Reads everything, a little at a time, so the sink's kernel buffer fills and writes complete late. */
async function readSlowly(socket: Socket): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  socket.pause();
  const ended = once(socket, 'end');
  let done = false;
  void ended.then(() => {
    done = true;
  });
  while (!done || socket.readableLength > 0) {
    await sleep(2);
    const chunk = socket.read(32 * 1024) ?? socket.read();
    if (chunk) {
      hash.update(chunk);
      bytes += chunk.length;
    } else if (!done) {
      await Promise.race([once(socket, 'readable'), ended]);
    }
  }
  return { bytes, sha256: hash.digest('hex') };
}

describe('relayData from a read-buffered source', () => {
  it('delivers every byte in order to a slow reader when short and long reads alternate', async () => {
    const backend = await acceptOne();
    const client = await acceptOne();
    const reader = connect(client.port, '127.0.0.1');
    const received = readSlowly(reader);
    const sink = await client.accepted;
    const source = connectReadBuffered({ host: '127.0.0.1', port: backend.port });
    const sent = backend.accepted.then((socket) => sendBursts(socket, 6));
    await once(source, 'connect');
    const relayed = await relayData(source, sink, new AbortController().signal);
    const { bytes, sha256 } = await received;
    expect(bytes).toBe(relayed);
    expect(sha256).toBe(await sent);
  }, 60_000);
});

/**
 * A sink whose writes complete a while after they were made, looking at the bytes only then: what a
 * socket does when the kernel cannot take a chunk at once (libuv keeps a pointer to the caller's
 * memory until it is written).
 */
class LateSink extends Writable {
  readonly hash = createHash('sha256');
  bytes = 0;
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    setTimeout(() => {
      this.hash.update(chunk);
      this.bytes += chunk.length;
      callback();
    }, 1);
  }
}

describe('relayData from an accepted source (a passive client uploading)', () => {
  it('reads it into the reused buffer and delivers every byte in order to a slow reader', async () => {
    const listener = await acceptOne(true);
    const backend = await acceptOne();
    const reader = connect(backend.port, '127.0.0.1');
    const received = readSlowly(reader);
    const sink = await backend.accepted;
    const uploader = connect(listener.port, '127.0.0.1');
    const sent = once(uploader, 'connect').then(() => sendBursts(uploader, 6));
    const source = await listener.accepted;
    const relayed = await relayData(source, sink, new AbortController().signal);
    expect(isReadBuffered(source)).toBe(true);
    const { bytes, sha256 } = await received;
    expect(bytes).toBe(relayed);
    expect(sha256).toBe(await sent);
  }, 60_000);

  it('leaves a socket that has already started reading to the stream path', async () => {
    const listener = await acceptOne();
    const client = connect(listener.port, '127.0.0.1');
    const source = await listener.accepted;
    expect(adoptReadBuffer(source)).toBe(false);
    expect(isReadBuffered(source)).toBe(false);
    client.destroy();
    source.destroy();
  });
});

describe('pumpInto', () => {
  it('never reads over the shared buffer while a chunk in it is still being written', async () => {
    const backend = await acceptOne();
    const source = connectReadBuffered({ host: '127.0.0.1', port: backend.port });
    const sent = backend.accepted.then((socket) => sendBursts(socket, 8));
    await once(source, 'connect');
    const sink = new LateSink();
    await pumpInto(source, sink, {
      copy: false,
      endHead: false,
      holdTail: true,
      onProgress: () => {},
      signal: new AbortController().signal,
    });
    await new Promise<void>((resolve) => sink.end(resolve));
    expect(sink.bytes).toBe(source.bytesRead);
    expect(sink.hash.digest('hex')).toBe(await sent);
  }, 60_000);

  it('keeps the same rule for an accepted socket given the reused buffer', async () => {
    const listener = await acceptOne(true);
    const uploader = connect(listener.port, '127.0.0.1');
    const sent = once(uploader, 'connect').then(() => sendBursts(uploader, 8));
    const source = await listener.accepted;
    expect(adoptReadBuffer(source)).toBe(true);
    const sink = new LateSink();
    await pumpInto(source, sink, {
      copy: false,
      endHead: false,
      holdTail: true,
      onProgress: () => {},
      signal: new AbortController().signal,
    });
    await new Promise<void>((resolve) => sink.end(resolve));
    expect(sink.bytes).toBe(source.bytesRead);
    expect(sink.hash.digest('hex')).toBe(await sent);
  }, 60_000);
});
