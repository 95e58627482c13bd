import { chmod, chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { Client } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbClient } from '../../functions/core/store/dynamodb-client.js';
import type { Table } from '../../functions/core/store/table.js';
import { createRegistryHandler } from '../../functions/registry/handler.js';
import { apiEvent } from '../integration/registry/api-client.js';
import { type CountingRelay, startCountingRelay } from '../support/counting-relay.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { type RunResult, runCommand } from '../support/run-command.js';
import { sftpBatch } from '../support/ssh-clients.js';
import { makeKeyPair, type Sshd, startSshd } from '../support/sshd.js';

/**
 * Connection limits, pre-login caps, TimeoutLogin and bans on SFTP listeners, with OpenSSH's
 * ssh/sftp and raw TCP from their own loopback addresses, in front of a real sshd behind a relay that
 * counts the connections it accepts (a refused client must cost the backend nothing). An honest
 * OpenSSH sftp session from 127.0.0.1 runs beside each attack.
 */

const ADMIN = 'limits-sftp-admin-token-0123456789abcdef';

/** A raw TCP client of the SSH listener, from `source`: what it is sent, and when it is closed. */
class RawSsh {
  private received = '';
  private closedAt: number | undefined;
  private readonly waiters: (() => void)[] = [];

  private constructor(readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (text: string) => {
      this.received += text;
      this.wake();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closedAt = Date.now();
      this.wake();
    });
  }

  static async open(port: number, source: string): Promise<RawSsh> {
    const socket = connect({ host: '127.0.0.1', port, localAddress: source });
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return new RawSsh(socket);
  }

  /** The first line the server sent (the SSH version string, or a refusal), undefined if it closed first. */
  async firstLine(ms = 10_000): Promise<string | undefined> {
    await this.until(ms, () => this.received.includes('\r\n') || this.closedAt !== undefined);
    const end = this.received.indexOf('\r\n');
    return end === -1 ? undefined : this.received.slice(0, end);
  }

  /** Whether the server closed the connection within `ms`. */
  async closed(ms = 5000): Promise<boolean> {
    await this.until(ms, () => this.closedAt !== undefined);
    return this.closedAt !== undefined;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  private async until(ms: number, done: () => boolean): Promise<void> {
    const deadline = Date.now() + ms;
    while (!done() && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

/** The first line a connection from `source` gets, and whether it is then closed. */
async function firstLine(
  port: number,
  source: string,
): Promise<{ line: string | undefined; closed: boolean }> {
  const raw = await RawSsh.open(port, source);
  const line = await raw.firstLine();
  const closed = line?.startsWith('SSH-') ? false : await raw.closed();
  raw.destroy();
  return { line, closed };
}

/** Polls `check` every 100 ms for up to `ms`; the last result. */
async function within<T>(ms: number, check: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('connection limits and bans on an SFTP listener', () => {
  let sshd: Sshd;
  let relay: CountingRelay;
  let dir: string;
  let askpass: string;
  /** maxConnectionsPerHost 3, maxClientsPerHost 2 (with a message argument). */
  let limits: TestProxy;
  /** maxUnauthenticatedPerHost 2, TimeoutLogin 10 s (sshd's PAM delays each wrong password 2 s), BanOnEvent rules, BanMessage. */
  let guarded: TestProxy;
  let table: Table;

  beforeAll(async () => {
    sshd = await startSshd();
    relay = await startCountingRelay({ host: '127.0.0.1', port: sshd.port });
    dir = await mkdtemp(join(tmpdir(), 'ftpx-limits-sftp-'));
    await makeKeyPair(join(dir, 'host'), 'ed25519');
    askpass = join(dir, 'askpass.sh');
    // FTPX_ASKPASS_DELAY: a user who takes that long to type the password.
    await writeFile(
      askpass,
      '#!/bin/sh\nsleep "$FTPX_ASKPASS_DELAY"\nprintf "%s\\n" "$FTPX_ASKPASS_PASSWORD"\n',
    );
    await chmod(askpass, 0o700);
    const honestFile = join(sshd.dataDir, 'honest.txt');
    await writeFile(honestFile, 'an honest file\n');
    await chown(honestFile, sshd.user.uid, sshd.user.gid);
    const backend = `sftp://127.0.0.1:${relay.port}`;
    const sftp = { hostKeys: [join(dir, 'host')] };
    limits = await startTestProxy({
      backends: [backend],
      listener: {
        name: 'sftp-limits',
        protocol: 'sftp',
        sftp,
        connections: {
          maxConnectionsPerHost: 3,
          maxClientsPerHost: { max: 2, message: 'No more than %m sessions from your address.' },
        },
      },
    });
    guarded = await startTestProxy({
      backends: [backend],
      listener: {
        name: 'sftp-guarded',
        protocol: 'sftp',
        sftp,
        maxLoginAttempts: 6,
        timeouts: { login: '10s' },
        connections: { maxUnauthenticatedPerHost: 2 },
      },
      settings: {
        bans: {
          message: 'Banned: %a',
          pollInterval: '300ms',
          rules: [
            { event: 'SSHAuthFailure', count: 2, window: '1m', duration: '1h' },
            { event: 'TimeoutLogin', count: 2, window: '1m', duration: '1h' },
          ],
        },
      },
    });
    table = {
      client: createDynamoDbClient({ endpoint: guarded.worker.storeEndpoint as string, region: 'us-east-1' }),
      name: 'ftpx',
    };
  }, 60_000);

  afterAll(async () => {
    table?.client.destroy();
    await limits?.close();
    await guarded?.close();
    await relay?.close();
    await sshd?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** An honest OpenSSH sftp session from 127.0.0.1 lists the directory and fetches a file. */
  const honest = async (proxy: TestProxy) => {
    const local = join(dir, `honest-${Date.now()}.txt`);
    const run = await sftpBatch(
      { host: '127.0.0.1', port: proxy.port, user: sshd.user.name },
      { password: sshd.user.password },
      [`get ${sshd.dataDir}/honest.txt ${local}`],
    );
    expect(run.code, run.stderr).toBe(0);
    expect(await readFile(local, 'utf8')).toBe('an honest file\n');
  };

  /**
   * OpenSSH (`ssh` or `sftp`) from `source` with `password`, up to `prompts` password attempts on one
   * connection, at LogLevel INFO so that a disconnect message shows on stderr.
   */
  const openssh = async (
    program: 'ssh' | 'sftp',
    proxy: TestProxy,
    source: string,
    password: string,
    prompts = 1,
    askpassDelayS = 0,
  ): Promise<RunResult<string>> => {
    const options = [
      '-o',
      'StrictHostKeyChecking=no',
      '-o',
      'UserKnownHostsFile=/dev/null',
      '-o',
      'LogLevel=INFO',
      '-o',
      `BindAddress=${source}`,
      '-o',
      'PubkeyAuthentication=no',
      '-o',
      'PreferredAuthentications=password',
      '-o',
      `NumberOfPasswordPrompts=${prompts}`,
      '-o',
      'BatchMode=no',
    ];
    const args =
      program === 'sftp'
        ? [...options, '-P', String(proxy.port), '-b', '-', `${sshd.user.name}@127.0.0.1`]
        : [...options, '-p', String(proxy.port), `${sshd.user.name}@127.0.0.1`, 'true'];
    const result = await runCommand(program, args, {
      input: program === 'sftp' ? 'pwd\n' : '',
      env: {
        ...process.env,
        SSH_ASKPASS: askpass,
        SSH_ASKPASS_REQUIRE: 'force',
        DISPLAY: process.env.DISPLAY ?? ':0',
        FTPX_ASKPASS_PASSWORD: password,
        FTPX_ASKPASS_DELAY: String(askpassDelayS),
      },
      timeoutMs: 30_000,
    });
    return { ...result, stdout: result.stdout.toString('utf8') };
  };

  /** A logged-in ssh2 client from `source`, held open. */
  const holder = (proxy: TestProxy, source: string): Promise<Client> =>
    new Promise((resolve, reject) => {
      const client = new Client();
      client.once('ready', () => resolve(client));
      client.once('error', reject);
      client.connect({
        host: '127.0.0.1',
        port: proxy.port,
        localAddress: source,
        username: sshd.user.name,
        password: sshd.user.password,
      });
    });

  it('MaxClientsPerHost refuses the third login from an address with an SSH disconnect carrying its message', async () => {
    const source = '127.0.0.41';
    const held = [await holder(limits, source), await holder(limits, source)];
    const refused = await openssh('sftp', limits, source, sshd.user.password);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('No more than 2 sessions from your address.');
    await honest(limits);
    for (const client of held) client.end();
  });

  it('MaxConnectionsPerHost refuses at connect with a line before the version string, at no backend cost', async () => {
    const source = '127.0.0.42';
    const held = [await holder(limits, source), await holder(limits, source)];
    const waiting = await RawSsh.open(limits.port, source);
    expect(await waiting.firstLine()).toMatch(/^SSH-2\.0-/);
    const before = relay.accepted();
    expect(await firstLine(limits.port, source)).toEqual({
      line: 'Sorry, the maximum number of connections (3) for your host are already connected.',
      closed: true,
    });
    const sftp = await openssh('sftp', limits, source, sshd.user.password);
    expect(sftp.code).not.toBe(0);
    expect(relay.accepted()).toBe(before);
    await honest(limits);
    waiting.destroy();
    for (const client of held) client.end();
    // The places are given back once those connections are gone.
    const again = await within(
      5000,
      () => firstLine(limits.port, source),
      (r) => r.line?.startsWith('SSH-') ?? false,
    );
    expect(again.line).toMatch(/^SSH-2\.0-/);
  });

  it('caps SSH connections not logged in per address; TimeoutLogin ends silent ones and its rule bans', async () => {
    const source = '127.0.0.43';
    const openedAt = Date.now();
    const silent = [await RawSsh.open(guarded.port, source), await RawSsh.open(guarded.port, source)];
    for (const raw of silent) expect(await raw.firstLine()).toMatch(/^SSH-2\.0-/);
    const before = relay.accepted();
    expect(await firstLine(guarded.port, source)).toEqual({
      line: 'Too many connections waiting to log in; try again later.',
      closed: true,
    });
    await honest(guarded);
    // TimeoutLogin (10 s from accept) ends both, though neither sent a version string; that is the
    // rule's second TimeoutLogin: the address is banned.
    for (const raw of silent) expect(await raw.closed(25_000)).toBe(true);
    expect(Date.now() - openedAt).toBeGreaterThanOrEqual(9000);
    const banned = await within(
      3000,
      () => firstLine(guarded.port, source),
      (r) => r.line === `Banned: ${source}`,
    );
    expect(banned).toEqual({ line: `Banned: ${source}`, closed: true });
    // Neither the refused nor the silent connections reached the backend (the honest session did).
    expect(relay.accepted()).toBe(before + 1);
    await honest(guarded);
  });

  it('TimeoutLogin ends a client still at the password prompt with an SSH disconnect that says so', async () => {
    const slow = await openssh('ssh', guarded, '127.0.0.45', sshd.user.password, 1, 20);
    expect(slow.code).not.toBe(0);
    expect(slow.stderr).toMatch(/Received disconnect from 127\.0\.0\.1 port \d+:11: Login timeout exceeded/);
    await honest(guarded);
  });

  it('SSH password failures ban the address (BanOnEvent SSHAuthFailure); the session that tripped it is disconnected', async () => {
    const source = '127.0.0.44';
    const sprayer = await openssh('ssh', guarded, source, 'wrong-password', 5);
    expect(sprayer.code).not.toBe(0);
    // Two failures of five allowed prompts: the ban, not MaxLoginAttempts (6), ended the connection.
    expect(sprayer.stderr).toMatch(
      /Received disconnect from 127\.0\.0\.1 port \d+:14: Banned: 127\.0\.0\.44/,
    );
    const before = relay.accepted();
    expect(await firstLine(guarded.port, source)).toEqual({ line: `Banned: ${source}`, closed: true });
    const again = await openssh('sftp', guarded, source, sshd.user.password);
    expect(again.code).not.toBe(0);
    expect(relay.accepted()).toBe(before);
    await honest(guarded);
  });

  it('a network ban made through /v1/bans refuses every address in it, and only those', async () => {
    const registry = createRegistryHandler({ table, bootstrapToken: ADMIN, log: () => {} });
    const context = { awsRequestId: 'test', functionName: 'registry' } as Context;
    const call = (method: string, path: string, json?: unknown) =>
      registry(apiEvent(method, path, { token: ADMIN, ...(json ? { json } : {}) }), context);
    const bad = await call('PUT', '/v1/bans/host/127.0.2.1%2F24', {});
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('did you mean');
    const made = await call('PUT', '/v1/bans/host/127.0.2.0%2F24', { reason: 'test network' });
    expect(made.statusCode).toBe(200);
    expect(JSON.parse(made.body as string)).toMatchObject({ kind: 'host', value: '127.0.2.0/24' });
    const refused = await within(
      3000,
      () => firstLine(guarded.port, '127.0.2.7'),
      (r) => r.closed,
    );
    expect(refused).toEqual({ line: 'Banned: 127.0.2.7', closed: true });
    const before = relay.accepted();
    const sftp = await openssh('sftp', guarded, '127.0.2.200', sshd.user.password);
    expect(sftp.code).not.toBe(0);
    expect(relay.accepted()).toBe(before);
    // Next door is not in the network.
    const outside = await openssh('sftp', guarded, '127.0.3.7', sshd.user.password);
    expect(outside.code, outside.stderr).toBe(0);
    expect((await call('DELETE', '/v1/bans/host/127.0.2.0%2F24')).statusCode).toBe(204);
    const lifted = await within(
      3000,
      () => firstLine(guarded.port, '127.0.2.7'),
      (r) => r.line?.startsWith('SSH-') ?? false,
    );
    expect(lifted.line).toMatch(/^SSH-2\.0-/);
  });
});
