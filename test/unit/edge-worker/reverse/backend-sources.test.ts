import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../edge-worker/config/config-error.js';
import { type PoolConfig, poolSchema } from '../../../../edge-worker/config/schema.js';
import { Logger } from '../../../../edge-worker/log/logger.js';
import {
  parseBackendSource,
  perUserPath,
  unconnectableBackend,
} from '../../../../edge-worker/reverse/backend-source.js';
import { loadPool, readUserBackends, UserRefusedError } from '../../../../edge-worker/reverse/pool.js';
import { parseBackendUrl } from '../../../../functions/core/backend-url.js';

describe('parseBackendSource', () => {
  it('takes URLs (with +srv / +txt) and absolute file: paths, flagging %U as per user', () => {
    expect(parseBackendSource('ftp://u:p@[::1]:2121')).toMatchObject({
      ok: true,
      source: { kind: 'url', url: { host: '::1', port: 2121, user: 'u', password: 'p' } },
    });
    expect(parseBackendSource('ftp+srv://_ftp._tcp.example.com')).toMatchObject({
      ok: true,
      source: { kind: 'url', url: { discovery: 'srv' } },
    });
    expect(parseBackendSource('ftp+txt://backends.example.com')).toMatchObject({ ok: true });
    expect(parseBackendSource('file:/etc/ftpx/backends.json')).toEqual({
      ok: true,
      source: { kind: 'file', path: '/etc/ftpx/backends.json', perUser: false, perGroup: false },
    });
    expect(parseBackendSource('FILE:/etc/ftpx/users/%U.json')).toEqual({
      ok: true,
      source: { kind: 'file', path: '/etc/ftpx/users/%U.json', perUser: true, perGroup: false },
    });
    expect(parseBackendSource('file:/etc/ftpx/groups/%g.json')).toEqual({
      ok: true,
      source: { kind: 'file', path: '/etc/ftpx/groups/%g.json', perUser: false, perGroup: true },
    });
  });

  it('refuses relative paths, %U with %g, and sql: with the entry in the message', () => {
    const error = (text: string) => {
      const parsed = parseBackendSource(text);
      return parsed.ok ? undefined : parsed.error;
    };
    expect(error('file:backends.json')).toBe(
      '"file:backends.json": the path of a file: backend list must be absolute, got "backends.json"',
    );
    expect(error('file:')).toBe('"file:": file: needs the path of a JSON file');
    expect(error('file:/etc/ftpx/%U/%g.json')).toBe(
      '"file:/etc/ftpx/%U/%g.json": a path has %U or %g, not both',
    );
    expect(error('sql:/GetBackends')).toMatch(/^"sql:\/GetBackends": backend lists from SQL queries/);
    // FTPS backends are supported (explicit, or implicit at port 990), SFTP ones with an sftp listener.
    expect(error('ftps://u:secret@h')).toBeUndefined();
    expect(error('sftp+srv://_sftp._tcp.example.com')).toBeUndefined();
    expect(error('ftp://h:0')).toBe('"0" is not a port number in backend URL "ftp://h:0"');
  });

  it('says why a +srv / +txt URL the control plane left unresolved cannot be connected to', () => {
    const url = (text: string) => {
      const parsed = parseBackendUrl(text);
      if (!parsed.ok) throw new Error(parsed.error);
      return parsed.url;
    };
    expect(unconnectableBackend(url('ftp+srv://_ftp._tcp.example.com'))).toBe(
      'the control plane returned the SRV name unresolved (it does not support DNS discovery)',
    );
    expect(unconnectableBackend(url('ftp+txt://example.com'))).toBe(
      'the control plane returned the TXT name unresolved (it does not support DNS discovery)',
    );
    expect(unconnectableBackend(url('ftp://example.com'))).toBeUndefined();
  });
});

describe('perUserPath (%U)', () => {
  it('puts the user name in every %U', () => {
    expect(perUserPath('/etc/ftpx/%U/%U.json', 'alice')).toEqual({
      ok: true,
      path: '/etc/ftpx/alice/alice.json',
    });
    expect(perUserPath('/etc/ftpx/users/%U.json', 'a..b')).toEqual({
      ok: true,
      path: '/etc/ftpx/users/a..b.json',
    });
  });

  it('refuses names that could leave the directory', () => {
    for (const [user, reason] of [
      ['../etc/passwd', 'the user name contains "/"'],
      ['a/b', 'the user name contains "/"'],
      ['..', 'the user name starts with "."'],
      ['.', 'the user name starts with "."'],
      ['.hidden', 'the user name starts with "."'],
      ['x\0y', 'the user name contains a NUL byte'],
      ['', 'the user name is empty'],
    ]) {
      expect(perUserPath('/etc/ftpx/users/%U.json', user as string), JSON.stringify(user)).toEqual({
        ok: false,
        reason,
      });
    }
  });
});

describe('loadPool and readUserBackends', () => {
  let root: string;
  const lines: string[] = [];
  const log = new Logger({ write: (line) => lines.push(line) }, 'debug');
  const logged = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  const pool = (settings: Record<string, unknown>): PoolConfig =>
    poolSchema.parse({ name: 'files', ...settings });
  const json = async (path: string, value: unknown, mode = 0o644) => {
    await writeFile(path, JSON.stringify(value));
    await chmod(path, mode);
  };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'ftpx-pool-'));
    await chmod(root, 0o755);
    await mkdir(join(root, 'users'), { mode: 0o755 });
    await json(join(root, 'static.json'), ['ftp://s1:2121', 'ftp://svc:pw@s2:2121', 'bogus']);
    await json(join(root, 'users', 'alice.json'), ['ftp://alice-home:21']);
    await json(join(root, 'users', 'mallory.json'), ['ftp://evil:21'], 0o666);
    await json(join(root, 'users', 'empty.json'), []);
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('reads static files once into the global list, in configuration order, logging skipped items', async () => {
    lines.length = 0;
    const loaded = await loadPool(
      pool({
        proxyAuth: true,
        backends: ['ftp://first:21', `file:${join(root, 'static.json')}`, 'ftp://last:21'],
      }),
      log,
    );
    expect(loaded.global.map((backend) => [backend.key, backend.source])).toEqual([
      ['ftp://first:21', 'config'],
      ['ftp://s1:2121', `file:${join(root, 'static.json')}`],
      ['ftp://s2:2121', `file:${join(root, 'static.json')}`],
      ['ftp://last:21', 'config'],
    ]);
    expect(loaded.global[2]?.url.password).toBe('pw');
    expect(loaded.perUserFiles).toEqual([]);
    expect(logged()).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        msg: 'backend list entry skipped',
        file: join(root, 'static.json'),
        item: 2,
      }),
    );
    expect(lines.join('')).not.toContain('pw@');
  });

  it('refuses to start on a static file that is refused, naming the file and the reason', async () => {
    lines.length = 0;
    await json(join(root, 'open.json'), ['ftp://a'], 0o646);
    const error = await loadPool(pool({ backends: [`file:${join(root, 'open.json')}`] }), log).catch(
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([
      {
        file: join(root, 'open.json'),
        message: 'backend list of pool "files" refused: it is world-writable',
      },
    ]);
    expect(logged()).toContainEqual(
      expect.objectContaining({
        level: 'error',
        msg: 'backend list file refused',
        reason: 'it is world-writable',
      }),
    );
    const missing = await loadPool(pool({ backends: [`file:${join(root, 'absent.json')}`] }), log).catch(
      (err: unknown) => err,
    );
    expect((missing as ConfigError).issues[0]?.message).toContain('no such file or directory');
  });

  it('refuses a static file with a URL password in a pool without proxyAuth, at its line', async () => {
    lines.length = 0;
    await writeFile(join(root, 'shared.json'), '[\n  "ftp://s1:2121",\n  "ftp://svc:pw@s2:2121"\n]\n');
    const error = await loadPool(pool({ backends: [`file:${join(root, 'shared.json')}`] }), log).catch(
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([
      {
        file: join(root, 'shared.json'),
        line: 3,
        key: 'item 1 (counting from 0)',
        message: expect.stringMatching(
          /^backend list of pool "files" refused: a password in a backend URL needs proxy authentication/,
        ),
      },
    ]);
    expect(String((error as Error).message)).not.toContain('pw');
  });

  it('leaves out URL passwords of per-user files in a pool without proxyAuth', async () => {
    await json(join(root, 'users', 'carol.json'), ['ftp://svc:pw@shared:21', 'ftp://carol-home:21']);
    const loaded = await loadPool(
      pool({ connectPolicy: 'PerUser', backends: [`file:${join(root, 'users', '%U.json')}`] }),
      log,
    );
    lines.length = 0;
    const carol = await readUserBackends(loaded, 'carol', log);
    expect(carol.map((backend) => backend.key)).toEqual(['ftp://carol-home:21']);
    expect(logged()).toContainEqual(
      expect.objectContaining({ level: 'warn', msg: 'backend list entry skipped', item: 0 }),
    );
    expect(lines.join('')).not.toContain('pw@');
    const trusted = await loadPool(
      pool({
        connectPolicy: 'PerUser',
        proxyAuth: true,
        backends: [`file:${join(root, 'users', '%U.json')}`],
      }),
      log,
    );
    expect((await readUserBackends(trusted, 'carol', log)).map((backend) => backend.key)).toEqual([
      'ftp://shared:21',
      'ftp://carol-home:21',
    ]);
  });

  it("reads a user's %U files at each call, with a log line for each refusal", async () => {
    const loaded = await loadPool(
      pool({
        connectPolicy: 'PerUser',
        backends: ['ftp://global:21', `file:${join(root, 'users', '%U.json')}`],
      }),
      log,
    );
    expect(loaded.perUserFiles).toEqual([join(root, 'users', '%U.json')]);
    expect(loaded.global.map((backend) => backend.key)).toEqual(['ftp://global:21']);
    lines.length = 0;
    const alice = await readUserBackends(loaded, 'alice', log);
    expect(alice.map((backend) => [backend.key, backend.source])).toEqual([
      ['ftp://alice-home:21', `file:${join(root, 'users', 'alice.json')}`],
    ]);
    expect(await readUserBackends(loaded, 'bob', log)).toEqual([]);
    expect(await readUserBackends(loaded, 'empty', log)).toEqual([]);
    expect(await readUserBackends(loaded, 'mallory', log)).toEqual([]);
    expect(logged()).toEqual([
      expect.objectContaining({
        level: 'info',
        msg: 'no per-user backend list file',
        file: join(root, 'users', 'bob.json'),
      }),
      expect.objectContaining({
        level: 'warn',
        msg: 'per-user backend list file refused',
        file: join(root, 'users', 'mallory.json'),
        reason: 'it is world-writable',
      }),
    ]);
    // An edit applies to the next session.
    await json(join(root, 'users', 'bob.json'), ['ftp://bob-home:21']);
    expect((await readUserBackends(loaded, 'bob', log)).map((backend) => backend.key)).toEqual([
      'ftp://bob-home:21',
    ]);
  });

  it('refuses a user name that could leave the directory, before touching the file system', async () => {
    const loaded = await loadPool(
      pool({ connectPolicy: 'PerUser', backends: [`file:${join(root, 'users', '%U.json')}`] }),
      log,
    );
    lines.length = 0;
    for (const user of ['../static', '..', '.alice', 'users/alice']) {
      await expect(readUserBackends(loaded, user, log)).rejects.toBeInstanceOf(UserRefusedError);
    }
    expect(logged().map((line) => line.msg)).toEqual(
      Array(4).fill('user name refused for per-user backend lists'),
    );
  });
});
