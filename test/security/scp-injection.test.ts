import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProftpdSftp, startProftpdSftp } from '../support/proftpd-sftp.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { type SshTarget, scp, ssh } from '../support/ssh-clients.js';
import { makeKeyPair, type Sshd, startSshd } from '../support/sshd.js';

/**
 * Issue 14, hole 1: the client's `exec` string for scp used to reach the backend's shell as typed,
 * so `scp -t x; touch owned` ran `touch` on the backend with only `scp` allowed. Each attack below
 * goes through OpenSSH's ssh client, ftpx and a real OpenSSH sshd; the proof that nothing ran is the
 * backend's file system. Real `scp -O` (legacy protocol, exec scp -t/-f) and `scp` in SFTP mode keep
 * working beside it, with file names that need quoting.
 */

let sshd: Sshd;
let proxy: TestProxy;
let execProxy: TestProxy;
let scratch: string;
let target: SshTarget;
let password: { password: string };
/** Where the injected commands would leave their marks (absolute, writable by the backend user). */
let marks: string;
let uploads: string;
/** A name the injected commands create in the user's home (shared by suites: unique per run). */
const owned = `owned-${randomBytes(6).toString('hex')}`;

/** POSIX single quoting, as a careful user types a remote path for `scp -O host:PATH`. */
const q = (text: string) => `'${text.split("'").join("'\\''")}'`;

beforeAll(async () => {
  sshd = await startSshd();
  scratch = await mkdtemp(join(tmpdir(), 'ftpx-scp-injection-'));
  await makeKeyPair(join(scratch, 'host_ed25519'), 'ed25519');
  const listener = { protocol: 'sftp', sftp: { hostKeys: [join(scratch, 'host_ed25519')] } };
  proxy = await startTestProxy({ backends: [sshd.url], listener });
  // The operator's explicit choice: any command may run (the control that the attacks are real).
  execProxy = await startTestProxy({
    backends: [sshd.url],
    listener: { ...listener, sftp: { ...listener.sftp, allow: { exec: true } } },
  });
  target = { host: proxy.host, port: proxy.port, user: sshd.user.name };
  password = { password: sshd.user.password };
  marks = join(sshd.dataDir, 'marks');
  uploads = join(sshd.dataDir, 'uploads');
  for (const dir of [marks, uploads]) {
    await mkdir(dir);
    await chmod(dir, 0o777);
  }
});

afterAll(async () => {
  await proxy?.close();
  await execProxy?.close();
  if (sshd) await rm(join(sshd.user.home, owned), { force: true });
  await sshd?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** What the injected commands left on the backend: files in `marks`, and `owned` in the home. */
async function leftOnBackend(): Promise<string[]> {
  const inMarks = await readdir(marks);
  const inHome = (await readdir(sshd.user.home)).filter((name) => name === owned);
  return [...inMarks, ...inHome];
}

/** Attack strings, each trying to run `touch` beside an scp command. */
const attacks = (tag: string): [string, string][] => {
  const mark = join(marks, tag);
  return [
    ['semicolon', `scp -t ${uploads}; touch ${mark}-semicolon; touch ${owned}`],
    ['command substitution', `scp -t ${uploads}/$(touch ${mark}-dollar)`],
    ['command substitution in double quotes', `scp -t "${uploads}/$(touch ${mark}-dq)"`],
    ['backquotes', `scp -t ${uploads}/\`touch ${mark}-backquote\``],
    ['pipe', `scp -t ${uploads} | touch ${mark}-pipe`],
    ['and', `scp -t ${uploads} && touch ${mark}-and`],
    ['or', `scp -f /nonexistent || touch ${mark}-or`],
    ['background', `scp -t ${uploads} & touch ${mark}-background`],
    ['embedded newline', `scp -t ${uploads}\ntouch ${mark}-newline`],
    ['escaped newline', `scp -t ${uploads}\\\ntouch ${mark}-escaped-newline`],
    ['redirection', `scp -t ${uploads} > ${mark}-redirect`],
    ['extra path', `scp -t ${uploads} ${mark}-extra`],
    ['an option scp never sends', `scp -S /bin/sh -t ${uploads}`],
  ];
};

describe('scp command injection through ftpx (defaults: scp allowed, exec refused)', () => {
  it('refuses every injection form on the channel, logs it, and nothing runs on the backend', async () => {
    for (const [name, command] of attacks('default')) {
      const result = await ssh(target, password, [command]);
      expect(result.code, name).toBe(126);
      expect(result.stderr, name).toContain('ftpx: refused: not an scp command ftpx relays');
    }
    const refusals = proxy.logs.filter(
      (line) => line.msg === 'refused channel request' && line.request === 'exec scp',
    );
    expect(refusals).toHaveLength(attacks('default').length);
    expect(refusals.every((line) => typeof line.reason === 'string' && line.reason !== '')).toBe(true);
    expect(await leftOnBackend()).toEqual([]);
    expect(await readdir(uploads)).toEqual([]);
    // The injected commands never reached the backend at all: sshd logged no command for them.
    expect(await sshd.log()).not.toMatch(/touch/);
  });

  it('refuses other commands with a clear message', async () => {
    const result = await ssh(target, password, [`touch ${join(marks, 'plain')}`]);
    expect(result.code).toBe(126);
    expect(result.stderr).toContain('ftpx: refused: commands other than scp are not allowed here');
    expect(await leftOnBackend()).toEqual([]);
  });

  it('control: where the operator allows exec, the same strings do run (so the checks above can fail)', async () => {
    const viaExec = { ...target, port: execProxy.port };
    const [, semicolon] = attacks('control')[0] as [string, string];
    await ssh(viaExec, password, [semicolon]);
    expect(await readdir(marks)).toContain('control-semicolon');
    await rm(join(marks, 'control-semicolon'));
    await rm(join(sshd.user.home, owned), { force: true });
  });
});

describe('honest scp beside the attacks', () => {
  const awkward = `a b$c'd "e" \\f.txt`;

  it('scp -O uploads and downloads names with spaces, quotes, $ and backslashes', async () => {
    const local = join(scratch, awkward);
    const content = `payload ${randomBytes(8).toString('hex')}\n`;
    await writeFile(local, content);
    const dir = join(uploads, 'up dir $HOME');
    await mkdir(dir);
    await chmod(dir, 0o777);

    // The remote path is shell syntax for scp -O: the user quotes it (scp(1)).
    const up = await scp(target, password, local, `remote:${q(`${dir}/`)}`);
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    expect(await readFile(join(dir, awkward), 'utf8')).toBe(content);

    // Backslashes before every special character: what the remote shell and the client's own check
    // of the returned name (scp.c matches it with fnmatch, which reads backslashes alike) agree on.
    const escaped = join(dir, awkward).replace(/[^A-Za-z0-9/._-]/g, (c) => `\\${c}`);
    const back = join(scratch, 'back-escaped.txt');
    const down = await scp(target, password, `remote:${escaped}`, back);
    expect(down.stderr).toBe('');
    expect(down.code).toBe(0);
    expect(await readFile(back, 'utf8')).toBe(content);

    // Single and double quotes: the client's name check (CVE-2019-6111) does not unquote, so the
    // user turns it off with -T, as scp(1) says; ftpx and the backend's shell read the path right.
    const back2 = join(scratch, 'back-single.txt');
    const down2 = await scp(target, password, `remote:${q(join(dir, awkward))}`, back2, {
      extraOptions: ['-T'],
    });
    expect(down2.stderr).toBe('');
    expect(down2.code).toBe(0);
    expect(await readFile(back2, 'utf8')).toBe(content);
    const dq = `"${join(dir, awkward).replace(/[$"\\`]/g, (c) => `\\${c}`)}"`;
    const back3 = join(scratch, 'back-double.txt');
    const down3 = await scp(target, password, `remote:${dq}`, back3, { extraOptions: ['-T'] });
    expect(down3.code).toBe(0);
    expect(await readFile(back3, 'utf8')).toBe(content);

    const transfers = proxy.logs.filter((line) => line.msg === 'scp transfer');
    expect(transfers.map((line) => [line.direction, line.result])).toEqual([
      ['incoming', 'ok'],
      ['outgoing', 'ok'],
      ['outgoing', 'ok'],
      ['outgoing', 'ok'],
    ]);
    expect(transfers[1]?.path).toBe(join(dir, awkward));
  });

  it('scp -O keeps remote wildcards and recursive copies working', async () => {
    const dir = join(uploads, 'glob');
    await mkdir(dir);
    await chmod(dir, 0o777);
    await writeFile(join(dir, 'one.txt'), '1');
    await writeFile(join(dir, 'two.txt'), '2');
    await writeFile(join(dir, 'skip.bin'), 'x');
    const into = join(scratch, 'globbed');
    await mkdir(into);
    const down = await scp(target, password, `remote:${dir}/*.txt`, into);
    expect(down.code).toBe(0);
    expect((await readdir(into)).sort()).toEqual(['one.txt', 'two.txt']);

    const tree = join(scratch, 'tree x');
    await mkdir(join(tree, 'sub'), { recursive: true });
    await writeFile(join(tree, 'sub', 'f'), 'deep');
    const up = await scp(target, password, tree, `remote:${q(`${uploads}/`)}`, { extraOptions: ['-r'] });
    expect(up.code).toBe(0);
    expect(await readFile(join(uploads, 'tree x', 'sub', 'f'), 'utf8')).toBe('deep');
  });

  it('scp in SFTP mode (the default of OpenSSH 9) works with the same name', async () => {
    const local = join(scratch, `sftp ${awkward}`);
    await writeFile(local, 'over sftp');
    // -s after the helper's -O: scp's last mode option wins (SFTP).
    const up = await scp(target, password, local, `remote:${uploads}/`, { extraOptions: ['-s'] });
    expect(up.code).toBe(0);
    expect(await readFile(join(uploads, `sftp ${awkward}`), 'utf8')).toBe('over sftp');
    expect(await leftOnBackend()).toEqual([]);
  });
});

describe('honest scp -O to a ProFTPD mod_sftp backend (it splits the command itself, no shell)', () => {
  let backend: ProftpdSftp;
  let viaProxy: TestProxy;

  beforeAll(async () => {
    backend = await startProftpdSftp();
    viaProxy = await startTestProxy({
      backends: [backend.url],
      listener: { protocol: 'sftp', sftp: { hostKeys: [join(scratch, 'host_ed25519')] } },
    });
  });
  afterAll(async () => {
    await viaProxy?.close();
    await backend?.stop();
  });

  it('stores names typed with single quotes, backslashes or double quotes under their real names', async () => {
    const to = { host: viaProxy.host, port: viaProxy.port, user: backend.user };
    const auth = { password: backend.password };
    const local = join(scratch, 'for-mod-sftp.txt');
    await writeFile(local, 'to mod_sftp');
    // mod_sftp reads double quotes with backslash escapes and nothing else; ftpx's rebuilt command
    // uses that form, so all three spellings arrive as the name the user meant.
    const typed: [string, string][] = [
      [`remote:${q('/single $x "q" \\b.txt')}`, 'single $x "q" \\b.txt'],
      ['remote:/esc\\ space\\$.txt', 'esc space$.txt'],
      ['remote:"/dq it\'s.txt"', "dq it's.txt"],
      ['remote:/plain.txt', 'plain.txt'],
    ];
    for (const [remote] of typed) {
      const up = await scp(to, auth, local, remote);
      expect(up.stderr, remote).toBe('');
      expect(up.code, remote).toBe(0);
    }
    expect((await readdir(backend.homeDir)).sort()).toEqual(typed.map(([, name]) => name).sort());
  });
});
