import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { connect, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { DataRelayError } from '../../../../../edge-worker/ftp/data/data-errors.js';
import { relayData } from '../../../../../edge-worker/ftp/data/data-relay.js';
import {
  canSplice,
  SPLICE_RELAY_ENV,
  spliceData,
  splicedRelayCount,
  spliceRelayStatus,
} from '../../../../../edge-worker/ftp/data/splice-relay.js';
import { isCorked, socketFd } from '../../../../../edge-worker/ftp/data/tcp-cork.js';
import { acceptOne as acceptShared } from '../../../../support/accept-one.js';

const available = spliceRelayStatus().available;
const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const server of servers.splice(0)) server.close();
});

const acceptOne = (paused = false) => acceptShared(servers, paused);

/**
 * A relay's two ends as ftpx has them: `source` accepted paused (a passive client's upload), with
 * `writer` its peer; `sink` accepted, with `reader` its peer (not reading until the test says so).
 */
async function pair(): Promise<{ source: Socket; sink: Socket; writer: Socket; reader: Socket }> {
  const from = await acceptOne(true);
  const to = await acceptOne(false);
  const writer = connect(from.port, '127.0.0.1');
  const reader = connect(to.port, '127.0.0.1');
  reader.pause();
  const [source, sink] = await Promise.all([from.accepted, to.accepted]);
  await Promise.all([once(writer, 'connect'), once(reader, 'connect')].map((p) => p.catch(() => {})));
  sockets.push(source, sink, writer, reader);
  return { source, sink, writer, reader };
}

/** Sends `total` random bytes in chunks of varied size, then ends; resolves with their SHA-256. */
async function send(socket: Socket, total: number): Promise<string> {
  const hash = createHash('sha256');
  let sent = 0;
  for (let i = 0; sent < total; i++) {
    const chunk = randomBytes(Math.min(total - sent, i % 3 === 0 ? 1000 + i : 256 * 1024));
    hash.update(chunk);
    sent += chunk.length;
    if (!socket.write(chunk)) await once(socket, 'drain');
  }
  socket.end();
  return hash.digest('hex');
}

async function receive(socket: Socket): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  socket.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    bytes += chunk.length;
  });
  socket.resume();
  await once(socket, 'end');
  return { bytes, sha256: hash.digest('hex') };
}

/** How many of this process's descriptors are the socket under `socket` (its inode, from /proc). */
function descriptorsOf(socket: Socket): number {
  const fd = socketFd(socket);
  if (fd === undefined) return 0;
  const target = readlinkSync(`/proc/self/fd/${fd}`);
  let count = 0;
  for (const entry of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${entry}`) === target) count++;
    } catch {
      // The directory's own descriptor, gone by the time it is read.
    }
  }
  return count;
}

function openDescriptors(): number {
  return readdirSync('/proc/self/fd').length;
}

/** This process's threads named `name` (/proc/self/task/TID/comm). */
function threadsNamed(name: string): number {
  let count = 0;
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      if (readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() === name) count++;
    } catch {
      // A thread that ended between the listing and the read.
    }
  }
  return count;
}

async function settledDescriptors(baseline: number): Promise<number> {
  // The pipe and eventfd are freed by the addon's finalizer, on a turn of the loop after `done`.
  for (let i = 0; i < 50 && openDescriptors() > baseline; i++) await sleep(20);
  return openDescriptors();
}

describe.runIf(available)('spliceData (splice(2) on the addon thread)', () => {
  it('moves every byte to EOF, reports progress, corks the sink and lets go of both sockets', async () => {
    const { source, sink, writer, reader } = await pair();
    expect(canSplice(source, sink)).toBe(true);
    const before = splicedRelayCount();
    const total = 24 * 1024 * 1024 + 123;
    const received = receive(reader);
    const sent = send(writer, total);
    let progress = 0;
    const bytes = await spliceData(source, sink, new AbortController().signal, (moved) => {
      progress += moved;
    });
    expect(bytes).toBe(total);
    expect(progress).toBe(total);
    expect(splicedRelayCount()).toBe(before + 1);
    expect(isCorked(sink)).toBe(true);
    // Settled: the thread's dups are closed, Node's own descriptor is the only one left.
    expect(descriptorsOf(source)).toBe(1);
    expect(descriptorsOf(sink)).toBe(1);
    sink.destroy();
    expect(await received).toEqual({ bytes: total, sha256: await sent });
  }, 60_000);

  it('cancelled with a sink that does not read: settles after the thread let go, leaks nothing', async () => {
    const baseline = openDescriptors();
    const { source, sink, writer } = await pair();
    const withPair = openDescriptors();
    const aborter = new AbortController();
    void send(writer, 64 * 1024 * 1024).catch(() => {});
    let progress = 0;
    const relay = spliceData(source, sink, aborter.signal, (moved) => {
      progress += moved;
    });
    // The sink's peer never reads: once the buffers and the pipe are full, the thread just waits.
    await sleep(500);
    const stalled = progress;
    await sleep(300);
    expect(progress).toBe(stalled);
    // Bounded: socket buffers on both sides plus the 1 MiB pipe, far below what was offered.
    expect(stalled).toBeGreaterThan(0);
    expect(stalled).toBeLessThan(32 * 1024 * 1024);
    aborter.abort();
    await expect(relay).rejects.toThrow('aborted');
    expect(descriptorsOf(source)).toBe(1);
    expect(descriptorsOf(sink)).toBe(1);
    expect(source.destroyed).toBe(false);
    for (const socket of [source, sink, writer]) socket.destroy();
    await sleep(50);
    expect(await settledDescriptors(withPair)).toBeLessThanOrEqual(withPair);
    expect(baseline).toBeLessThanOrEqual(withPair);
  });

  it('runs on a thread named ftpx-splice, which is gone once the relay settled', async () => {
    const { source, sink, writer } = await pair();
    expect(threadsNamed('ftpx-splice')).toBe(0);
    const aborter = new AbortController();
    // More than the sink's send buffer (4 MiB at most here) and the unread reader's window hold, so
    // the relay is still running when it is looked at.
    void send(writer, 16 * 1024 * 1024).catch(() => {});
    const relay = spliceData(source, sink, aborter.signal, () => {});
    await sleep(100);
    // The name is how perf, top and /proc tell the relay threads from Node's own (bench/README.md).
    expect(threadsNamed('ftpx-splice')).toBe(1);
    aborter.abort();
    await expect(relay).rejects.toThrow('aborted');
    // `done` is posted by the thread as it returns; the join follows on a later turn of the loop.
    for (let i = 0; i < 50 && threadsNamed('ftpx-splice') > 0; i++) await sleep(20);
    expect(threadsNamed('ftpx-splice')).toBe(0);
    for (const socket of [source, sink, writer]) socket.destroy();
  });

  it('keeps working on its own descriptors when Node closes the sockets under it', async () => {
    const { source, sink, writer, reader } = await pair();
    const aborter = new AbortController();
    const relay = spliceData(source, sink, aborter.signal, () => {});
    relay.catch(() => {});
    writer.write(randomBytes(64 * 1024));
    await sleep(100);
    // Node closes its descriptors while the thread runs; new sockets may get the same numbers.
    const [sourceFd, sinkFd] = [socketFd(source), socketFd(sink)];
    source.destroy();
    sink.destroy();
    const bystander = await pair();
    const bystanderBytes = receive(bystander.reader);
    // (The kernel hands out the lowest free number: the bystander's sockets usually get the relay's.)
    expect([socketFd(bystander.source), socketFd(bystander.sink)]).not.toContain(undefined);
    expect([sourceFd, sinkFd]).not.toContain(undefined);
    // The sink's peer still gets the relay's bytes, sent after Node closed: the thread's dups keep
    // both sockets open.
    writer.write(randomBytes(64 * 1024));
    let relayed = 0;
    reader.on('data', (chunk: Buffer) => {
      relayed += chunk.length;
    });
    const readerClosed = once(reader, 'close');
    reader.resume();
    for (let i = 0; i < 100 && relayed < 128 * 1024; i++) await sleep(20);
    expect(relayed).toBe(128 * 1024);
    aborter.abort();
    await expect(relay).rejects.toThrow('aborted');
    // Only once the thread let go does the sink really close.
    await readerClosed;
    bystander.writer.end();
    bystander.sink.end();
    expect((await bystanderBytes).bytes).toBe(0);
  });

  it('rejects an aborted signal without starting', async () => {
    const { source, sink } = await pair();
    const aborter = new AbortController();
    aborter.abort();
    const before = splicedRelayCount();
    await expect(spliceData(source, sink, aborter.signal, () => {})).rejects.toThrow('aborted');
    expect(splicedRelayCount()).toBe(before);
  });

  it('fails with read ECONNRESET when the source is reset', async () => {
    const { source, sink, writer, reader } = await pair();
    reader.resume();
    writer.write(randomBytes(100_000));
    const relay = relayData(source, sink, new AbortController().signal);
    await sleep(100);
    writer.resetAndDestroy();
    await expect(relay).rejects.toThrow(/data relay failed: read ECONNRESET/);
    expect(source.destroyed && sink.destroyed).toBe(true);
  });

  it('fails with a write error when the sink is reset mid-transfer', async () => {
    const { source, sink, writer, reader } = await pair();
    void send(writer, 256 * 1024 * 1024).catch(() => {});
    const relay = relayData(source, sink, new AbortController().signal);
    relay.catch(() => {});
    await sleep(100);
    reader.resetAndDestroy();
    const error = await relay.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(DataRelayError);
    expect((error as Error).message).toMatch(/data relay failed: (write|read) (EPIPE|ECONNRESET)/);
    writer.destroy();
  });

  it('runs many relays at once, each intact', async () => {
    const count = 16;
    const results = await Promise.all(
      Array.from({ length: count }, async () => {
        const { source, sink, writer, reader } = await pair();
        const received = receive(reader);
        const sent = send(writer, 2 * 1024 * 1024 + 7);
        const bytes = await relayData(source, sink, new AbortController().signal);
        const got = await received;
        return { bytes, got, sent: await sent };
      }),
    );
    for (const { bytes, got, sent } of results) {
      expect(got).toEqual({ bytes, sha256: sent });
      expect(bytes).toBe(2 * 1024 * 1024 + 7);
    }
  }, 60_000);
});

describe('canSplice', () => {
  it('refuses a source that Node is already reading, and everything when turned off', async () => {
    const { source, sink } = await pair();
    expect(canSplice(source, sink)).toBe(available);
    source.resume();
    await sleep(10);
    expect(canSplice(source, sink)).toBe(false);
    source.pause();
    process.env[SPLICE_RELAY_ENV] = 'off';
    try {
      expect(spliceRelayStatus()).toEqual({ available: false, reason: `${SPLICE_RELAY_ENV}=off` });
    } finally {
      delete process.env[SPLICE_RELAY_ENV];
    }
  });
});
