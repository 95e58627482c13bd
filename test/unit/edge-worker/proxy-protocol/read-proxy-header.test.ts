import { createHook } from 'node:async_hooks';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { type ReadResult, readProxyHeader } from '../../../../edge-worker/proxy-protocol/decode.js';
import {
  alpnTlv,
  authorityTlv,
  encodeV1,
  encodeV2,
  sslTlv,
  uniqueIdTlv,
} from '../../../../edge-worker/proxy-protocol/encode.js';

interface Pair {
  server: Server;
  /** The server side, as a listener would get it. */
  accepted: Socket;
  client: Socket;
  port: number;
}

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function listen(host = '127.0.0.1'): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { server, port: address.port };
}

async function connectPair(): Promise<Pair> {
  const { server, port } = await listen();
  const acceptedPromise = once(server, 'connection') as Promise<[Socket]>;
  const client = connect(port, '127.0.0.1');
  client.setNoDelay(true);
  client.on('error', () => {});
  await once(client, 'connect');
  const [accepted] = await acceptedPromise;
  accepted.on('error', () => {}); // a reset in a test must not crash the run; readProxyHeader adds its own
  cleanups.push(async () => {
    client.destroy();
    accepted.destroy();
  });
  return { server, accepted, client, port };
}

/** Reads with a plain on('data'), as FrontendControl does (no explicit resume). */
function readBytes(socket: Socket, count: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= count) {
        socket.off('data', onData);
        resolve(Buffer.concat(chunks));
      }
    };
    socket.on('data', onData);
    setTimeout(() => reject(new Error(`only ${length} of ${count} bytes`)), 3000).unref();
  });
}

const EVENTS = ['readable', 'data', 'end', 'close', 'error'] as const;
const listenerCounts = (socket: Socket) => EVENTS.map((event) => socket.listenerCount(event));
/**
 * Runs readProxyHeader and checks it leaves no listener and no timer behind: every Timeout created during
 * the (synchronous part of the) call must be destroyed, i.e. cleared or fired, once it has settled.
 */
async function read(
  socket: Socket,
  options: Parameters<typeof readProxyHeader>[1],
): Promise<{ result: ReadResult; elapsed: number }> {
  const listenersBefore = listenerCounts(socket);
  const created = new Set<number>();
  const live = new Set<number>();
  let capturing = true;
  const hook = createHook({
    init(asyncId, type) {
      if (capturing && type === 'Timeout') {
        created.add(asyncId);
        live.add(asyncId);
      }
    },
    destroy(asyncId) {
      live.delete(asyncId);
    },
  }).enable();
  try {
    const started = performance.now();
    const pending = readProxyHeader(socket, options);
    capturing = false;
    const result = await pending;
    const elapsed = performance.now() - started;
    expect(listenerCounts(socket)).toEqual(listenersBefore);
    // Destroy hooks are delivered asynchronously.
    for (let i = 0; i < 3 && live.size > 0; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(created.size).toBe(1);
    expect(live.size).toBe(0);
    return { result, elapsed };
  } finally {
    hook.disable();
  }
}

const FTP = Buffer.from('USER anonymous\r\nPASS guest@\r\n');
const V1 = encodeV1({
  source: { address: '203.0.113.7', port: 51515 },
  destination: { address: '10.0.0.21', port: 21 },
});
const V2 = encodeV2({
  source: { address: '2001:db8::7', port: 51515 },
  destination: { address: '2001:db8::21', port: 990 },
  tlvs: [
    alpnTlv('ftps'),
    authorityTlv('ftp.example.com'),
    sslTlv({ tls: true, version: 'TLSv1.3' }),
    uniqueIdTlv('abc'),
  ],
  checksum: true,
});

describe('readProxyHeader on real sockets', () => {
  it('v1 header and FTP bytes in one packet: the rest is put back and readable', async () => {
    const { accepted, client } = await connectPair();
    client.write(Buffer.concat([V1, FTP]));
    const { result } = await read(accepted, { timeoutMs: 2000, required: true });
    expect(result).toEqual({
      kind: 'header',
      length: V1.length,
      header: {
        version: 1,
        command: 'proxy',
        family: 'TCP4',
        source: { address: '203.0.113.7', port: 51515 },
        destination: { address: '10.0.0.21', port: 21 },
        tlvs: [],
      },
    });
    expect((await readBytes(accepted, FTP.length)).toString()).toBe(FTP.toString());
  });

  it('v2 header with TLVs followed by 256 KiB in one write: the stream after the header is intact', async () => {
    const { accepted, client } = await connectPair();
    const payload = Buffer.alloc(256 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) & 0xff;
    client.write(Buffer.concat([V2, payload]));
    const { result } = await read(accepted, { timeoutMs: 2000, required: true });
    expect(result.kind).toBe('header');
    if (result.kind !== 'header') return;
    expect(result.header.source).toEqual({ address: '2001:db8::7', port: 51515 });
    expect(result.header.tlvs.map((t) => t.type)).toEqual([0x01, 0x02, 0x20, 0x05, 0x03]);
    const rest = await readBytes(accepted, payload.length);
    expect(rest.equals(payload)).toBe(true);
  });

  it('a header split over several writes, byte by byte at first', async () => {
    const { accepted, client } = await connectPair();
    const reading = read(accepted, { timeoutMs: 3000, required: true });
    for (const byte of V2.subarray(0, 20)) {
      client.write(Buffer.from([byte]));
      await sleep(2);
    }
    client.write(V2.subarray(20, 40));
    await sleep(10);
    client.write(Buffer.concat([V2.subarray(40), Buffer.from('RETR x\r\n')]));
    const { result } = await reading;
    expect(result).toMatchObject({
      kind: 'header',
      length: V2.length,
      header: { version: 2, family: 'TCP6' },
    });
    expect((await readBytes(accepted, 8)).toString()).toBe('RETR x\r\n');
  });

  it('bytes that arrived before the call are seen', async () => {
    const { accepted, client } = await connectPair();
    client.write(Buffer.concat([V1, FTP]));
    await sleep(50);
    const { result } = await read(accepted, { timeoutMs: 2000, required: true });
    expect(result.kind).toBe('header');
    expect((await readBytes(accepted, FTP.length)).toString()).toBe(FTP.toString());
  });

  it('header then FIN: the session still sees the end of the stream', async () => {
    const { accepted, client } = await connectPair();
    client.end(V1);
    const { result } = await read(accepted, { timeoutMs: 2000, required: true });
    expect(result.kind).toBe('header');
    const ended = once(accepted, 'end');
    accepted.on('data', () => {});
    await ended;
  });

  it('required: false, no header (SSH banner): "none" at once, stream untouched', async () => {
    const { accepted, client } = await connectPair();
    const banner = Buffer.from('SSH-2.0-OpenSSH_9.6\r\n');
    client.write(banner);
    const { result, elapsed } = await read(accepted, { timeoutMs: 5000, required: false });
    expect(result).toEqual({ kind: 'none' });
    expect(elapsed).toBeLessThan(2000);
    expect((await readBytes(accepted, banner.length)).equals(banner)).toBe(true);
  });

  it('required: false, a client that waits for the banner: "none" after the timeout, stream untouched', async () => {
    const { accepted, client } = await connectPair();
    const { result, elapsed } = await read(accepted, { timeoutMs: 100, required: false });
    expect(result).toEqual({ kind: 'none' });
    expect(elapsed).toBeGreaterThanOrEqual(95);
    const reading = readBytes(accepted, FTP.length);
    client.write(FTP);
    expect((await reading).toString()).toBe(FTP.toString());
  });

  it('required: true, no header', async () => {
    const { accepted, client } = await connectPair();
    client.write(FTP);
    const { result } = await read(accepted, { timeoutMs: 2000, required: true });
    expect(result).toEqual({
      kind: 'error',
      code: 'missing',
      reason: 'PROXY header required but the connection does not start with one',
    });
  });

  it('garbage that starts like a header', async () => {
    const { accepted, client } = await connectPair();
    client.write('PROXY TCP4 10.0.0.1 10.0.0.2 99999 21\r\nUSER x\r\n');
    const { result } = await read(accepted, { timeoutMs: 2000, required: false });
    expect(result).toEqual({
      kind: 'error',
      code: 'invalid',
      reason: 'PROXY v1: bad source port "99999" (out of range 0-65535)',
    });

    const other = await connectPair();
    other.client.write(Buffer.from('0d0a0d0a000d0a515549540a2111ffff', 'hex'));
    const second = await read(other.accepted, { timeoutMs: 2000, required: true, maxBytes: 1024 });
    expect(second.result).toEqual({
      kind: 'error',
      code: 'invalid',
      reason: 'PROXY v2: header of 65551 bytes exceeds the 1024-byte limit',
    });
  });

  it('a peer that sends nothing: timeout, no timer left', async () => {
    const { accepted } = await connectPair();
    const { result, elapsed } = await read(accepted, { timeoutMs: 120, required: true });
    expect(result).toEqual({ kind: 'error', code: 'timeout', reason: 'no PROXY header within 120 ms' });
    expect(elapsed).toBeGreaterThanOrEqual(115);
    expect(elapsed).toBeLessThan(1500);
  });

  it('a peer that stops in the middle of a header: timeout, whatever "required" says', async () => {
    const { accepted, client } = await connectPair();
    client.write(V2.subarray(0, 20));
    const { result } = await read(accepted, { timeoutMs: 120, required: false });
    expect(result).toEqual({
      kind: 'error',
      code: 'timeout',
      reason: 'incomplete PROXY header after 120 ms (20 byte(s) received)',
    });
  });

  it('a peer that closes early', async () => {
    const { accepted, client } = await connectPair();
    client.end('PROXY TCP4 10.0');
    const { result } = await read(accepted, { timeoutMs: 2000, required: true });
    expect(result).toEqual({
      kind: 'error',
      code: 'closed',
      reason: 'connection closed in the middle of a PROXY header (15 byte(s) received)',
    });

    const silent = await connectPair();
    silent.client.end();
    const second = await read(silent.accepted, { timeoutMs: 2000, required: false });
    expect(second.result).toEqual({
      kind: 'error',
      code: 'closed',
      reason: 'connection closed before a PROXY header was sent',
    });
  });

  it('a peer that resets the connection', async () => {
    const { accepted, client } = await connectPair();
    client.write('PROXY ');
    await sleep(20);
    client.resetAndDestroy();
    const { result } = await read(accepted, { timeoutMs: 2000, required: true });
    expect(result.kind).toBe('error');
    if (result.kind !== 'error') return;
    expect(['socket-error', 'closed']).toContain(result.code);
  });

  it('a socket that is already closed, and bad options', async () => {
    const { accepted } = await connectPair();
    accepted.destroy();
    expect(await readProxyHeader(accepted, { timeoutMs: 100, required: true })).toEqual({
      kind: 'error',
      code: 'closed',
      reason: 'connection already closed before the PROXY header',
    });
    await expect(readProxyHeader(accepted, { timeoutMs: 0, required: true })).rejects.toThrow(RangeError);
    await expect(readProxyHeader(accepted, { timeoutMs: 10, required: true, maxBytes: 8 })).rejects.toThrow(
      RangeError,
    );
  });
});

/** Serves one HTTP request behind a mandatory PROXY header; returns what readProxyHeader saw. */
async function curlThroughProxyProtocol(host: string, urlHost: string) {
  const { server, port } = await listen(host);
  const seen = new Promise<{
    result: ReadResult;
    request: string;
    remote: { address?: string; port?: number };
  }>((resolve, reject) => {
    server.once('connection', (socket: Socket) => {
      socket.on('error', reject);
      const remote = { address: socket.remoteAddress, port: socket.remotePort };
      readProxyHeader(socket, { timeoutMs: 5000, required: true }).then(async (result) => {
        const request = (await readBytes(socket, 16)).toString('latin1');
        socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
        resolve({ result, request, remote });
      }, reject);
    });
  });
  const curl = spawn('curl', ['--haproxy-protocol', '-s', '-m', '10', `http://${urlHost}:${port}/probe`]);
  let body = '';
  curl.stdout.on('data', (chunk: Buffer) => {
    body += chunk.toString();
  });
  const [exitCode] = (await once(curl, 'exit')) as [number];
  return { ...(await seen), exitCode, body, port };
}

describe('a real producer: curl --haproxy-protocol (v1)', () => {
  it('TCP4 over 127.0.0.1', async () => {
    const { result, request, remote, exitCode, body, port } = await curlThroughProxyProtocol(
      '127.0.0.1',
      '127.0.0.1',
    );
    expect(exitCode).toBe(0);
    expect(body).toBe('ok');
    expect(result).toMatchObject({
      kind: 'header',
      header: {
        version: 1,
        command: 'proxy',
        family: 'TCP4',
        source: { address: '127.0.0.1', port: remote.port },
        destination: { address: '127.0.0.1', port },
        tlvs: [],
      },
    });
    expect(request.startsWith('GET /probe HTTP/1.1')).toBe(true);
  });

  it('TCP6 over ::1', async (context) => {
    const probe = createServer();
    const v6 = await new Promise<boolean>((resolve) => {
      probe.once('error', () => resolve(false));
      probe.listen(0, '::1', () => probe.close(() => resolve(true)));
    });
    if (!v6) context.skip();
    const { result, request, remote, exitCode, port } = await curlThroughProxyProtocol('::1', '[::1]');
    expect(exitCode).toBe(0);
    expect(result).toMatchObject({
      kind: 'header',
      header: {
        version: 1,
        family: 'TCP6',
        source: { address: '::1', port: remote.port },
        destination: { address: '::1', port },
      },
    });
    expect(request.startsWith('GET /probe HTTP/1.1')).toBe(true);
  });
});
