import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { parseProftpdConfig } from '../../edge-worker/config/proftpd-conf.js';
import { Logger } from '../../edge-worker/log/logger.js';
import { type RunningEdgeWorker, startEdgeWorker } from '../../edge-worker/runtime/edge-worker.js';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../support/ftp-backends.js';
import { type NetFtpOptions, type NetFtpStep, netFtp } from '../support/net-ftp.js';
import { freePort } from '../support/ports.js';
import { ConformanceTable, expectReply, expectTransferOk, type Unrun } from './conformance-table.js';

/**
 * mod_proxy's reverse-proxy scenarios whose configuration only a proftpd.conf has said so far
 * (proxy_reverse_* in t/lib/ProFTPD/Tests/Modules/mod_proxy.pm of
 * https://github.com/Castaglia/proftpd-mod_proxy): `AllowForeignAddress <class>`, `<Limit>` DenyGroup
 * without proxy authentication, PerGroup with a `%g` JSON server list. ftpx loads the suite's
 * proxy-side directives as `ftpx serve --proftpd-conf` does; the backends are real ProFTPDs, the client
 * Net::FTP, the expectations the suite's.
 */
const AWAITING_FIX: Unrun[] = [];
const DIFFERS: Unrun[] = [];
const LEFT_OUT: Unrun[] = [];

const TEST_DATA = 'Hello, Proxying World!\n';

const crypt = (password: string) =>
  execFileSync('openssl', ['passwd', '-6', password], { encoding: 'utf8' }).trim();

interface ConfProxy {
  port: number;
  worker: RunningEdgeWorker;
}

describe('mod_proxy conformance: reverse (proftpd.conf)', () => {
  const table = new ConformanceTable('reverse (proftpd.conf)', AWAITING_FIX, LEFT_OUT, DIFFERS);
  let backend: FtpBackend;
  /** "Other Real Server": the PerGroup JSON list's backend. */
  let other: FtpBackend;
  let dir: string;
  const proxies = new Map<string, Promise<ConfProxy>>();

  beforeAll(async () => {
    [backend, other] = await Promise.all([
      startFtpBackend('proftpd', { name: 'Real Server' }),
      startFtpBackend('proftpd', { name: 'Other Real Server' }),
    ]);
    await writeHomeFile(backend, 'test.txt', TEST_DATA);
    await writeHomeFile(other, 'other.txt', TEST_DATA);
    dir = await mkdtemp(join(tmpdir(), 'ftpx-conformance-reverse-conf-'));
    // The proxy's own users, as the suite's: the backend's account, in group ftpd.
    await writeFile(
      join(dir, 'proxy.passwd'),
      `${backend.user}:${crypt(backend.password)}:500:500::${dir}:/bin/bash\n`,
      { mode: 0o600 },
    );
    await writeFile(join(dir, 'proxy.group'), `ftpd:x:500:${backend.user}\n`);
  });

  afterAll(async () => {
    await Promise.allSettled([...proxies.values()].map(async (proxy) => (await proxy).worker.close()));
    await Promise.all([backend, other].map((server) => server?.stop()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** ftpx from a proftpd.conf (`{port}` filled in), started once per configuration. */
  function fromConf(name: string, conf: () => string): Promise<ConfProxy> {
    let proxy = proxies.get(name);
    if (!proxy) {
      proxy = (async () => {
        const port = await freePort();
        const file = join(dir, `${name}.conf`);
        await writeFile(
          file,
          `ProxyEngine on
ProxyTables ${dir}/tables-${name}
ProxyTLSEngine off
ProxyRole reverse
DefaultAddress 127.0.0.1
Port ${port}
AuthUserFile ${dir}/proxy.passwd
AuthGroupFile ${dir}/proxy.group
AuthOrder mod_auth_file.c
${conf()}`,
        );
        const { config } = parseProftpdConfig(file);
        const worker = await startEdgeWorker(config, new Logger({ write: () => {} }, 'error'));
        return { port, worker };
      })();
      proxies.set(name, proxy);
    }
    return proxy;
  }

  const login: () => NetFtpStep = () => ({ op: 'login', user: backend.user, pass: backend.password });
  const run = async (proxy: Promise<ConfProxy>, steps: NetFtpStep[], options: Partial<NetFtpOptions> = {}) =>
    netFtp(steps, { port: (await proxy).port, ...options });

  // mod_proxy issue 223: AllowForeignAddress naming a <Class>, and a <Limit LOGIN> DenyUser that mod_proxy
  // does not apply without proxy authentication.
  describe('AllowForeignAddress <class> (issue 223)', () => {
    const foreign = () =>
      fromConf(
        'allow-fxp',
        () => `ProxyReverseServers ${backend.url}
<Class allow_fxp>
  From 127.0.0.0/8
</Class>
AllowForeignAddress allow_fxp
TimeoutIdle 10
<Limit LOGIN>
  DenyUser ${backend.user}
</Limit>
`,
      );

    table.scenario('proxy_reverse_pasv_allowforeignaddress_allowed_by_class_issue223', async () => {
      // PASV: the data connection comes from the control connection's address either way.
      const session = await run(foreign(), [login(), { op: 'list', read: 'once' }, { op: 'quit' }]);
      expect(session.steps[1]?.data).toContain('test.txt');
      expectTransferOk(session.steps[1]);
      expectReply(session.steps[2], 221, 'Goodbye.');
    });

    table.scenario('proxy_reverse_port_allowforeignaddress_allowed_by_class_issue223', async () => {
      const session = await run(
        foreign(),
        [
          login(),
          { op: 'quot', cmd: 'PORT', arg: '1,2,3,4,192,6' },
          { op: 'quot', cmd: 'PORT', arg: '127,0,0,2,192,6' },
          { op: 'quit' },
        ],
        { passive: false },
      );
      // The suite expects 200 here, but mod_proxy matches the <Class> against the address PORT names
      // (pr_class_satisfied, issue 223): Debian's mod_proxy 0.9.2 with this configuration refuses
      // 1.2.3.4 and takes 127.0.0.2, inside the class. ftpx is held to what mod_proxy does.
      expectReply(session.steps[1], 500, 'Illegal PORT command');
      expectReply(session.steps[2], 200, 'PORT command successful');
      expectReply(session.steps[3], 221, 'Goodbye.');
    });

    table.scenario('proxy_reverse_eprt_allowforeignaddress_allowed_by_class_issue223', async () => {
      const session = await run(foreign(), [
        login(),
        { op: 'quot', cmd: 'EPRT', arg: '|1|1.2.3.4|49158|' },
        { op: 'quot', cmd: 'EPRT', arg: '|1|127.0.0.2|49158|' },
        { op: 'quit' },
      ]);
      // As for PORT: mod_proxy itself refuses the address outside the class (the suite expects 200).
      expectReply(session.steps[1], 500, 'Illegal EPRT command');
      expectReply(session.steps[2], 200, 'EPRT command successful');
    });
  });

  describe('<Limit>', () => {
    table.scenario('proxy_reverse_limit_list_deny_group', async () => {
      // Without proxy authentication the proxy does not know the user's groups: LIST is not denied.
      const proxy = fromConf(
        'deny-group',
        () => `ProxyReverseServers ${backend.url}
<Limit LOGIN>
  DenyUser ${backend.user}
</Limit>
<Limit LIST>
  DenyGroup ftpd
</Limit>
`,
      );
      const session = await run(proxy, [login(), { op: 'list', path: '.', read: 'all' }, { op: 'quit' }]);
      expect(session.steps[1]?.data).toContain('test.txt');
      expectTransferOk(session.steps[1]);
    });
  });

  describe('ProxyReverseConnectPolicy', () => {
    table.scenario('proxy_reverse_config_connect_policy_per_group_by_json', async () => {
      // PerGroup after proxy authentication: the group's list (%g-servers.json) names "Other Real Server".
      await writeFile(join(dir, 'ftpd-servers.json'), `[ "${other.url}" ]\n`);
      const proxy = fromConf(
        'per-group-json',
        () => `ProxyTimeoutConnect 1sec
ProxyReverseConnectPolicy PerGroup
ProxyOptions UseReverseProxyAuth
ProxyReverseServers ${backend.url}
ProxyReverseServers file:${dir}/%g-servers.json
TimeoutIdle 10
`,
      );
      const session = await run(proxy, [login(), { op: 'list', read: 'all' }, { op: 'quit' }], {
        passive: false,
      });
      expectReply(session.steps[0], 230, `User ${backend.user} logged in`);
      expect(session.steps[1]?.data).toContain('other.txt');
      expectTransferOk(session.steps[1]);
    });
  });
});
