import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../support/ftp-backends.js';
import { type NetFtpOptions, type NetFtpStep, netFtp } from '../support/net-ftp.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { createTestCa, type TestCa } from '../support/test-ca.js';
import { ConformanceTable, expectReply, expectTransferOk, type Unrun } from './conformance-table.js';

/**
 * mod_proxy's forward-proxy FTPS scenarios (proxy_forward_* in t/lib/ProFTPD/Tests/Modules/mod_proxy/tls.pm
 * of https://github.com/Castaglia/proftpd-mod_proxy): user@host logins with FTPS on either side and the
 * ProxyTLSTransferProtectionPolicy matrix, against ProFTPD mod_tls destinations, with Net::FTP's TLS.
 */
const AWAITING_FIX: Unrun[] = [];

// proxy_forward_frontend_backend_tls_login_after_host: host.test.ts.
const DIFFERS: Unrun[] = [];

const LEFT_OUT: Unrun[] = [
  {
    scenario: 'proxy_forward_backend_tls_implicit_login',
    reason:
      'implicit FTPS destinations are those on port 990, which tls.test.ts holds while the files run in parallel (that file covers implicit FTPS to a backend)',
  },
];

const TEST_DATA = 'Hello, Proxying World!\n';

describe('mod_proxy conformance: TLS (forward)', () => {
  const table = new ConformanceTable('TLS (forward)', AWAITING_FIX, LEFT_OUT, DIFFERS);
  let ca: TestCa;
  let plain: FtpBackend;
  let tls: FtpBackend;
  let unknownCa: FtpBackend;
  /** TLSOptions NoSessionReuseRequired: Net::FTP's data connections reach it directly (UseDirectDataTransfers). */
  let tlsNoReuse: FtpBackend;
  const proxies = new Map<string, Promise<TestProxy>>();

  beforeAll(async () => {
    ca = await createTestCa();
    const withTls = (cert: { cert: string; key: string }) => ({ tls: { cert: cert.cert, key: cert.key } });
    [plain, tls, unknownCa, tlsNoReuse] = await Promise.all([
      startFtpBackend('proftpd', { name: 'Real Server plain' }),
      startFtpBackend('proftpd', { name: 'Real Server', ...withTls(ca.server) }),
      startFtpBackend('proftpd', { name: 'Real Server unknown CA', ...withTls(ca.unknownCa) }),
      startFtpBackend('proftpd', {
        name: 'Real Server no reuse',
        ...withTls(ca.server),
        extraConfig: 'TLSOptions NoSessionReuseRequired EnableDiags\n',
      }),
    ]);
    for (const server of [plain, tls, unknownCa, tlsNoReuse])
      await writeHomeFile(server, 'test.txt', TEST_DATA);
  });

  afterAll(async () => {
    await Promise.allSettled([...proxies.values()].map(async (proxy) => (await proxy).close()));
    await Promise.all([plain, tls, unknownCa, tlsNoReuse].map((server) => server?.stop()));
    await ca?.remove();
  });

  /** A user@host forward ftpx with FTPS offered to clients and `tls` towards destinations. */
  function forwardProxy(
    key: string,
    tlsSettings: Record<string, unknown>,
    extra: Record<string, unknown> = {},
  ) {
    let proxy = proxies.get(key);
    if (!proxy) {
      proxy = startTestProxy({
        backends: [],
        classes: [{ name: 'loopback', from: ['127.0.0.0/8'], forwardEnabled: true }],
        // Net::FTP does not resume the control connection's TLS session on data connections.
        listener: {
          tls: { certificates: [{ cert: ca.server.cert, key: ca.server.key }], sessionReuseRequired: false },
        },
        poolSettings: {
          role: 'forward',
          forward: { method: 'user@host' },
          retryCount: 1,
          allowDestinationNetworks: ['127.0.0.0/8'],
          tls: { caFile: ca.caCert, enableDiags: true, ...tlsSettings },
          ...extra,
        },
      });
      proxies.set(key, proxy);
    }
    return proxy;
  }

  const FTPS: NetFtpStep[] = [{ op: 'starttls' }, { op: 'prot', level: 'P' }];
  const loginTo = (server: FtpBackend): NetFtpStep => ({
    op: 'login',
    user: `${server.user}@127.0.0.1:${server.port}`,
    pass: server.password,
  });
  const run = async (proxy: Promise<TestProxy>, steps: NetFtpStep[], options: Partial<NetFtpOptions> = {}) =>
    netFtp(steps, { port: (await proxy).port, ...options });
  const backendHandshakes = async (proxy: Promise<TestProxy>) =>
    (await proxy).logs.filter((line) => line.msg === 'backend TLS handshake').length;

  describe('logins', () => {
    table.scenario('proxy_forward_frontend_tls_noproxyauth_login', async () => {
      const session = await run(forwardProxy('auto', { engine: 'auto' }), [
        ...FTPS,
        loginTo(plain),
        { op: 'quit' },
      ]);
      expect(session.steps[2]?.code).toBe(230);
    });

    table.scenario('proxy_forward_backend_tls_login', async () => {
      const proxy = forwardProxy('on', { engine: 'on' });
      const session = await run(proxy, [loginTo(tls), { op: 'quit' }]);
      expect(session.steps[0]?.code).toBe(230);
      expect(await backendHandshakes(proxy)).toBeGreaterThan(0);
    });

    table.scenario('proxy_forward_backend_tls_login_failed_unknown_ca', async () => {
      const session = await run(forwardProxy('on', { engine: 'on' }), [loginTo(unknownCa), { op: 'quit' }]);
      expect(session.steps[0]?.ok).toBe(false);
      expect(session.steps[0]?.code).toBe(530);
    });

    for (const [name, ftps] of [
      ['proxy_forward_config_backend_tls_engine_match_client_ftp', false],
      ['proxy_forward_config_backend_tls_engine_match_client_ftps_explicit', true],
    ] as const) {
      table.scenario(name, async () => {
        const proxy = forwardProxy(`match-${ftps}`, { engine: 'MatchClient' });
        const session = await run(proxy, [
          ...(ftps ? FTPS : []),
          loginTo(tls),
          { op: 'list', read: 'all' },
          { op: 'quit' },
        ]);
        const offset = ftps ? 2 : 0;
        expect(session.steps[offset]?.code).toBe(230);
        expectTransferOk(session.steps[offset + 1]);
        expect((await backendHandshakes(proxy)) > 0).toBe(ftps);
      });
    }

    table.scenario('proxy_forward_backend_tls_list_pasv', async () => {
      const session = await run(forwardProxy('on', { engine: 'on' }), [
        loginTo(tls),
        { op: 'list', read: 'all' },
        { op: 'quit' },
      ]);
      expect(session.steps[1]?.data).toContain('test.txt');
      expectTransferOk(session.steps[1]);
    });

    table.scenario('proxy_forward_frontend_backend_tls_list_pasv', async () => {
      const session = await run(forwardProxy('on', { engine: 'on' }), [
        ...FTPS,
        loginTo(tls),
        { op: 'list', read: 'all' },
        { op: 'quit' },
      ]);
      expect(session.steps[3]?.data).toContain('test.txt');
      expectReply(session.steps[3], 226, 'Transfer complete');
    });

    table.scenario('proxy_forward_config_backend_tls_ctrl_use_direct_data_transfers_pasv', async () => {
      const session = await run(
        forwardProxy(
          'direct-ctrl',
          { engine: 'on', transferProtection: 'clear' },
          { directDataTransfers: true },
        ),
        [loginTo(tls), { op: 'list', read: 'all' }, { op: 'quit' }],
      );
      expect(session.steps[1]?.data).toContain('test.txt');
      expectTransferOk(session.steps[1]);
    });

    table.scenario(
      'proxy_forward_config_frontend_backend_tls_required_use_direct_data_transfers_pasv',
      async () => {
        const session = await run(
          forwardProxy(
            'direct-both',
            { engine: 'on', transferProtection: 'client' },
            { directDataTransfers: true },
          ),
          [...FTPS, loginTo(tlsNoReuse), { op: 'list', read: 'all' }, { op: 'quit' }],
        );
        expect(session.steps[3]?.data).toContain('test.txt');
        expectReply(session.steps[3], 226, 'Transfer complete');
      },
    );
  });

  describe('ProxyTLSTransferProtectionPolicy', () => {
    for (const policy of ['required', 'clear', 'client'] as const) {
      for (const frontend of ['plain_backend_tls', 'backend_tls'] as const) {
        for (const command of ['list', 'stor'] as const) {
          for (const mode of ['pasv', 'port'] as const) {
            const name = `proxy_forward_frontend_${frontend}_${command}_${mode}_tls_xfer_policy_${policy}`;
            table.scenario(
              name,
              async () => {
                const ftps = frontend === 'backend_tls';
                const path = `${name}.txt`;
                const transfer: NetFtpStep =
                  command === 'list' ? { op: 'list', read: 'all' } : { op: 'stor', path, data: TEST_DATA };
                const session = await run(
                  forwardProxy(`policy-${policy}`, { engine: 'on', transferProtection: policy }),
                  [...(ftps ? FTPS : []), loginTo(tls), transfer, { op: 'quit' }],
                  { passive: mode === 'pasv' },
                );
                const step = session.steps[ftps ? 3 : 1];
                expectReply(step, 226, 'Transfer complete');
                if (command === 'list') expect(step?.data).toContain('test.txt');
                else expect(await readFile(join(tls.homeDir, path), 'utf8')).toBe(TEST_DATA);
              },
              undefined,
              // FTPS client, STOR over PASV, every policy: fails about once in 30 runs of this group
              // under load, never alone. Seen with ProFTPD's TLSLog: ftpx closed the backend's data
              // connection in the middle of its TLS handshake ("unexpected eof"), so the backend
              // answered 425, because the client's side of the transfer had already failed. The lead:
              // Net::FTP sends its data and close_notify and then closes with our TLS 1.3 session
              // tickets unread, so its kernel resets the connection; when that reset is read before
              // the data (or in the same read), Node destroys the socket with ECONNRESET and the
              // buffered upload with it. Not fixed: a reset that overtakes unread data loses it in the
              // kernel too, and Node offers no way to stop sending tickets on data connections.
              frontend === 'backend_tls' && command === 'stor' && mode === 'pasv' ? 1 : undefined,
            );
          }
        }
      }
    }
  });
});
