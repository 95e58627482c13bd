import { describe, expect, it } from 'vitest';
import { parseProftpdConfig } from '../../../../edge-worker/config/proftpd-conf.js';
import { configIssues, lines } from './helpers.js';

const FILE = '/etc/proftpd/proftpd.conf';
const parse = (text: string) => parseProftpdConfig(FILE, text);
const rows = (issues: { line?: number; key?: string; message: string }[]) =>
  issues.map((issue) => [issue.line, issue.key, issue.message]);

describe('parseProftpdConfig: mod_tls (frontend) and ProxyTLS* (backend)', () => {
  it('maps mod_tls directives onto the listener, as a ProFTPD admin writes them', () => {
    const loaded = parse(
      lines(
        'ProxyEngine on',
        'ProxyTables /var/ftpx',
        'ProxyReverseServers ftps://backend.example:21',
        '<IfModule mod_tls.c>',
        '  TLSEngine on',
        '  TLSProtocol ALL -TLSv1 -TLSv1.1',
        '  TLSCipherSuite TLSv1.3 TLS_AES_256_GCM_SHA384',
        '  TLSRSACertificateFile /etc/ftpx/rsa.crt',
        '  TLSRSACertificateKeyFile /etc/ftpx/rsa.key',
        '  TLSECCertificateFile /etc/ftpx/ec.crt',
        '  TLSECCertificateKeyFile /etc/ftpx/ec.key',
        '  TLSCertificateChainFile /etc/ftpx/chain.pem',
        '  TLSCACertificateFile /etc/ftpx/clients.pem',
        '  TLSVerifyClient optional',
        '  TLSRequired auth+data',
        '  TLSOptions NoSessionReuseRequired UseImplicitSSL',
        '  TLSTimeoutHandshake 45',
        '</IfModule>',
      ),
    );
    const tls = loaded.config.listeners[0]?.tls;
    expect(tls).toEqual({
      mode: 'implicit',
      certificates: [
        { cert: '/etc/ftpx/rsa.crt', key: '/etc/ftpx/rsa.key', chain: '/etc/ftpx/chain.pem' },
        { cert: '/etc/ftpx/ec.crt', key: '/etc/ftpx/ec.key', chain: '/etc/ftpx/chain.pem' },
      ],
      protocols: ['TLSv1.2', 'TLSv1.3'],
      cipherSuites: 'TLS_AES_256_GCM_SHA384',
      clientCA: '/etc/ftpx/clients.pem',
      verifyClient: 'optional',
      required: 'auth+data',
      sessionReuseRequired: false,
      handshakeTimeout: 45_000,
      sniPools: [],
    });
    // No ProxyTLSEngine: auto, mod_proxy's default.
    expect(loaded.config.pools[0]?.tls.engine).toBe('auto');
  });

  it('maps every ProxyTLS* directive onto the pool', () => {
    const loaded = parse(
      lines(
        'ProxyEngine on',
        'ProxyTables /var/ftpx',
        'ProxyReverseServers ftp://backend.example',
        'ProxyTLSEngine MatchClient',
        'ProxyTLSTransferProtectionPolicy client',
        'ProxyTLSVerifyServer off',
        'ProxyTLSCACertificateFile /etc/ftpx/ca.pem',
        'ProxyTLSCACertificatePath /etc/ftpx/ca.d',
        'ProxyTLSCARevocationFile /etc/ftpx/ca.crl',
        'ProxyTLSCARevocationPath /etc/ftpx/crl.d',
        'ProxyTLSCertificateFile /etc/ftpx/client.pem',
        'ProxyTLSCertificateKeyFile /etc/ftpx/client.key',
        'ProxyTLSPreSharedKey backend-id hex:/etc/ftpx/psk.hex',
        'ProxyTLSCipherSuite HIGH:!aNULL',
        'ProxyTLSProtocol TLSv1.2',
        'ProxyTLSTimeoutHandshake 10',
        'ProxyTLSOptions NoSessionCache NoSessionTickets AllowWeakSecurity EnableDiags',
      ),
    );
    expect(loaded.config.pools[0]?.tls).toEqual({
      engine: 'MatchClient',
      transferProtection: 'client',
      verifyServer: false,
      caFile: '/etc/ftpx/ca.pem',
      caPath: '/etc/ftpx/ca.d',
      crlFile: '/etc/ftpx/ca.crl',
      crlPath: '/etc/ftpx/crl.d',
      certFile: '/etc/ftpx/client.pem',
      keyFile: '/etc/ftpx/client.key',
      preSharedKey: { identity: 'backend-id', key: 'hex:/etc/ftpx/psk.hex' },
      ciphers: 'HIGH:!aNULL',
      protocols: ['TLSv1.2'],
      handshakeTimeout: 10_000,
      noSessionCache: true,
      noSessionTickets: true,
      allowWeakSecurity: true,
      enableDiags: true,
    });
  });

  it('names file, line and directive of bad TLS values', () => {
    const issues = configIssues(() =>
      parse(
        lines(
          'ProxyEngine on', // 1
          'ProxyTables /var/ftpx', // 2
          'ProxyReverseServers ftp://b', // 3
          'TLSEngine on', // 4
          'TLSRequired sometimes', // 5
          'TLSVerifyClient perhaps', // 6
          'TLSProtocol SSLv3', // 7
          'TLSCipherSuite TLS_AES_128_GCM_SHA256', // 8
          'ProxyTLSPreSharedKey id base64:/etc/psk', // 9
          'ProxyTLSCACertificateFile ca.pem', // 10
        ),
      ),
    );
    expect(rows(issues)).toEqual([
      [4, 'TLSEngine', 'TLSEngine on needs TLSRSACertificateFile or TLSECCertificateFile'],
      [
        5,
        'TLSRequired',
        expect.stringMatching(/^expected one of off, on, both, control, .*got "sometimes"$/),
      ],
      [6, 'TLSVerifyClient', 'expected on, off or optional, got "perhaps"'],
      [7, 'TLSProtocol', 'SSLv3 is not supported (OpenSSL 3 has no SSLv3): use TLSv1 and newer'],
      [
        8,
        'TLSCipherSuite',
        '"TLS_AES_128_GCM_SHA256" looks like a TLS 1.3 suite list: write TLSCipherSuite TLSv1.3 TLS_AES_128_GCM_SHA256',
      ],
      [
        9,
        'ProxyTLSPreSharedKey',
        '"base64:/etc/psk": only the hex: encoding with an absolute path exists (hex:/path/to/key)',
      ],
      [10, 'ProxyTLSCACertificateFile', 'must be an absolute path, got "ca.pem"'],
    ]);
  });

  it('warns that mod_tls directives do nothing without TLSEngine on', () => {
    const loaded = parse(
      lines('ProxyEngine on', 'ProxyTables /var/ftpx', 'ProxyReverseServers ftp://b', 'TLSRequired on'),
    );
    expect(loaded.config.listeners[0]?.tls).toBeUndefined();
    expect(rows(loaded.warnings)).toEqual([
      [4, 'TLSRequired', 'ignored: TLSEngine is not on for this server'],
    ]);
  });
});
