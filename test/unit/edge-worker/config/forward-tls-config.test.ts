import { describe, expect, it } from 'vitest';
import { parseYamlConfig } from '../../../../edge-worker/config/load-yaml.js';
import { parseProftpdConfig } from '../../../../edge-worker/config/proftpd-conf.js';
import { lines } from './helpers.js';

/** TLS bridging in forward mode: FTPS listeners and ProxyTLS* settings are accepted for forward pools. */
describe('forward pools with FTPS', () => {
  it('imports mod_tls and ProxyTLS* directives of a forward server from proftpd.conf', () => {
    const loaded = parseProftpdConfig(
      '/etc/proftpd/proftpd.conf',
      lines(
        'ProxyEngine on',
        'ProxyTables /var/ftp/proxy',
        'ProxyRole forward',
        'ProxyForwardMethod user@sni',
        'ProxyTLSEngine MatchClient',
        'ProxyTLSTransferProtectionPolicy client',
        'TLSEngine on',
        'TLSRSACertificateFile /etc/ssl/proxy.crt',
        'TLSRSACertificateKeyFile /etc/ssl/proxy.key',
        'TLSRequired on',
      ),
    );
    expect(loaded.warnings).toEqual([]);
    expect(loaded.config.listeners[0]?.tls).toMatchObject({
      mode: 'explicit',
      required: 'on',
      certificates: [{ cert: '/etc/ssl/proxy.crt', key: '/etc/ssl/proxy.key' }],
    });
    expect(loaded.config.pools[0]).toMatchObject({
      role: 'forward',
      forward: { method: 'user@sni' },
      tls: { engine: 'MatchClient', transferProtection: 'client' },
    });
  });

  it('accepts a YAML forward pool behind an implicit-FTPS listener', () => {
    const config = parseYamlConfig(
      'ftpx.yaml',
      lines(
        'listeners:',
        '  - port: 990',
        '    pool: out',
        '    tls: { mode: implicit, certificates: [{ cert: /etc/ssl/proxy.pem }] }',
        'pools:',
        '  - name: out',
        '    role: forward',
        '    forward: { method: user@host }',
        '    tls: { engine: "on", transferProtection: clear }',
      ),
    );
    expect(config.config.listeners[0]?.tls?.mode).toBe('implicit');
    expect(config.config.pools[0]?.tls).toMatchObject({ engine: 'on', transferProtection: 'clear' });
  });
});
