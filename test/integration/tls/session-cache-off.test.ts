import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FtpBackend, startFtpBackend } from '../../support/ftp-backends.js';
import { freePort } from '../../support/ports.js';
import { startProxyProcess } from '../../support/proxy-process.js';
import { runCommand } from '../../support/run-command.js';
import { createTestCa, type TestCa } from '../../support/test-ca.js';

/**
 * `TLSSessionCache off` as mod_tls documents it ("Use of SSL session caching can be disabled
 * entirely", http://www.proftpd.org/docs/contrib/mod_tls.html#TLSSessionCache: SSL_SESS_CACHE_OFF
 * in mod_tls.c): a TLS 1.2 client that saved its session (`openssl s_client -sess_out`) and offers
 * it again (`-sess_in`) on the same ftpx process gets a full handshake, where the shared cache and
 * `internal:` resume it. Session tickets are another mechanism (mod_tls's TLSSessionTickets), and
 * resume under `off` as they do in mod_tls.
 */
describe('TLSSessionCache off (proftpd.conf) on an FTPS listener', () => {
  let ca: TestCa;
  let backend: FtpBackend;
  let dir: string;

  beforeAll(async () => {
    ca = await createTestCa();
    backend = await startFtpBackend('proftpd', { name: 'sess-cache-off-backend' });
    dir = await mkdtemp(join(tmpdir(), 'ftpx-sess-cache-off-'));
  });

  afterAll(async () => {
    await backend?.stop();
    await ca?.remove();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** `ftpx serve --proftpd-conf` with mod_tls on the listener and `cacheLine` (none: the default). */
  async function serve(name: string, cacheLine: string | undefined) {
    const port = await freePort();
    const conf = join(dir, `${name}.conf`);
    await writeFile(
      conf,
      [
        'ServerType standalone',
        `Port ${port}`,
        'DefaultAddress 127.0.0.1',
        '<IfModule mod_proxy.c>',
        '  ProxyEngine on',
        `  ProxyTables ${join(dir, `tables-${name}`)}`,
        '  ProxyRole reverse',
        `  ProxyReverseServers ${backend.url}`,
        '</IfModule>',
        '<IfModule mod_tls.c>',
        '  TLSEngine on',
        `  TLSRSACertificateFile ${ca.server.cert}`,
        `  TLSRSACertificateKeyFile ${ca.server.key}`,
        ...(cacheLine ? [`  ${cacheLine}`] : []),
        '</IfModule>',
        '',
      ].join('\n'),
    );
    return startProxyProcess({ args: ['serve', '--proftpd-conf', conf], port });
  }

  /** One AUTH TLS handshake with s_client, saving or offering a session; "New" or "Reused". */
  async function handshake(port: number, session: string, offer: boolean, tickets: boolean): Promise<string> {
    const result = await runCommand(
      'openssl',
      [
        's_client',
        '-connect',
        `127.0.0.1:${port}`,
        '-starttls',
        'ftp',
        '-tls1_2',
        '-CAfile',
        ca.caCert,
        '-verify_return_error',
        ...(tickets ? [] : ['-no_ticket']),
        ...(offer ? ['-sess_in', session] : ['-sess_out', session]),
      ],
      { input: 'QUIT\r\n', timeoutMs: 20_000 },
    );
    const match = /^(New|Reused), TLSv1\.2/m.exec(result.stdout.toString('utf8'));
    if (!match) throw new Error(`no handshake summary from s_client: ${result.stdout}\n${result.stderr}`);
    return match[1] as string;
  }

  async function resumedOn(port: number, tickets: boolean): Promise<boolean> {
    const session = join(dir, `session-${port}-${tickets}.pem`);
    expect(await handshake(port, session, false, tickets)).toBe('New');
    return (await handshake(port, session, true, tickets)) === 'Reused';
  }

  it('refuses to resume a session ID with off; resumes it by default (shared cache) and with internal:', async () => {
    const results: Record<string, boolean> = {};
    for (const [name, line] of [
      ['off', 'TLSSessionCache off'],
      ['default', undefined],
      ['internal', 'TLSSessionCache internal: 600'],
    ] as const) {
      const proxy = await serve(name, line);
      try {
        results[name] = await resumedOn(proxy.port, false);
        if (name === 'off') {
          // mod_tls's session tickets are not its session cache: a ticket still resumes.
          results['off, with a ticket'] = await resumedOn(proxy.port, true);
        }
      } finally {
        await proxy.stop();
      }
    }
    expect(results).toEqual({ off: false, 'off, with a ticket': true, default: true, internal: true });
  });
});
