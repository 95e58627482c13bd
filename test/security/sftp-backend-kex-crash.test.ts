import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { sftpBatch } from '../support/ssh-clients.js';
import { makeKeyPair, type Sshd, startSshd } from '../support/sshd.js';

/**
 * Issue 16: a backend must never crash the worker. With diffie-hellman-group-exchange, ssh2 asks
 * ftpx's (asynchronous) host key check, and answering it after the connection went away made ssh2
 * throw from a promise callback (`protocol._destruct is not a function` on the deny path), which
 * ended the whole process. Here a backend (a real sshd offering only group exchange, behind a relay
 * playing the attacker) hangs up right after its key exchange reply, while ftpx is still checking
 * its changed host key. The client's login fails cleanly, and a session to another backend through
 * the same process works afterwards.
 */

const GEX = 'diffie-hellman-group-exchange-sha1';
/** SSH_MSG_KEX_DH_GEX_REPLY (RFC 4419). */
const KEX_DH_GEX_REPLY = 33;

let changing: Sshd;
let steady: Sshd;
let keys: string;
let relay: CuttingRelay;
let guarded: TestProxy;
let honest: TestProxy;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  process.on('uncaughtException', onUnhandled);
  [changing, steady] = await Promise.all([
    startSshd({ extraConfig: `KexAlgorithms ${GEX}` }),
    startSshd({ extraConfig: `KexAlgorithms ${GEX}` }),
  ]);
  relay = await startCuttingRelay(changing.port);
  keys = await mkdtemp(join(tmpdir(), 'ftpx-sftp-kex-crash-'));
  await makeKeyPair(join(keys, 'host'), 'ed25519');
  const listener = { protocol: 'sftp', sftp: { hostKeys: [join(keys, 'host')] } };
  const poolSettings = { sftp: { keyExchanges: [GEX], options: ['AllowWeakDH'] } };
  guarded = await startTestProxy({ backends: [`sftp://127.0.0.1:${relay.port}`], listener, poolSettings });
  honest = await startTestProxy({
    backends: [steady.url],
    listener,
    poolSettings,
    storeEndpoint: guarded.worker.storeEndpoint,
  });
});

afterAll(async () => {
  for (const proxy of [guarded, honest]) await proxy?.close();
  await relay?.close();
  await changing?.stop();
  await steady?.stop();
  if (keys) await rm(keys, { recursive: true, force: true });
  process.off('unhandledRejection', onUnhandled);
  process.off('uncaughtException', onUnhandled);
});

function login(proxy: TestProxy, sshd: Sshd) {
  return sftpBatch(
    { host: proxy.host, port: proxy.port, user: sshd.user.name },
    { password: sshd.user.password },
    ['pwd'],
  );
}

describe('a backend hanging up during the host key check (group exchange)', () => {
  it('ends the one session cleanly; the process keeps serving', async () => {
    // First use: the key is recorded through the relay.
    expect((await login(guarded, changing)).code).toBe(0);
    await changing.restart({ newHostKeys: true });
    relay.cutAfterKexReply = true;
    const attacked = await login(guarded, changing);
    expect(attacked.timedOut).toBe(false);
    expect(attacked.code).not.toBe(0);
    expect(relay.cuts).toBeGreaterThan(0);
    // The changed key was judged (and refused) after the backend had gone.
    await waitFor(() =>
      guarded.logs.some((line) => line.msg === 'backend host key mismatch: connection refused'),
    );

    const beside = await login(honest, steady);
    expect(beside.stderr).toBe('');
    expect(beside.code).toBe(0);
    // And the attacked proxy itself still answers (its listener, its store).
    relay.cutAfterKexReply = false;
    const again = await login(guarded, changing);
    expect(again.timedOut).toBe(false);
    expect(again.code).not.toBe(0);
    expect(unhandled).toEqual([]);
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 50));
}

interface CuttingRelay {
  port: number;
  cutAfterKexReply: boolean;
  cuts: number;
  close(): Promise<void>;
}

/**
 * A TCP relay to the backend that, when told, forwards the server's SSH_MSG_KEX_DH_GEX_REPLY and then
 * hangs up on ftpx at once (the first key exchange is in clear text, so its packets can be read).
 */
async function startCuttingRelay(backendPort: number): Promise<CuttingRelay> {
  const sockets = new Set<Socket>();
  const state: CuttingRelay = {
    port: 0,
    cutAfterKexReply: false,
    cuts: 0,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  const server: Server = createServer((front) => {
    const back = tcpConnect(backendPort, '127.0.0.1');
    sockets.add(front);
    sockets.add(back);
    front.on('close', () => sockets.delete(front));
    back.on('close', () => sockets.delete(back));
    front.on('error', () => back.destroy());
    back.on('error', () => front.destroy());
    front.pipe(back);
    let pending = Buffer.alloc(0);
    let identDone = false;
    let watching = state.cutAfterKexReply;
    back.on('data', (chunk: Buffer) => {
      if (!watching) {
        front.write(chunk);
        return;
      }
      pending = Buffer.concat([pending, chunk]);
      if (!identDone) {
        const end = pending.indexOf('\n');
        if (end < 0) return;
        front.write(pending.subarray(0, end + 1));
        pending = pending.subarray(end + 1);
        identDone = true;
      }
      while (pending.length >= 6) {
        const length = pending.readUInt32BE(0);
        if (pending.length < 4 + length) return;
        const packet = pending.subarray(0, 4 + length);
        pending = pending.subarray(4 + length);
        front.write(packet);
        if (packet[5] === KEX_DH_GEX_REPLY) {
          state.cuts += 1;
          watching = false;
          front.end(() => front.destroy());
          back.destroy();
          return;
        }
      }
    });
    back.on('end', () => front.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  state.port = typeof address === 'object' && address ? address.port : 0;
  return state;
}
