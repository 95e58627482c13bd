import { chown, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRandomFile, sha256File } from '../../support/files.js';
import { startTestProxy, type TestProxy } from '../../support/proxy.js';
import { type SshTarget, scp, sftpBatch, ssh } from '../../support/ssh-clients.js';
import { makeKeyPair, type Sshd, startSshd } from '../../support/sshd.js';

const BIG = 64 * 1024 * 1024;
const SCP_SIZE = 8 * 1024 * 1024;

let sshd: Sshd;
let proxy: TestProxy;
let scratch: string;
let target: SshTarget;
let password: { password: string };
let xferlog: string;

/** The proxy's audit lines for one SFTP operation. */
const operations = (op: string) =>
  proxy.logs.filter((line) => line.msg === 'sftp operation' && line.op === op) as Record<string, unknown>[];

beforeAll(async () => {
  // The backend starts a key re-exchange every 16 MiB: rekeys happen in the middle of transfers.
  sshd = await startSshd({ extraConfig: 'RekeyLimit 16M' });
  scratch = await mkdtemp(join(tmpdir(), 'ftpx-sftp-transfers-'));
  await makeKeyPair(join(scratch, 'host_rsa'), 'rsa');
  xferlog = join(scratch, 'xferlog');
  proxy = await startTestProxy({
    backends: [sshd.url],
    transferLog: xferlog,
    listener: { protocol: 'sftp', sftp: { hostKeys: [join(scratch, 'host_rsa')] } },
  });
  target = { host: proxy.host, port: proxy.port, user: sshd.user.name };
  password = { password: sshd.user.password };
});

afterAll(async () => {
  await proxy?.close();
  await sshd?.stop();
  await rm(scratch, { recursive: true, force: true });
});

describe('SFTP and SCP relayed through ftpx to OpenSSH sshd', () => {
  it('uploads 64 MiB intact while the client rekeys, and audits it', async () => {
    const local = join(scratch, 'up.bin');
    const sum = await makeRandomFile(local, BIG);
    const remote = join(sshd.dataDir, 'up.bin');
    const result = await sftpBatch(target, password, [`put ${local} ${remote}`], {
      extraOptions: ['-o', 'RekeyLimit=16M'],
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(await sha256File(remote)).toBe(sum);
    expect(proxy.logs.some((line) => line.msg === 'client rekeyed')).toBe(true);
    expect(proxy.logs.some((line) => line.msg === 'backend rekeyed')).toBe(true);
    const close = operations('close').find((line) => line.path === remote);
    expect(close).toMatchObject({ bytesWritten: BIG, result: 'ok', user: sshd.user.name, backend: sshd.url });
  });

  it('downloads 64 MiB intact', async () => {
    const remote = join(sshd.dataDir, 'down.bin');
    const sum = await makeRandomFile(remote, BIG);
    const local = join(scratch, 'down.bin');
    const result = await sftpBatch(target, password, [`get ${remote} ${local}`]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(await sha256File(local)).toBe(sum);
    const close = operations('close').find((line) => line.path === remote);
    expect(close).toMatchObject({ bytesRead: BIG, bytesWritten: 0, result: 'ok' });
    const log = await readFile(xferlog, 'utf8');
    expect(log).toMatch(new RegExp(` ${BIG} ${remote} b _ o r ${sshd.user.name} sftp 0 \\* c`));
    expect(log).toMatch(
      new RegExp(` ${BIG} ${join(sshd.dataDir, 'up.bin')} b _ i r ${sshd.user.name} sftp 0 \\* c`),
    );
  });

  it('lists a directory of 2,000 entries', async () => {
    const dir = join(sshd.dataDir, 'many');
    await mkdir(dir);
    await Promise.all(Array.from({ length: 2000 }, (_, i) => writeFile(join(dir, `f${i}.txt`), `${i}`)));
    const result = await sftpBatch(target, password, [`ls -1 ${dir}`]);
    expect(result.code).toBe(0);
    const names = result.stdout.split('\n').filter((line) => /f\d+\.txt$/.test(line));
    expect(names).toHaveLength(2000);
  });

  it('stats, renames, removes and makes directories, each audited', async () => {
    const file = join(sshd.dataDir, 'a.txt');
    await writeFile(file, 'hello');
    await chown(file, sshd.user.uid, sshd.user.gid);
    const moved = join(sshd.dataDir, 'b.txt');
    const made = join(sshd.dataDir, 'newdir');
    const result = await sftpBatch(target, password, [
      `ls -l ${file}`,
      `rename ${file} ${moved}`,
      `mkdir ${made}`,
      `rm ${moved}`,
      `rmdir ${made}`,
      `-rm ${join(sshd.dataDir, 'missing.txt')}`,
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/-rw-.* 5 .*a\.txt/);
    await expect(stat(moved)).rejects.toThrow();
    await expect(stat(made)).rejects.toThrow();
    expect(operations('rename').find((line) => line.path === file)).toMatchObject({
      target: moved,
      result: 'ok',
    });
    expect(operations('mkdir').find((line) => line.path === made)).toMatchObject({ result: 'ok' });
    expect(operations('remove').find((line) => line.path === moved)).toMatchObject({ result: 'ok' });
    expect(
      operations('remove').find((line) => line.path === join(sshd.dataDir, 'missing.txt')),
    ).toMatchObject({
      result: 'no such file',
    });
    expect(operations('stat').some((line) => line.path === file)).toBe(true);
  });

  it('copies with scp both ways (exec scp -t / -f) and logs both transfers', async () => {
    const local = join(scratch, 'scp-up.bin');
    const sum = await makeRandomFile(local, SCP_SIZE);
    const remote = join(sshd.dataDir, 'scp.bin');
    const up = await scp(target, password, local, `remote:${remote}`);
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    expect(await sha256File(remote)).toBe(sum);
    const back = join(scratch, 'scp-down.bin');
    const down = await scp(target, password, `remote:${remote}`, back);
    expect(down.code).toBe(0);
    expect(await sha256File(back)).toBe(sum);
    const transfers = proxy.logs.filter((line) => line.msg === 'scp transfer');
    expect(transfers.map((line) => line.direction)).toEqual(['incoming', 'outgoing']);
    for (const line of transfers) {
      expect(line.result).toBe('ok');
      // The file plus scp's own headers and acknowledgements.
      expect(line.bytes as number).toBeGreaterThanOrEqual(SCP_SIZE);
      expect(line.bytes as number).toBeLessThan(SCP_SIZE + 1024);
    }
    expect(await readFile(xferlog, 'utf8')).toMatch(
      new RegExp(` ${remote} b _ i r ${sshd.user.name} scp 0 \\* c`),
    );
  });

  it('passes the backend exit status of a failed scp through', async () => {
    const result = await scp(
      target,
      password,
      `remote:${join(sshd.dataDir, 'nope.bin')}`,
      join(scratch, 'x'),
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('No such file');
  });

  it('refuses a shell and other commands by default', async () => {
    const shell = await ssh(target, password, ['-T']);
    expect(shell.code).not.toBe(0);
    const command = await ssh(target, password, ['id']);
    expect(command.code).not.toBe(0);
    expect(command.stdout).not.toContain('uid=');
    expect(
      proxy.logs.some((line) => line.msg === 'refused channel request' && line.request === 'shell'),
    ).toBe(true);
    expect(proxy.logs.some((line) => line.msg === 'refused channel request' && line.request === 'exec')).toBe(
      true,
    );
  });

  it('refuses port forwarding by default', async () => {
    const refused = await new Promise<string>((resolve, reject) => {
      const client = new Client();
      client.on('ready', () => {
        client.forwardOut('127.0.0.1', 1234, '127.0.0.1', sshd.port, (err) => {
          client.end();
          resolve(err ? err.message : 'opened');
        });
      });
      client.on('error', reject);
      client.connect({
        host: '127.0.0.1',
        port: proxy.port,
        username: sshd.user.name,
        password: sshd.user.password,
      });
    });
    expect(refused).toMatch(/Channel open failure/);
    expect(proxy.logs.some((line) => line.msg === 'refused port forwarding')).toBe(true);
  });
});
