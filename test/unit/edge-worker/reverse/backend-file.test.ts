import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BACKEND_FILE_MAX_BYTES,
  parseBackendFile,
  readBackendFile,
} from '../../../../edge-worker/reverse/backend-file.js';

const STRICT = { ignoreConfigPerms: false };
const LENIENT = { ignoreConfigPerms: true };

/** mod_proxy's checks on `file:` backend lists (ProxyReverseServers, http://www.proftpd.org/docs/contrib/mod_proxy.html#ProxyReverseServers), on real files, as root. */
describe('readBackendFile', () => {
  let root: string;
  /** A private directory (0700 from mkdtemp, made 0755) with the files of one test. */
  const dir = async (name: string, mode = 0o755) => {
    const path = join(root, name);
    await mkdir(path);
    await chmod(path, mode); // chmod, not mkdir's mode: the umask does not apply
    return path;
  };
  const file = async (path: string, content: unknown, mode = 0o644) => {
    await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
    await chmod(path, mode);
    return path;
  };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'ftpx-backend-file-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('reads a JSON array of URLs, keeping credentials in the URL and out of the key', async () => {
    const path = await file(join(await dir('ok'), 'backends.json'), [
      'ftp://alice:s3cret@10.0.0.1:2121',
      'ftp://[2001:db8::1]',
      'ftp+srv://_ftp._tcp.example.com',
    ]);
    const result = await readBackendFile(path, STRICT);
    expect(result).toMatchObject({ ok: true, skipped: [], ignoredItems: 0 });
    if (!result.ok) throw new Error('refused');
    expect(result.backends.map((backend) => backend.key)).toEqual([
      'ftp://10.0.0.1:2121',
      'ftp://[2001:db8::1]:21',
      'ftp+srv://_ftp._tcp.example.com:21',
    ]);
    expect(result.backends[0]?.url).toMatchObject({ user: 'alice', password: 's3cret', port: 2121 });
    expect(result.backends[2]?.url.discovery).toBe('srv');
  });

  it('knows the line each item starts on, past escapes, brackets and commas inside strings', () => {
    const result = parseBackendFile(
      '[ "ftp://a:21",\n  "ftp://b\\"x:21", 7, ["ftp://c:21",\n "nested"],\n\n  "ftp://u:p,]@d:21"\n]',
    );
    if (!result.ok) throw new Error('refused');
    expect(result.backends.map((backend) => [backend.item, backend.line])).toEqual([
      [0, 1],
      [4, 5],
    ]);
  });

  it('skips malformed items with a reason each, never quoting a password', async () => {
    const path = await file(join(await dir('mixed'), 'backends.json'), [
      'ftp://good:21',
      42,
      null,
      'http://web.example',
      'ftp://bob:hunter2@host:99999',
      'ftps://tls.example',
      'sftp://ssh.example',
      'ftp://also-good',
    ]);
    const result = await readBackendFile(path, STRICT);
    if (!result.ok) throw new Error(result.reason);
    // sftp:// entries are kept: a session of the other protocol refuses them at connect time.
    expect(result.backends.map((backend) => backend.key)).toEqual([
      'ftp://good:21',
      'ftps://tls.example:21',
      'sftp://ssh.example:22',
      'ftp://also-good:21',
    ]);
    expect(result.skipped).toEqual([
      { item: 1, reason: 'not a string (number)' },
      { item: 2, reason: 'not a string (null)' },
      { item: 3, reason: expect.stringContaining('expected ftp://, ftps:// or sftp://') },
      { item: 4, reason: '"99999" is not a port number in backend URL "ftp://bob:***@host:99999"' },
    ]);
    expect(JSON.stringify(result.skipped)).not.toContain('hunter2');
  });

  it('reads the first 1000 items only', async () => {
    const urls = Array.from({ length: 1005 }, (_, i) => `ftp://10.1.${Math.floor(i / 250)}.${i % 250}:21`);
    const path = await file(join(await dir('many'), 'backends.json'), urls);
    const result = await readBackendFile(path, STRICT);
    if (!result.ok) throw new Error(result.reason);
    expect(result.backends).toHaveLength(1000);
    expect(result.backends.at(-1)?.key).toBe('ftp://10.1.3.249:21');
    expect(result.ignoredItems).toBe(5);
  });

  it('refuses a relative path, a missing file (flagged as missing), a directory and a FIFO', async () => {
    expect(await readBackendFile('backends.json', STRICT)).toEqual({
      ok: false,
      missing: false,
      reason: 'the path "backends.json" is not absolute',
    });
    const here = await dir('kinds');
    expect(await readBackendFile(join(here, 'absent.json'), STRICT)).toEqual({
      ok: false,
      missing: true,
      reason: 'no such file or directory (ENOENT)',
    });
    await mkdir(join(here, 'sub.json'));
    expect(await readBackendFile(join(here, 'sub.json'), STRICT)).toMatchObject({
      ok: false,
      reason: 'it is a directory',
    });
    execFileSync('mkfifo', [join(here, 'pipe.json')]);
    expect(await readBackendFile(join(here, 'pipe.json'), STRICT)).toMatchObject({
      ok: false,
      missing: false,
      reason: 'it is not a regular file',
    });
  });

  it('refuses a world-writable file, even with IgnoreConfigPerms', async () => {
    const path = await file(join(await dir('ww-file'), 'backends.json'), ['ftp://a'], 0o666);
    for (const options of [STRICT, LENIENT]) {
      expect(await readBackendFile(path, options)).toEqual({
        ok: false,
        missing: false,
        reason: 'it is world-writable',
      });
    }
    // Group-writable is fine, as in mod_proxy.
    await chmod(path, 0o664);
    expect((await readBackendFile(path, STRICT)).ok).toBe(true);
  });

  it('refuses a file in a world-writable directory (sticky bit or not) unless IgnoreConfigPerms', async () => {
    for (const mode of [0o777, 0o1777]) {
      const here = await dir(`ww-dir-${mode.toString(8)}`, mode);
      const path = await file(join(here, 'backends.json'), ['ftp://a']);
      expect(await readBackendFile(path, STRICT)).toEqual({
        ok: false,
        missing: false,
        reason: `its directory ${here} is world-writable (ProxyOptions IgnoreConfigPerms / ignoreConfigPerms accepts that)`,
      });
      expect((await readBackendFile(path, LENIENT)).ok).toBe(true);
    }
  });

  it("checks a symlink's own directory and its target's directory", async () => {
    const safe = await dir('links-safe');
    const open = await dir('links-open', 0o777);
    const targetInOpen = await file(join(open, 'target.json'), ['ftp://a']);
    const targetInSafe = await file(join(safe, 'target.json'), ['ftp://b']);
    // A link in a safe directory to a file in a world-writable one.
    await symlink(targetInOpen, join(safe, 'to-open.json'));
    expect(await readBackendFile(join(safe, 'to-open.json'), STRICT)).toMatchObject({
      ok: false,
      reason: expect.stringContaining(`its directory ${open} is world-writable`),
    });
    // A link in a world-writable directory to a file in a safe one.
    await symlink(targetInSafe, join(open, 'to-safe.json'));
    expect(await readBackendFile(join(open, 'to-safe.json'), STRICT)).toMatchObject({
      ok: false,
      reason: expect.stringContaining(`its directory ${open} is world-writable`),
    });
    expect((await readBackendFile(join(open, 'to-safe.json'), LENIENT)).ok).toBe(true);
    // A link between safe directories is read; a dangling one counts as missing.
    await symlink(targetInSafe, join(safe, 'to-safe.json'));
    const read = await readBackendFile(join(safe, 'to-safe.json'), STRICT);
    expect(read.ok && read.backends.map((backend) => backend.key)).toEqual(['ftp://b:21']);
    await symlink(join(safe, 'gone.json'), join(safe, 'dangling.json'));
    expect(await readBackendFile(join(safe, 'dangling.json'), STRICT)).toMatchObject({
      ok: false,
      missing: true,
    });
  });

  it('refuses a file larger than 5 MiB', async () => {
    const here = await dir('size');
    const fits = `["ftp://a"${' '.repeat(BACKEND_FILE_MAX_BYTES - 11)}]`;
    expect(Buffer.byteLength(fits)).toBe(BACKEND_FILE_MAX_BYTES);
    expect((await readBackendFile(await file(join(here, 'fits.json'), fits), STRICT)).ok).toBe(true);
    const big = await file(join(here, 'big.json'), `${fits} `);
    expect(await readBackendFile(big, STRICT)).toEqual({
      ok: false,
      missing: false,
      reason: `it is larger than 5 MiB (${BACKEND_FILE_MAX_BYTES + 1} bytes or more)`,
    });
  });

  it('refuses what is not a JSON array, without quoting the text', async () => {
    const here = await dir('format');
    const broken = await file(join(here, 'broken.json'), '["ftp://carol:topsecret@h", ');
    const result = await readBackendFile(broken, STRICT);
    expect(result).toEqual({
      ok: false,
      missing: false,
      reason: 'it is not valid JSON (expected an array of backend URL strings)',
    });
    expect(parseBackendFile('{"backends": []}')).toMatchObject({
      ok: false,
      reason: 'it is not a JSON array (expected an array of backend URL strings)',
    });
    expect(parseBackendFile('[]')).toEqual({ ok: true, backends: [], skipped: [], ignoredItems: 0 });
  });
});
