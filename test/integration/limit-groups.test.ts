import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProftpdConfig } from '../../edge-worker/config/proftpd-conf.js';
import { Logger } from '../../edge-worker/log/logger.js';
import { type RunningEdgeWorker, startEdgeWorker } from '../../edge-worker/runtime/edge-worker.js';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../support/ftp-backends.js';
import { curl } from '../support/ftp-clients.js';
import { freePort } from '../support/ports.js';
import { RawFtp } from '../support/raw-ftp.js';

/**
 * `<Limit>` group and class rules from a proftpd.conf, as the mod_proxy FAQ's answer has them
 * (http://www.proftpd.org/docs/contrib/mod_proxy.html, "Frequently Asked Questions": group limits work
 * with proxy authentication): a real ProFTPD backend, curl and a raw client on loopback; the class's
 * clients connect from 127.0.0.2 (curl --interface).
 */

const crypt = (password: string) =>
  execFileSync('openssl', ['passwd', '-6', password], { encoding: 'utf8' }).trim();

describe('<Limit> DenyGroup and DenyClass', () => {
  let backend: FtpBackend;
  let dir: string;
  let worker: RunningEdgeWorker;
  let port: number;

  beforeAll(async () => {
    backend = await startFtpBackend('proftpd', { name: 'limit-groups' });
    await writeHomeFile(backend, 'whoami.txt', backend.name);
    dir = await mkdtemp(join(tmpdir(), 'ftpx-limit-groups-'));
    await writeFile(
      join(dir, 'ftpd.passwd'),
      [
        `alice:${crypt('alice-pw')}:1001:100::/home/alice:/bin/sh`,
        `carol:${crypt('carol-pw')}:1003:100::/home/carol:/bin/sh`,
        '',
      ].join('\n'),
    );
    await writeFile(join(dir, 'ftpd.group'), 'staff:x:100:\nsomegroup:x:300:carol\n');
    port = await freePort();
    const file = join(dir, 'proftpd.conf');
    await writeFile(
      file,
      `<Class partners>
  From 127.0.0.2
</Class>

ProxyEngine on
ProxyTables ${dir}/tables
ProxyTLSEngine off
DefaultAddress 127.0.0.1
Port ${port}
ProxyRole reverse
ProxyOptions UseReverseProxyAuth
AuthUserFile ${dir}/ftpd.passwd
AuthGroupFile ${dir}/ftpd.group
ProxyReverseServers ftp://${backend.user}:${backend.password}@127.0.0.1:${backend.port}

<Limit LIST>
  DenyGroup somegroup
</Limit>

<Limit RETR>
  DenyClass partners
</Limit>
`,
    );
    const { config } = parseProftpdConfig(file);
    worker = await startEdgeWorker(config, new Logger({ write: () => {} }, 'error'));
  });

  afterAll(async () => {
    await worker?.close();
    await backend?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('refuses LIST to a member of the denied group only', async () => {
    const listAs = async (user: string, password: string) => {
      const ftp = await RawFtp.open(port);
      await ftp.login(user, password);
      const reply = await ftp.command('LIST');
      ftp.destroy();
      return reply;
    };
    expect(await listAs('carol', 'carol-pw')).toBe('550 LIST: Operation not permitted');
    // alice is not in somegroup: the command reaches the backend (which wants a data connection first).
    expect(await listAs('alice', 'alice-pw')).not.toBe('550 LIST: Operation not permitted');
    const listing = await curl([`ftp://alice:alice-pw@127.0.0.1:${port}/`]);
    expect(listing.stdout.toString()).toContain('whoami.txt');
  });

  it('refuses RETR to clients of the denied class only', async () => {
    const fetchFrom = (source: string) =>
      curl(['--interface', source, `ftp://alice:alice-pw@127.0.0.1:${port}/whoami.txt`]);
    const refused = await fetchFrom('127.0.0.2');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr.toString()).toMatch(/550/);
    const allowed = await fetchFrom('127.0.0.1');
    expect(allowed.stdout.toString()).toBe(backend.name);
  });
});
