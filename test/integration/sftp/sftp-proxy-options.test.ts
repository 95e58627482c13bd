import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BackendSsh } from '../../../edge-worker/sftp/backend-ssh-client.js';
import { startTestProxy } from '../../support/proxy.js';
import { sftpBatch } from '../../support/ssh-clients.js';
import { makeKeyPair, startSshd } from '../../support/sshd.js';

// ProxySFTPOptions PessimisticKexinit and OldProtocolCompat hold by construction with ssh2: its
// client sends KEXINIT only after the server's identification line, and it takes `SSH-1.99-`
// servers. A scripted server on loopback watches what ftpx's backend client sends, and when.
// NoExtensionNegotiation and NoStrictKex change ftpx's offer: sshd (LogLevel DEBUG2) logs it.

const servers: Server[] = [];
const clients: BackendSsh[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.end();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A server that records everything the client sends, and sends `ident` after `delayMs`. */
async function scriptedServer(ident: string, delayMs: number) {
  const received: { at: number; bytes: Buffer }[] = [];
  let identSentAt = Number.POSITIVE_INFINITY;
  let socket: Socket | undefined;
  const server = createServer((sock) => {
    socket = sock;
    sock.on('data', (bytes: Buffer) => received.push({ at: performance.now(), bytes }));
    sock.on('error', () => {});
    setTimeout(() => {
      identSentAt = performance.now();
      sock.write(`${ident}\r\n`);
    }, delayMs);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    received,
    identSentAt: () => identSentAt,
    close: () => socket?.destroy(),
  };
}

function backendClient(port: number): BackendSsh {
  const client = new BackendSsh(
    { protocol: 'sftp', host: '127.0.0.1', port } as ConstructorParameters<typeof BackendSsh>[0],
    { timeoutMs: 10_000, algorithms: undefined, ident: 'ftpx' },
  );
  clients.push(client);
  client.connect().catch(() => {});
  return client;
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 50));
}

/** SSH_MSG_KEXINIT (20) as the first binary packet: uint32 length, byte padding, byte type. */
const isKexinit = (bytes: Buffer, offset: number) => bytes.length > offset + 5 && bytes[offset + 5] === 20;

describe('ProxySFTPOptions that hold by construction', () => {
  it('PessimisticKexinit: only the identification goes out until the server identifies itself', async () => {
    const server = await scriptedServer('SSH-2.0-Scripted_1.0', 700);
    backendClient(server.port);
    await until(() => server.received.some((chunk) => chunk.at > server.identSentAt()));
    const before = Buffer.concat(
      server.received.filter((c) => c.at < server.identSentAt()).map((c) => c.bytes),
    );
    expect(before.toString('latin1')).toBe('SSH-2.0-ftpx\r\n');
    const after = Buffer.concat(
      server.received.filter((c) => c.at >= server.identSentAt()).map((c) => c.bytes),
    );
    expect(isKexinit(after, 0)).toBe(true);
  });

  it('OldProtocolCompat: an SSH-1.99 server gets a key exchange, not a protocol mismatch', async () => {
    const server = await scriptedServer('SSH-1.99-OldServer_3.2', 0);
    backendClient(server.port);
    await until(
      () => Buffer.concat(server.received.map((c) => c.bytes)).length > 'SSH-2.0-ftpx\r\n'.length + 6,
    );
    const all = Buffer.concat(server.received.map((c) => c.bytes));
    expect(all.subarray(0, 14).toString('latin1')).toBe('SSH-2.0-ftpx\r\n');
    expect(isKexinit(all, 14)).toBe(true);
  });
});

describe('ProxySFTPOptions NoExtensionNegotiation and NoStrictKex', () => {
  it("leaves ext-info-c and kex-strict-c out of the backend's offer; logins still work", async () => {
    const keys = await mkdtemp(join(tmpdir(), 'ftpx-sftp-options-'));
    const sshd = await startSshd({ logLevel: 'DEBUG2' });
    await makeKeyPair(join(keys, 'host'), 'ed25519');
    const listener = { protocol: 'sftp', sftp: { hostKeys: [join(keys, 'host')] } };
    const plain = await startTestProxy({ backends: [sshd.url], listener });
    const without = await startTestProxy({
      backends: [sshd.url],
      listener,
      poolSettings: { sftp: { options: ['NoExtensionNegotiation', 'NoStrictKex'] } },
    });
    try {
      /** The KEX algorithms line sshd logs for the client's proposal of the next session. */
      const offered = async (port: number) => {
        const before = (await sshd.log()).length;
        const result = await sftpBatch(
          { host: '127.0.0.1', port, user: sshd.user.name },
          { password: sshd.user.password },
          ['pwd'],
        );
        expect(result.code).toBe(0);
        const log = (await sshd.logMatching(/Accepted password/)).slice(before);
        const proposal = log.split('peer client KEXINIT proposal')[1] ?? '';
        return /KEX algorithms: (\S+)/.exec(proposal)?.[1]?.split(',') ?? [];
      };
      const defaults = await offered(plain.port);
      expect(defaults).toContain('ext-info-c');
      expect(defaults).toContain('kex-strict-c-v00@openssh.com');
      const left = await offered(without.port);
      expect(left.length).toBeGreaterThan(0);
      expect(left).not.toContain('ext-info-c');
      expect(left).not.toContain('kex-strict-c-v00@openssh.com');
      expect(left).toEqual(
        defaults.filter((name) => name !== 'ext-info-c' && !name.startsWith('kex-strict-')),
      );
    } finally {
      await plain.close();
      await without.close();
      await sshd.stop();
      await rm(keys, { recursive: true, force: true });
    }
  });
});
