import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProftpdConfig } from '../../edge-worker/config/proftpd-conf.js';
import { Logger } from '../../edge-worker/log/logger.js';
import { type RunningEdgeWorker, startEdgeWorker } from '../../edge-worker/runtime/edge-worker.js';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../support/ftp-backends.js';
import { curl, lftp, pythonFtp } from '../support/ftp-clients.js';
import { freePort } from '../support/ports.js';
import { RawFtp } from '../support/raw-ftp.js';

/**
 * Pools chosen by who the client is, configured as mod_proxy's users do it: a proftpd.conf with
 * mod_ifsession's `<IfClass>`, `<IfUser>` and `<IfGroup>` around ProxyReverseServers (the mod_proxy
 * FAQ's "PerHost with different pools per class", http://www.proftpd.org/docs/contrib/mod_proxy.html).
 * Real ProFTPD backends, real clients (curl, lftp, Python's ftplib), all on loopback; clients of the
 * class connect from 127.0.0.2 and 127.0.0.3 (curl --interface), the others from 127.0.0.1.
 */

const crypt = (password: string) =>
  execFileSync('openssl', ['passwd', '-6', password], { encoding: 'utf8' }).trim();

interface ConfProxy {
  port: number;
  worker: RunningEdgeWorker;
  lines: string[];
}

describe('pool rules from <IfClass>, <IfUser> and <IfGroup>', () => {
  let special: FtpBackend;
  let others: FtpBackend;
  let admins: FtpBackend;
  let dir: string;
  const proxies: ConfProxy[] = [];

  /** Loads `conf` (with `{port}` filled in) as `ftpx serve --proftpd-conf` would, and starts it. */
  async function startFromConf(name: string, conf: (port: number) => string): Promise<ConfProxy> {
    const port = await freePort();
    const file = join(dir, `${name}.conf`);
    await writeFile(file, conf(port));
    const { config } = parseProftpdConfig(file);
    const lines: string[] = [];
    const worker = await startEdgeWorker(config, new Logger({ write: (line) => lines.push(line) }, 'debug'));
    const proxy = { port, worker, lines };
    proxies.push(proxy);
    return proxy;
  }

  beforeAll(async () => {
    [special, others, admins] = await Promise.all([
      startFtpBackend('proftpd', { name: 'rules-special' }),
      startFtpBackend('proftpd', { name: 'rules-others' }),
      startFtpBackend('proftpd', { name: 'rules-admins' }),
    ]);
    for (const backend of [special, others, admins]) await writeHomeFile(backend, 'whoami.txt', backend.name);
    dir = await mkdtemp(join(tmpdir(), 'ftpx-pool-rules-'));
    await writeFile(
      join(dir, 'ftpd.passwd'),
      [
        `alice:${crypt('alice-pw')}:1001:100::/home/alice:/bin/sh`,
        `bob:${crypt('bob-pw')}:1002:100::/home/bob:/bin/sh`,
        `carol:${crypt('carol-pw')}:1003:100::/home/carol:/bin/sh`,
        `dave:${crypt('dave-pw')}:1004:300::/home/dave:/bin/sh`,
        '',
      ].join('\n'),
    );
    // carol is in admins as a supplementary group: <IfGroup> matches any of the user's groups.
    await writeFile(join(dir, 'ftpd.group'), 'staff:x:100:\nadmins:x:300:carol\n');
  });

  afterAll(async () => {
    for (const proxy of proxies) await proxy.worker.close();
    await Promise.all([special?.stop(), others?.stop(), admins?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('sends clients of a <Class> to the <IfClass> pool and the others to the <IfClass !name> one (PerHost)', async () => {
    const proxy = await startFromConf(
      'per-class',
      (port) => `<Class proxied-clients>
  From 127.0.0.2/31
</Class>

ProxyEngine on
ProxyTables ${dir}/tables-class
ProxyTLSEngine off
DefaultAddress 127.0.0.1
Port ${port}

ProxyRole reverse
ProxyReverseConnectPolicy PerHost

<IfClass proxied-clients>
  ProxyReverseServers ${special.url}
</IfClass>

# Don't forget to configure the backend server pool for clients coming
# from other networks!
<IfClass !proxied-clients>
  ProxyReverseServers ${others.url}
</IfClass>
`,
    );
    const fetchFrom = async (source: string) => {
      const result = await curl([
        '--interface',
        source,
        `ftp://${special.user}:${special.password}@127.0.0.1:${proxy.port}/whoami.txt`,
      ]);
      expect(result.code, result.stderr.toString()).toBe(0);
      return result.stdout.toString();
    };
    expect(await fetchFrom('127.0.0.2')).toBe(special.name);
    expect(await fetchFrom('127.0.0.3')).toBe(special.name);
    expect(await fetchFrom('127.0.0.1')).toBe(others.name);
    expect(await fetchFrom('127.0.0.4')).toBe(others.name);
  });

  it('sends users to the <IfUser> and <IfGroup> pools after proxy authentication, the rest to the server list', async () => {
    const account = (backend: FtpBackend) =>
      `ftp://${backend.user}:${backend.password}@127.0.0.1:${backend.port}`;
    const proxy = await startFromConf(
      'per-user',
      (port) => `ProxyEngine on
ProxyTables ${dir}/tables-user
ProxyTLSEngine off
DefaultAddress 127.0.0.1
Port ${port}
ProxyRole reverse
ProxyOptions UseReverseProxyAuth
AuthUserFile ${dir}/ftpd.passwd
AuthGroupFile ${dir}/ftpd.group
AuthOrder mod_auth_file.c
ProxyReverseServers ${account(others)}

<IfUser alice>
  ProxyReverseServers ${account(special)}
</IfUser>

<IfGroup admins>
  ProxyReverseServers ${account(admins)}
</IfGroup>
`,
    );
    // Python's ftplib as alice: the <IfUser> pool.
    const local = join(dir, 'alice.txt');
    const alice = await pythonFtp([{ op: 'login' }, { op: 'retr', path: 'whoami.txt', local }], {
      host: '127.0.0.1',
      port: proxy.port,
      user: 'alice',
      password: 'alice-pw',
    });
    expect(alice.result.results.map((result) => result.error)).toEqual([undefined, undefined]);
    expect(await readFile(local, 'utf8')).toBe(special.name);
    // lftp as carol, in admins: the <IfGroup> pool.
    const carol = await lftp(`open -u carol,carol-pw ftp://127.0.0.1:${proxy.port}; cat whoami.txt`);
    expect(carol.code, carol.stderr.toString()).toBe(0);
    expect(carol.stdout).toBe(admins.name);
    // curl as bob: no section matches, the server's own list.
    const bob = await curl([`ftp://bob:bob-pw@127.0.0.1:${proxy.port}/whoami.txt`]);
    expect(bob.stdout.toString()).toBe(others.name);
    // A wrong password stays a refused login, whatever pool the name selects.
    const wrong = await curl([`ftp://alice:nope@127.0.0.1:${proxy.port}/whoami.txt`]);
    expect(wrong.code).toBe(67);
    // On one connection: alice's failed login moved the session to her pool; bob's USER moves it back.
    const ftp = await RawFtp.open(proxy.port);
    await ftp.reply();
    await ftp.command('USER alice');
    expect(await ftp.command('PASS nope')).toBe('530 Login incorrect.');
    await ftp.command('USER bob');
    expect(await ftp.command('PASS bob-pw')).toMatch(/^230/);
    expect(await ftp.command('TYPE I')).toMatch(/^200/);
    expect(await ftp.command('SIZE whoami.txt')).toBe(`213 ${others.name.length}`);
    expect(others.name.length).not.toBe(special.name.length);
    ftp.destroy();
  });

  it('reads the per-group list of the PerGroup example (file:/...%g.json) after proxy authentication', async () => {
    const account = (backend: FtpBackend) =>
      `ftp://${backend.user}:${backend.password}@127.0.0.1:${backend.port}`;
    await mkdir(join(dir, 'backends'), { mode: 0o755 });
    await writeFile(join(dir, 'backends', 'staff.json'), JSON.stringify([account(special)]), { mode: 0o644 });
    const proxy = await startFromConf(
      'per-group',
      (port) => `<IfModule mod_proxy.c>
  ProxyEngine on
  ProxyTables ${dir}/tables-group
  ProxyTLSEngine off
  DefaultAddress 127.0.0.1
  Port ${port}
  AuthUserFile ${dir}/ftpd.passwd
  AuthGroupFile ${dir}/ftpd.group

  ProxyRole reverse
  ProxyReverseConnectPolicy PerGroup
  ProxyOptions UseReverseProxyAuth

  # We need to provide a pool of backend servers as a fallback
  ProxyReverseServers ${account(others)}

  # Look up per-group backend servers from group-specific JSON files
  ProxyReverseServers file:${dir}/backends/%g.json
</IfModule>
`,
    );
    // alice's primary group is staff, which has a list; dave's (admins) has none: the fallback.
    const alice = await curl([`ftp://alice:alice-pw@127.0.0.1:${proxy.port}/whoami.txt`]);
    expect(alice.stdout.toString()).toBe(special.name);
    const dave = await curl([`ftp://dave:dave-pw@127.0.0.1:${proxy.port}/whoami.txt`]);
    expect(dave.stdout.toString()).toBe(others.name);
  });
});
