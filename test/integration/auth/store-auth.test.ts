import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedStoreServer, startEmbeddedStore } from '../../../edge-worker/embedded/store-server.js';
import { createAuthHandler } from '../../../functions/auth/handler.js';
import type { AuthRequest, AuthResponse } from '../../../functions/contract/auth.js';
import { importAuthUserFile } from '../../../functions/core/auth/auth-user-file.js';
import { InvalidRequestError } from '../../../functions/core/handler/invalid-request-error.js';
import { createPool } from '../../../functions/core/registry/pools.js';
import { createProxyUser, patchProxyUser } from '../../../functions/core/registry/proxy-users.js';
import { getProxyUser } from '../../../functions/core/registry/read-side.js';
import { createDynamoDbClient } from '../../../functions/core/store/dynamodb-client.js';
import { ensureTable, type Table } from '../../../functions/core/store/table.js';

const run = promisify(execFile);

async function opensslPasswd(args: string[]): Promise<string> {
  const { stdout } = await run('openssl', ['passwd', ...args]);
  return stdout.trim();
}

const POOL = 'ftp-pool';
const IMPORTED = 'imported-pool';

/** Proxy users in dynalite: made through the registry (scrypt) and imported from a ProFTPD AuthUserFile (crypt). */
describe('proxy authentication against the store', () => {
  let store: EmbeddedStoreServer;
  let table: Table;
  let dir: string;
  let auth: ReturnType<typeof createAuthHandler>;
  const login = (request: Omit<AuthRequest, 'clientAddress' | 'protocol'> & Partial<AuthRequest>) =>
    auth(
      { clientAddress: '198.51.100.7', protocol: 'ftp', ...request } as never,
      {} as never,
    ) as Promise<AuthResponse>;

  beforeAll(async () => {
    store = await startEmbeddedStore(undefined);
    table = { client: createDynamoDbClient({ endpoint: store.endpoint, region: 'us-east-1' }), name: 'auth' };
    await ensureTable(table);
    const now = Date.now();
    await createPool(table, { name: POOL }, now);
    // scrypt through the registry's own hashPassword.
    await createProxyUser(
      table,
      POOL,
      { name: 'alice', password: 'alice-pw', primaryGroup: 'staff', groups: ['dev', 'staff'], enabled: true },
      now,
    );
    await createProxyUser(
      table,
      POOL,
      { name: 'dave', password: 'dave-pw', primaryGroup: 'staff', groups: [], enabled: false },
      now,
    );

    dir = await mkdtemp(join(tmpdir(), 'ftpx-auth-'));
    const md5 = await opensslPasswd(['-1', '-salt', 'm1xSalt', 'mia-pw']);
    const sha256 = await opensslPasswd(['-5', '-salt', 'rounds=7000$samSalt', 'sam-pw']);
    const sha512 = await opensslPasswd(['-6', 'sid-pw']);
    await writeFile(
      join(dir, 'ftpd.passwd'),
      [
        '# written by ftpasswd',
        `mia:${md5}:2001:3000::/srv/ftp/mia:/bin/false`,
        `sam:${sha256}:2002:3001:Sam:/srv/ftp/sam:/bin/false`,
        `sid:${sha512}:2003:3000::/srv/ftp/sid:/bin/false`,
        // yescrypt and bcrypt as libxcrypt (Debian's crypt(3)) writes them, password "right".
        'old:$y$j9T$abcdefghijklmnop$3dL1LkYnZM.OVXuVdnnaKVDlLYT92dRwOzDZ5XiVCe.:2004:3000::/srv/ftp/old:/bin/false',
        'broken:line',
        `locked:!${sha512}:2005:3000::/srv/ftp/locked:/bin/false`,
        'bea:$2y$05$0123456789abcdefghijkeImLoEFAQpLAPQRUB8Ht5MuKX8R/sj4i:2006:3000::/srv/ftp/bea:/bin/false',
        '',
      ].join('\n'),
    );
    await writeFile(
      join(dir, 'ftpd.group'),
      ['ftpusers:x:3000:sam', 'uploaders:x:3001:', 'auditors:x:3002:mia,sid', ''].join('\n'),
    );
    const result = await importAuthUserFile(
      table,
      IMPORTED,
      { userFile: join(dir, 'ftpd.passwd'), groupFile: join(dir, 'ftpd.group') },
      { createPool: true },
    );
    expect(result.created.sort()).toEqual(['bea', 'locked', 'mia', 'old', 'sam', 'sid']);
    expect(result.errors).toEqual([
      {
        file: 'AuthUserFile',
        line: 6,
        message: 'expected 7 fields (name:hash:uid:gid:gecos:home:shell), found 2',
      },
    ]);
    expect(result.warnings.map((warning) => warning.line)).toEqual([5, 7]);
    auth = createAuthHandler({ table });
  });

  afterAll(async () => {
    table?.client.destroy();
    await store?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('allows a scrypt user with the right password, with its groups', async () => {
    expect(await login({ pool: POOL, user: 'alice', password: 'alice-pw' })).toEqual({
      allowed: true,
      user: 'alice',
      primaryGroup: 'staff',
      groups: ['staff', 'dev'],
      reason: 'password verified (scrypt)',
      source: 'store',
    });
  });

  it('denies a wrong password, a disabled user and an unknown user, without the password in the reason', async () => {
    const wrong = await login({ pool: POOL, user: 'alice', password: 'alice-pw!' });
    expect(wrong).toEqual({
      allowed: false,
      reason: 'wrong password for proxy user "alice"',
      source: 'store',
    });
    const disabled = await login({ pool: POOL, user: 'dave', password: 'dave-pw' });
    expect(disabled).toEqual({ allowed: false, reason: 'proxy user "dave" is disabled', source: 'store' });
    const unknown = await login({ pool: POOL, user: 'nobody', password: 'secret-guess' });
    expect(unknown).toEqual({
      allowed: false,
      reason: 'no proxy user "nobody" in pool "ftp-pool"',
      source: 'store',
    });
    // Users are per pool.
    expect((await login({ pool: IMPORTED, user: 'alice', password: 'alice-pw' })).allowed).toBe(false);
    for (const answer of [wrong, disabled, unknown])
      expect(JSON.stringify(answer)).not.toMatch(/pw|secret-guess/);
  });

  it('names are case-sensitive, as in ProFTPD', async () => {
    expect((await login({ pool: POOL, user: 'Alice', password: 'alice-pw' })).allowed).toBe(false);
  });

  it('allows imported crypt users ($1$, $5$ with rounds=, $6$, bcrypt $2y$) with the right password only', async () => {
    expect(await login({ pool: IMPORTED, user: 'mia', password: 'mia-pw' })).toMatchObject({
      allowed: true,
      user: 'mia',
      primaryGroup: 'ftpusers',
      groups: ['ftpusers', 'auditors'],
      reason: 'password verified (md5-crypt)',
    });
    expect(await login({ pool: IMPORTED, user: 'sam', password: 'sam-pw' })).toMatchObject({
      allowed: true,
      primaryGroup: 'uploaders',
      groups: ['uploaders', 'ftpusers'],
      reason: 'password verified (sha256-crypt)',
    });
    expect(await login({ pool: IMPORTED, user: 'sid', password: 'sid-pw' })).toMatchObject({
      allowed: true,
      primaryGroup: 'ftpusers',
      groups: ['ftpusers', 'auditors'],
      reason: 'password verified (sha512-crypt)',
    });
    expect(await login({ pool: IMPORTED, user: 'bea', password: 'right' })).toMatchObject({
      allowed: true,
      primaryGroup: 'ftpusers',
      reason: 'password verified (bcrypt)',
    });
    for (const user of ['mia', 'sam', 'sid', 'bea']) {
      expect(await login({ pool: IMPORTED, user, password: 'wrong' })).toMatchObject({
        allowed: false,
        reason: `wrong password for proxy user "${user}"`,
      });
    }
  });

  it('keeps the imported hashes as they are', async () => {
    expect((await getProxyUser(table, IMPORTED, 'sam'))?.passwordHash).toMatch(
      /^\$5\$rounds=7000\$samSalt\$/,
    );
    expect(await getProxyUser(table, IMPORTED, 'locked')).toMatchObject({ enabled: false });
  });

  it('denies users whose hash format is not supported, saying so', async () => {
    expect(await login({ pool: IMPORTED, user: 'old', password: 'anything' })).toMatchObject({
      allowed: false,
      reason: expect.stringMatching(
        /proxy user "old" cannot log in: the password hash format yescrypt \(\$y\$\) is not supported/,
      ),
    });
    expect(await login({ pool: IMPORTED, user: 'locked', password: 'sid-pw' })).toMatchObject({
      allowed: false,
      reason: 'proxy user "locked" is disabled',
    });
  });

  it('denies public keys without an identity hook', async () => {
    expect(
      await login({ pool: POOL, user: 'alice', publicKey: 'ssh-ed25519 AAAAC3Nza alice', protocol: 'sftp' }),
    ).toMatchObject({
      allowed: false,
      reason: 'public-key authentication needs an identity hook (proxy user "alice")',
    });
  });

  it('tells only the groups of a known, enabled user whose key the edge worker verified', async () => {
    const verified = (pool: string, user: string) =>
      login({ pool, user, workerVerifiedKey: true, protocol: 'sftp' });
    const alice = await verified(POOL, 'alice');
    expect(alice).toEqual({
      allowed: true,
      user: 'alice',
      primaryGroup: 'staff',
      groups: ['staff', 'dev'],
      reason: 'groups looked up for a public key the edge worker verified',
      source: 'store',
    });
    // AuthUserFile / AuthGroupFile users: the primary group from the passwd file's gid.
    expect(await verified(IMPORTED, 'mia')).toMatchObject({
      allowed: true,
      user: 'mia',
      primaryGroup: 'ftpusers',
      groups: ['ftpusers', 'auditors'],
    });
    expect(await verified(POOL, 'ghost')).toMatchObject({
      allowed: false,
      reason: 'no proxy user "ghost" in pool "ftp-pool"',
    });
    expect(await verified(POOL, 'dave')).toMatchObject({
      allowed: false,
      reason: 'proxy user "dave" is disabled',
    });
    expect(await verified(IMPORTED, 'locked')).toMatchObject({ allowed: false });
  });

  it('rejects malformed requests', async () => {
    await expect(login({ pool: POOL, user: 'alice' })).rejects.toBeInstanceOf(InvalidRequestError);
    await expect(
      login({ pool: POOL, user: 'alice', password: 'x', clientAddress: 'not-an-ip' }),
    ).rejects.toBeInstanceOf(InvalidRequestError);
  });

  it('takes about as long for an unknown user as for a wrong password (no enumeration by timing)', async () => {
    const time = async (user: string) => {
      const started = performance.now();
      await login({ pool: POOL, user, password: 'not-the-password' });
      return performance.now() - started;
    };
    const median = (values: number[]) =>
      [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
    const known: number[] = [];
    const unknown: number[] = [];
    const disabled: number[] = [];
    for (let i = 0; i < 5; i++) {
      known.push(await time('alice'));
      unknown.push(await time(`ghost-${i}`));
      disabled.push(await time('dave'));
    }
    // Each does one scrypt verification (tens of ms); a plain store miss would take a few ms.
    expect(median(unknown)).toBeGreaterThan(median(known) * 0.5);
    expect(median(disabled)).toBeGreaterThan(median(known) * 0.5);
  });

  it('re-imports idempotently, applies changes, and prunes on request', async () => {
    const files = { userFile: join(dir, 'ftpd.passwd'), groupFile: join(dir, 'ftpd.group') };
    const again = await importAuthUserFile(table, IMPORTED, files);
    expect(again.created).toEqual([]);
    expect(again.updated).toEqual([]);
    expect(again.unchanged.sort()).toEqual(['bea', 'locked', 'mia', 'old', 'sam', 'sid']);

    // A change made through the API is undone by the file, which is the source of truth.
    await patchProxyUser(table, IMPORTED, 'mia', { enabled: false }, { nowMs: Date.now() });
    const newHash = await opensslPasswd(['-6', '-salt', 'newsalt', 'mia-new']);
    await writeFile(
      files.userFile,
      [
        `mia:${newHash}:2001:3001::/srv/ftp/mia:/bin/false`,
        `sid:${await opensslPasswd(['-1', 'sid-pw'])}:2003:3000:::`,
      ].join('\n'),
    );
    const changed = await importAuthUserFile(table, IMPORTED, files, { prune: true });
    expect(changed.updated.sort()).toEqual(['mia', 'sid']);
    expect(changed.deleted.sort()).toEqual(['bea', 'locked', 'old', 'sam']);
    expect(await login({ pool: IMPORTED, user: 'mia', password: 'mia-pw' })).toMatchObject({
      allowed: false,
    });
    expect(await login({ pool: IMPORTED, user: 'mia', password: 'mia-new' })).toMatchObject({
      allowed: true,
      primaryGroup: 'uploaders',
    });
    expect(await login({ pool: IMPORTED, user: 'sid', password: 'sid-pw' })).toMatchObject({
      allowed: true,
      reason: 'password verified (md5-crypt)',
    });
    expect(await login({ pool: IMPORTED, user: 'sam', password: 'sam-pw' })).toMatchObject({
      allowed: false,
      reason: 'no proxy user "sam" in pool "imported-pool"',
    });
  });

  it('refuses to import into a pool that is not registered, unless asked to create it', async () => {
    await expect(
      importAuthUserFile(table, 'unregistered', { userFile: join(dir, 'ftpd.passwd') }),
    ).rejects.toThrow(/pool "unregistered" not found/);
  });
});
