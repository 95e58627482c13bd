import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitForBanner } from './ftp-banner.js';
import { freePort } from './ports.js';
import { spawnServer } from './process.js';
import { proftpdPreamble } from './proftpd-conf-preamble.js';

export interface ModProxy {
  port: number;
  /** The standalone master (each session is a child process it forks and reaps). */
  pid: number;
  stop(): Promise<void>;
}

/**
 * ProFTPD's own mod_proxy (Debian's proftpd-mod-proxy, with proftpd-mod-crypto for its OpenSSL) as a
 * reverse proxy in front of `backendUrls`: the reference ftpx is compared with in the benchmark. Debian's 0.9.2 needs ProxySourceAddress on
 * loopback, or every backend passive data connection fails (fixed upstream in 0.9.5).
 */
export async function startModProxy(
  backendUrls: string | string[],
  name = 'mod_proxy',
  tls: ModProxyTls = {},
): Promise<ModProxy> {
  return launchModProxy(
    name,
    `ProxyRole reverse
ProxyReverseConnectPolicy RoundRobin
ProxyReverseServers ${[backendUrls].flat().join(' ')}
`,
    tls,
  );
}

/** FTPS on either leg of a reverse mod_proxy (both off by default). */
export interface ModProxyTls {
  /** Clients may AUTH TLS (mod_tls on the proxy's own server), with this certificate. */
  client?: { cert: string; key: string };
  /**
   * TLS to the backend (ProxyTLSEngine on) verified against this CA, data connections protected
   * (ProxyTLSTransferProtectionPolicy required) whatever the client does, as ftpx's default does.
   */
  backend?: { caFile: string };
}

/**
 * mod_proxy as a forward proxy (ProxyRole forward) with `method`, for comparing replies scenario by
 * scenario. Loopback clients get a class with ProxyForwardEnabled on (127.0.0.0/8 is not RFC 1918).
 */
export async function startModProxyForward(
  method: string,
  name = 'mod_proxy-forward',
  extraConfig = '',
): Promise<ModProxy> {
  return launchModProxy(
    name,
    `${extraConfig}<Class loopback>
  From 127.0.0.0/8
  ProxyForwardEnabled on
</Class>
ProxyRole forward
ProxyForwardMethod ${method}
`,
  );
}

async function launchModProxy(name: string, roleConfig: string, tls: ModProxyTls = {}): Promise<ModProxy> {
  const workDir = await mkdtemp(join(tmpdir(), 'ftpx-mod-proxy-'));
  await chmod(workDir, 0o755);
  const port = await freePort();
  const config = join(workDir, 'proftpd.conf');
  await writeFile(
    config,
    `${proftpdPreamble({ name, port, workDir, ident: true })}ModulePath /usr/lib/proftpd
# mod_proxy.so uses OpenSSL without linking it; mod_tls.so brings libssl in (and must load after it).
LoadModule mod_proxy.c
LoadModule mod_tls.c
ProxyEngine on
ProxyLog ${workDir}/proxy.log
ProxyTables ${workDir}/tables
${roleConfig}${backendTls(tls)}ProxySourceAddress 127.0.0.1
${clientTls(tls, workDir)}`,
  );
  const server = spawnServer('/usr/sbin/proftpd', ['-n', '-q', '-c', config], workDir);
  try {
    await waitForBanner('127.0.0.1', port, 10_000, () => server.exitStatus());
  } catch (err) {
    const logs = await Promise.all(
      [server.outputFile, join(workDir, 'proftpd.log'), join(workDir, 'proxy.log')].map((file) =>
        readFile(file, 'utf8').catch(() => ''),
      ),
    );
    await server.stop();
    throw new Error(`mod_proxy did not start: ${(err as Error).message}\n${logs.join('\n')}`);
  }
  return { port, pid: server.pid, stop: () => server.stop() };
}

function backendTls(tls: ModProxyTls): string {
  if (!tls.backend) return 'ProxyTLSEngine off\n';
  return `ProxyTLSEngine on
ProxyTLSCACertificateFile ${tls.backend.caFile}
ProxyTLSTransferProtectionPolicy required
`;
}

function clientTls(tls: ModProxyTls, workDir: string): string {
  if (!tls.client) return '';
  return `TLSEngine on
TLSLog ${workDir}/tls.log
TLSProtocol TLSv1.2 TLSv1.3
TLSECCertificateFile ${tls.client.cert}
TLSECCertificateKeyFile ${tls.client.key}
TLSRequired off
TLSVerifyClient off
`;
}
