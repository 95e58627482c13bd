import { afterAll, beforeAll, describe, expect } from 'vitest';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../support/ftp-backends.js';
import { type NetFtpStep, netFtp } from '../support/net-ftp.js';
import { startTestProxy, type TestProxy, type TestProxyOptions } from '../support/proxy.js';
import { createTestCa, type TestCa } from '../support/test-ca.js';
import { ConformanceTable, expectReply, expectTransferOk, type Unrun } from './conformance-table.js';

/**
 * mod_proxy's HOST scenarios (RFC 7151) with name-based virtual hosts, reverse and forward, plain and
 * FTPS (proxy_*_after_host in t/lib/ProFTPD/Tests/Modules/mod_proxy.pm and mod_proxy/tls.pm of
 * https://github.com/Castaglia/proftpd-mod_proxy). The suite's "Default Server" with a name-based
 * "Namebased Server" (ServerAlias) on the same port is, in ftpx, a listener whose pool is the default
 * and whose `hostPools` pool answers to the alias. ProFTPD's core greets again with the named virtual
 * host's banner, which under mod_proxy's reverse role is the new backend's.
 */
const AWAITING_FIX: Unrun[] = [];
const DIFFERS: Unrun[] = [];
const LEFT_OUT: Unrun[] = [];

const TEST_DATA = 'Hello, Proxying World!\n';
const ALIAS = 'ftp.castaglia.org';

describe('mod_proxy conformance: HOST', () => {
  const table = new ConformanceTable('HOST (reverse, forward, TLS)', AWAITING_FIX, LEFT_OUT, DIFFERS);
  let ca: TestCa;
  let defaultServer: FtpBackend;
  let real: FtpBackend;
  let realTls: FtpBackend;
  const proxies = new Map<string, Promise<TestProxy>>();

  beforeAll(async () => {
    ca = await createTestCa();
    [defaultServer, real, realTls] = await Promise.all([
      startFtpBackend('proftpd', { name: 'Default Server' }),
      startFtpBackend('proftpd', { name: 'Real Server' }),
      startFtpBackend('proftpd', {
        name: 'Real TLS Server',
        tls: { cert: ca.server.cert, key: ca.server.key },
      }),
    ]);
    for (const server of [defaultServer, real, realTls]) await writeHomeFile(server, 'test.txt', TEST_DATA);
  });

  afterAll(async () => {
    await Promise.allSettled([...proxies.values()].map(async (proxy) => (await proxy).close()));
    await Promise.all([defaultServer, real, realTls].map((server) => server?.stop()));
    await ca?.remove();
  });

  function proxyWith(key: string, options: () => TestProxyOptions): Promise<TestProxy> {
    let proxy = proxies.get(key);
    if (!proxy) {
      proxy = startTestProxy(options());
      proxies.set(key, proxy);
    }
    return proxy;
  }

  // Net::FTP does not resume the control connection's TLS session on data connections.
  const frontendTls = () => ({
    tls: { certificates: [{ cert: ca.server.cert, key: ca.server.key }], sessionReuseRequired: false },
  });
  const FTPS: NetFtpStep[] = [{ op: 'starttls' }, { op: 'prot', level: 'P' }];

  /** The default pool's backend is "Default Server"; HOST ftp.castaglia.org selects `namebased`. */
  const reverse = (tls: boolean) =>
    proxyWith(tls ? 'reverse-tls' : 'reverse', () => ({
      backends: [defaultServer.url],
      pool: 'default',
      retryCount: 1,
      listener: { hostPools: ['namebased'], ...(tls ? frontendTls() : {}) },
      extraPools: [
        {
          name: 'namebased',
          backends: [(tls ? realTls : real).url],
          hostNames: [ALIAS],
          ...(tls ? { tls: { caFile: ca.caCert } } : {}),
        },
      ],
    }));

  /** A forward proxy whose one virtual host has the alias and the "Namebased Server" banner. */
  const forward = (tls: boolean) =>
    proxyWith(tls ? 'forward-tls' : 'forward', () => ({
      backends: [],
      classes: [{ name: 'forward-proxy', from: ['127.0.0.0/8'], forwardEnabled: true }],
      listener: { greeting: 'Namebased Server', ...(tls ? frontendTls() : {}) },
      poolSettings: {
        role: 'forward',
        forward: { method: 'user@host' },
        hostNames: [ALIAS],
        allowDestinationNetworks: ['127.0.0.0/8'],
        ...(tls ? { tls: { caFile: ca.caCert } } : {}),
      },
    }));

  describe('reverse', () => {
    table.scenario('proxy_reverse_login_roundrobin_after_host', async () => {
      const session = await netFtp(
        [
          { op: 'quot', cmd: 'HOST', arg: ALIAS },
          { op: 'login', user: real.user, pass: real.password },
          { op: 'quit' },
        ],
        { port: (await reverse(false)).port },
      );
      expectReply(session.greeting, 220, /.*Default Server/);
      // RoundRobin connects at once: HOST moves the session to the other backend, whose banner comes back.
      expectReply(session.steps[0], 220, /.*Real Server/);
      expectReply(session.steps[1], 230, `User ${real.user} logged in`);
    });

    table.scenario('proxy_reverse_frontend_backend_tls_roundrobin_login_after_host', async () => {
      const session = await netFtp(
        [
          ...FTPS,
          { op: 'quot', cmd: 'HOST', arg: ALIAS },
          { op: 'login', user: realTls.user, pass: realTls.password },
          { op: 'list', read: 'all' },
          // Some reports said a first transfer works and the next one fails: the suite lists twice.
          { op: 'list', read: 'all' },
          { op: 'quit' },
        ],
        { port: (await reverse(true)).port, sslHostname: ALIAS },
      );
      expectReply(session.steps[2], 220, /.*Real TLS Server/);
      expect(session.steps[3]?.code).toBe(230);
      expectTransferOk(session.steps[4]);
      expectTransferOk(session.steps[5]);
    });
  });

  describe('forward', () => {
    table.scenario('proxy_forward_noproxyauth_login_after_host', async () => {
      const session = await netFtp(
        [
          { op: 'quot', cmd: 'HOST', arg: ALIAS },
          { op: 'login', user: `${real.user}@127.0.0.1:${real.port}`, pass: real.password },
          { op: 'quit' },
        ],
        { port: (await forward(false)).port },
      );
      expectReply(session.steps[0], 220, /.*Namebased/);
      expectReply(session.steps[1], 230, `User ${real.user} logged in`);
    });

    table.scenario('proxy_forward_frontend_backend_tls_login_after_host', async () => {
      const session = await netFtp(
        [
          ...FTPS,
          { op: 'quot', cmd: 'HOST', arg: ALIAS },
          { op: 'login', user: `${realTls.user}@127.0.0.1:${realTls.port}`, pass: realTls.password },
          { op: 'list', read: 'all' },
          { op: 'quit' },
        ],
        { port: (await forward(true)).port, sslHostname: ALIAS },
      );
      expect(session.steps[2]?.code).toBe(220);
      expect(session.steps[3]?.code).toBe(230);
      expectTransferOk(session.steps[4]);
    });
  });
});
