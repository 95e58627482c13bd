import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, type NetConnectOpts, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DATA_HIGH_WATER_MARK, relayData } from '../../../../../edge-worker/ftp/data/data-relay.js';
import {
  adoptReadBuffer,
  batchedTlsRelayCount,
  connectReadBuffered,
  isReadBuffered,
  pumpInto,
  TURN_BUDGET_BYTES,
} from '../../../../../edge-worker/ftp/data/read-buffer.js';
import { SPLICE_RELAY_ENV } from '../../../../../edge-worker/ftp/data/splice-relay.js';
import { acceptOne as acceptShared } from '../../../../support/accept-one.js';
import { createTestCa } from '../../../../support/test-ca.js';

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

const acceptOne = (paused = false) => acceptShared(servers, paused);

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

/** The shared read buffer's size (read-buffer.ts): the most one read can bring. */
const READ_BUFFER_BYTES = 1024 * 1024;

const children: ChildProcess[] = [];
const tempDirs: string[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) child.kill();
  for (const dir of tempDirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/**
 * A loopback peer in a process of its own, so that it keeps sending (or reading) while the relay's
 * event loop is busy, as a backend or a client does. `send FILE COUNT` listens and writes FILE COUNT
 * times to whoever connects (over TLS with `send-tls FILE COUNT CERT KEY`); `hash` listens and
 * prints the byte count and SHA-256 of what it read.
 * Either prints its port first; each serves one connection and exits.
 */
const PEER = `
const net = require('node:net');
const tls = require('node:tls');
const { createHash } = require('node:crypto');
const { readFileSync } = require('node:fs');
const [mode, file, count, cert, key] = process.argv.slice(1);
const serve = async (socket) => {
  server.close();
  if (mode === 'hash') {
    const hash = createHash('sha256');
    let bytes = 0;
    socket.on('data', (chunk) => { hash.update(chunk); bytes += chunk.length; });
    socket.on('end', () => process.stdout.write(bytes + ' ' + hash.digest('hex') + '\\n'));
    return;
  }
  const block = readFileSync(file);
  socket.on('error', () => process.exit(0));
  for (let i = 0; i < Number(count); i++) {
    if (!socket.write(block)) await new Promise((resolve) => socket.once('drain', resolve));
  }
  socket.end();
};
const server = mode === 'send-tls'
  ? tls.createServer({ cert: readFileSync(cert), key: readFileSync(key) }, serve)
  : net.createServer(serve);
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
setTimeout(() => process.exit(1), 30000).unref();
`;

async function startPeer(args: string[]): Promise<{ port: number; lines: AsyncIterator<string> }> {
  const child = spawn(process.execPath, ['-e', PEER, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  child.stdout.setEncoding('utf8');
  const lines = (async function* () {
    let text = '';
    for await (const chunk of child.stdout as AsyncIterable<string>) {
      text += chunk;
      for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n')) {
        yield text.slice(0, end);
        text = text.slice(end + 1);
      }
    }
  })();
  const first = await lines.next();
  if (first.done) throw new Error('peer exited before listening');
  return { port: Number(first.value), lines };
}

/**
 * A peer that sends `count` times a random block of an odd size (reads cut it at ever other places,
 * so a chunk lost, repeated or reordered changes the digest); the SHA-256 of the whole stream.
 */
async function startSender(
  count: number,
  tls?: { cert: string; key: string },
): Promise<{ port: number; bytes: number; sha256: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'ftpx-turn-budget-'));
  tempDirs.push(dir);
  const block = randomBytes(READ_BUFFER_BYTES + 4099);
  await writeFile(join(dir, 'block'), block);
  const hash = createHash('sha256');
  for (let i = 0; i < count; i++) hash.update(block);
  const { port } = await startPeer(
    tls
      ? ['send-tls', join(dir, 'block'), String(count), tls.cert, tls.key]
      : ['send', join(dir, 'block'), String(count)],
  );
  return { port, bytes: block.length * count, sha256: hash.digest('hex') };
}

/**
 * Counts the bytes a relay reports between two check phases of the event loop: a setImmediate that
 * re-arms itself runs once per loop turn, after the poll phase where sockets are read.
 */
function turnMeter(): { add(bytes: number): void; stop(): number } {
  let turn = 0;
  let most = 0;
  let ticker: NodeJS.Immediate;
  const tick = () => {
    most = Math.max(most, turn);
    turn = 0;
    ticker = setImmediate(tick);
  };
  ticker = setImmediate(tick);
  return {
    add: (bytes) => {
      turn += bytes;
    },
    stop: () => {
      clearImmediate(ticker);
      return Math.max(most, turn);
    },
  };
}

/** A sink that takes every chunk at once (its write calls back synchronously), hashing it. */
class HashingSink extends Writable {
  readonly hash = createHash('sha256');
  bytes = 0;
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    callback();
  }
}

describe('the relay lets the event loop go round', () => {
  // Without the budget a sink that takes chunks at once let libuv read the same socket up to 32
  // times per poll event: tens of MiB before any other socket of the worker was looked at.
  const mostPerTurn = TURN_BUDGET_BYTES + READ_BUFFER_BYTES;

  it('pumpInto moves at most its budget and one read between two check phases, every byte intact', async () => {
    const sender = await startSender(64);
    const source = connectReadBuffered({ host: '127.0.0.1', port: sender.port });
    await once(source, 'connect');
    // Let the sender fill the kernel's buffers first: a backlog is what a busy worker finds.
    await sleep(50);
    const meter = turnMeter();
    const sink = new HashingSink();
    await pumpInto(source, sink, {
      copy: false,
      endHead: false,
      holdTail: true,
      onProgress: meter.add,
      signal: new AbortController().signal,
    });
    const most = meter.stop();
    source.destroy();
    expect(sink.bytes).toBe(sender.bytes);
    expect(sink.hash.digest('hex')).toBe(sender.sha256);
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(mostPerTurn);
  });

  it('relayData between sockets keeps the same bound, and the far side gets every byte', async () => {
    const sender = await startSender(64);
    const receiver = await startPeer(['hash']);
    const sink = connect(receiver.port, '127.0.0.1');
    await once(sink, 'connect');
    const source = connectReadBuffered({ host: '127.0.0.1', port: sender.port });
    await once(source, 'connect');
    await sleep(50);
    const meter = turnMeter();
    const relayed = await relayData(source, sink, new AbortController().signal, meter.add);
    const most = meter.stop();
    const received = await receiver.lines.next();
    expect(relayed).toBe(sender.bytes);
    expect(received.value).toBe(`${sender.bytes} ${sender.sha256}`);
    expect(most).toBeLessThanOrEqual(mostPerTurn);
  });

  it('relayData from a TLS source (staging buffers) moves its budget and one socket read per turn, intact', async () => {
    const ca = await createTestCa();
    try {
      const sender = await startSender(32, ca.server);
      const receiver = await startPeer(['hash']);
      const sink = connect({
        port: receiver.port,
        host: '127.0.0.1',
        highWaterMark: DATA_HIGH_WATER_MARK,
      } as NetConnectOpts);
      await once(sink, 'connect');
      const source = tlsConnect({ host: '127.0.0.1', port: sender.port, ca: readFileSync(ca.caCert) });
      await once(source, 'secureConnect');
      // The stream reads and buffers records before the relay takes the socket: they go first.
      await sleep(50);
      expect(source.readableLength).toBeGreaterThan(0);
      const before = batchedTlsRelayCount();
      const meter = turnMeter();
      let reported = 0;
      const relayed = await relayData(source, sink, new AbortController().signal, (bytes) => {
        reported += bytes;
        meter.add(bytes);
      });
      const most = meter.stop();
      const received = await receiver.lines.next();
      expect(batchedTlsRelayCount()).toBe(before + 1);
      expect(relayed).toBeGreaterThan(0);
      expect(reported).toBe(sender.bytes);
      expect(received.value).toBe(`${sender.bytes} ${sender.sha256}`);
      // Past the budget TLSWrap still decrypts the rest of its socket read (libuv's 64 KiB, plus a
      // record begun in the read before); the first turn also carries what the stream had buffered.
      expect(most).toBeLessThanOrEqual(TURN_BUDGET_BYTES + 80 * 1024 + DATA_HIGH_WATER_MARK);
    } finally {
      await ca.remove();
    }
  });

  it('relayData from a TLS source with a stage on the way (the stream path) pauses it past the budget until the check phase', async () => {
    const ca = await createTestCa();
    try {
      const sender = await startSender(32, ca.server);
      const receiver = await startPeer(['hash']);
      // Buffered as ftpx's data sockets are (data-endpoint.ts, data-listener.ts): a corked batch
      // could grow to 1 MiB before the pipe paused the source.
      // (Node's types omit the stream options net.Socket passes on to its Duplex.)
      const sink = connect({
        port: receiver.port,
        host: '127.0.0.1',
        highWaterMark: DATA_HIGH_WATER_MARK,
      } as NetConnectOpts);
      await once(sink, 'connect');
      const source = tlsConnect({ host: '127.0.0.1', port: sender.port, ca: readFileSync(ca.caCert) });
      await once(source, 'secureConnect');
      await sleep(50);
      const meter = turnMeter();
      const before = batchedTlsRelayCount();
      const relayed = await relayData(source, sink, new AbortController().signal, meter.add, [
        new PassThrough(),
      ]);
      expect(batchedTlsRelayCount()).toBe(before);
      const most = meter.stop();
      const received = await receiver.lines.next();
      expect(relayed).toBeGreaterThan(0);
      expect(received.value).toBe(`${sender.bytes} ${sender.sha256}`);
      // The budget plus the TLS record (16 KiB at most) that crossed it; the sink's 1 MiB before.
      expect(most).toBeLessThanOrEqual(TURN_BUDGET_BYTES + 16 * 1024);
    } finally {
      await ca.remove();
    }
  });

  it('an abort while a resume waits for the check phase reads nothing more', async () => {
    const sender = await startSender(64);
    const source = connectReadBuffered({ host: '127.0.0.1', port: sender.port });
    await once(source, 'connect');
    await sleep(50);
    const abort = new AbortController();
    let moved = 0;
    const pumping = pumpInto(source, new HashingSink(), {
      copy: false,
      endHead: false,
      holdTail: false,
      onProgress: (bytes) => {
        const before = moved;
        moved += bytes;
        // The chunk that crosses the budget: its write completes at once, and the relay then
        // schedules its resume; this immediate was scheduled before it, so it runs first.
        if (before < TURN_BUDGET_BYTES && moved >= TURN_BUDGET_BYTES) setImmediate(() => abort.abort());
      },
      signal: abort.signal,
    });
    await expect(pumping).rejects.toThrow('aborted');
    const readThen = source.bytesRead;
    await sleep(50);
    // The sender still has most of its 64 MiB to send: any read would show here.
    expect(readThen).toBeLessThan(sender.bytes);
    expect(source.bytesRead).toBe(readThen);
    expect(source.destroyed).toBe(false);
    source.destroy();
  });
});
