import { describe, expect, it } from 'vitest';
import { parseProftpdConfig } from '../../../../edge-worker/config/proftpd-conf.js';
import { configIssues, lines } from './helpers.js';

const FILE = '/etc/proftpd/proftpd.conf';
const parse = (text: string) => parseProftpdConfig(FILE, text);
const rows = (issues: { line?: number; key?: string; message: string }[]) =>
  issues.map((issue) => [issue.line, issue.key, issue.message]);

describe('parseProftpdConfig: SFTP/SCP (mod_sftp frontend, ProxySFTP* backend)', () => {
  // The seed's "SFTP/SCP Support" example, with mod_sftp's directives as a ProFTPD admin writes them.
  const EXAMPLE = lines(
    '<IfModule mod_sftp.c>', // 1
    '  SFTPEngine on', // 2
    '  SFTPHostKey /etc/ssh/ssh_host_ed25519_key', // 3
    '  SFTPHostKey /etc/ssh/ssh_host_rsa_key', // 4
    '  SFTPAuthMethods publickey password keyboard-interactive', // 5
    '  SFTPCiphers aes256-ctr aes128-gcm@openssh.com', // 6
    '  SFTPDigests hmac-sha2-256 hmac-sha2-512', // 7
    '  SFTPKeyExchanges curve25519-sha256 ecdh-sha2-nistp256', // 8
    '  SFTPAuthorizedUserKeys file:/etc/proftpd/authorized_keys/%u', // 9
    '</IfModule>', // 10
    '<IfModule mod_proxy.c>', // 11
    '  ProxyEngine on', // 12
    '  ProxyTables /var/ftp/proxy', // 13
    '  ProxyRole reverse', // 14
    '  ProxyReverseConnectPolicy RoundRobin', // 15
    '  ProxyReverseServers sftp://127.0.0.1:2222 sftp://127.0.0.1', // 16
    '  ProxySFTPHostKey /etc/proftpd/proxy_host_key', // 17
    '  ProxySFTPCiphers aes128-ctr', // 18
    '  ProxySFTPDigests hmac-sha2-256', // 19
    '  ProxySFTPKeyExchanges curve25519-sha256', // 20
    '  ProxySFTPCompression delayed', // 21
    '  ProxySFTPOptions AllowWeakDH', // 22
    '  ProxySFTPServerAlive 3 15', // 23
    '  ProxySFTPVerifyServer on', // 24
    '  ProxySFTPPassPhraseProvider /usr/local/bin/passphrase', // 25
    '  Port 2200', // 26
    '</IfModule>', // 27
  );

  it('becomes an sftp listener with mod_sftp settings and a pool with ProxySFTP settings', () => {
    const loaded = parse(EXAMPLE);
    const listener = loaded.config.listeners[0];
    expect(listener).toMatchObject({
      port: 2200,
      protocol: 'sftp',
      sftp: {
        hostKeys: ['/etc/ssh/ssh_host_ed25519_key', '/etc/ssh/ssh_host_rsa_key'],
        authMethods: ['publickey', 'password', 'keyboard-interactive'],
        ciphers: ['aes256-ctr', 'aes128-gcm@openssh.com'],
        digests: ['hmac-sha2-256', 'hmac-sha2-512'],
        keyExchanges: ['curve25519-sha256', 'ecdh-sha2-nistp256'],
        authorizedUserKeys: '/etc/proftpd/authorized_keys/%u',
        compression: 'off',
        allow: { sftp: true, scp: true, shell: false, exec: false, portForwarding: false },
      },
    });
    expect(loaded.config.pools[0]).toMatchObject({
      backends: ['sftp://127.0.0.1:2222', 'sftp://127.0.0.1'],
      sftp: {
        hostKeys: ['/etc/proftpd/proxy_host_key'],
        ciphers: ['aes128-ctr'],
        digests: ['hmac-sha2-256'],
        keyExchanges: ['curve25519-sha256'],
        compression: 'delayed',
        options: ['AllowWeakDH'],
        serverAlive: { count: 3, interval: 15 },
        verifyServer: 'on',
        passPhraseProvider: '/usr/local/bin/passphrase',
      },
    });
    // ProxyTLSEngine means nothing for SSH: no warning about it.
    expect(loaded.warnings.map((warning) => warning.key)).not.toContain('ProxyTLSEngine');
  });

  it('reads SFTPAuthMethods chains and SFTPAuthorizedHostKeys (client hostbased logins)', () => {
    const loaded = parse(
      lines(
        'ProxyEngine on',
        'ProxyRole reverse',
        'ProxyReverseServers sftp://127.0.0.1:2222',
        'SFTPEngine on',
        'SFTPHostKey /etc/ssh/ssh_host_ed25519_key',
        'SFTPAuthMethods publickey+password hostbased keyboard-interactive',
        'SFTPAuthorizedUserKeys file:/etc/proftpd/authorized_keys/%u',
        'SFTPAuthorizedHostKeys file:/etc/proftpd/authorized_host_keys',
        'ProxySFTPHostKey /etc/proftpd/proxy_host_key',
      ),
    );
    expect(loaded.config.listeners[0]?.sftp).toMatchObject({
      authMethods: ['publickey+password', 'hostbased', 'keyboard-interactive'],
      authorizedUserKeys: '/etc/proftpd/authorized_keys/%u',
      authorizedHostKeys: '/etc/proftpd/authorized_host_keys',
    });
    const repeated = configIssues(() =>
      parse(
        lines(
          'ProxyEngine on',
          'ProxyRole reverse',
          'ProxyReverseServers sftp://127.0.0.1',
          'SFTPEngine on',
          'SFTPHostKey /k',
          'SFTPAuthMethods password+password',
        ),
      ),
    );
    expect(rows(repeated)).toEqual([[6, 'SFTPAuthMethods', '"password+password" names a method twice']]);
  });

  it('names the line of each SFTP directive it cannot read', () => {
    const issues = configIssues(() =>
      parse(
        lines(
          'ProxyEngine on', // 1
          'ProxyRole reverse', // 2
          'ProxyReverseServers sftp://127.0.0.1:2222', // 3
          'SFTPEngine on', // 4
          'SFTPHostKey /etc/ssh/ssh_host_ed25519_key', // 5
          'SFTPAuthMethods publickey+password password+gssapi-with-mic', // 6
          'ProxySFTPServerMatch ^OpenSSH pessimisticNewkeys true', // 7
          'ProxySFTPVerifyServer maybe', // 8
          'SFTPAuthorizedUserKeys sql:/GetKeys', // 9
        ),
      ),
    );
    expect(rows(issues)).toEqual([
      [
        6,
        'SFTPAuthMethods',
        expect.stringMatching(/^"gssapi-with-mic" is not an authentication method ftpx takes/),
      ],
      [7, 'ProxySFTPServerMatch', expect.stringMatching(/^cannot be applied/)],
      [8, 'ProxySFTPVerifyServer', 'expected on, off or enforce (ftpx), got "maybe"'],
      [9, 'SFTPAuthorizedUserKeys', expect.stringMatching(/^only file: sources are supported/)],
    ]);
  });

  it('traces values the schema refuses back to their directive', () => {
    const issues = configIssues(() =>
      parse(
        lines(
          'ProxyEngine on', // 1
          'ProxyRole reverse', // 2
          'ProxyReverseServers sftp://127.0.0.1:2222', // 3
          'SFTPEngine on', // 4
          'SFTPHostKey agent:/run/agent.sock', // 5
          'ProxySFTPCiphers rot13-cbc', // 6
          'ProxySFTPOptions NoStrictKex Bogus', // 7
          'SFTPKeyExchanges diffie-hellman-group-exchange-sha256', // 8
        ),
      ),
    );
    const byLine = new Map(rows(issues).map(([line, key, message]) => [line, `${key}: ${message}`]));
    expect(byLine.get(5)).toMatch(/^SFTPHostKey: .*agent: keys are not supported/);
    expect(byLine.get(6)).toMatch(/^ProxySFTPCiphers: .*cipher "rot13-cbc" is not implemented by ssh2/);
    expect(byLine.get(7)).toMatch(/^ProxySFTPOptions: .*unknown ProxySFTPOptions "Bogus"/);
    expect(byLine.get(8)).toMatch(/^SFTPKeyExchanges: .*ssh2 implements group exchange as a client only/);
  });

  it('refuses sftp:// backends behind a server without SFTPEngine on', () => {
    const issues = configIssues(() =>
      parse(
        lines(
          'ProxyEngine on',
          'ProxyRole reverse',
          'ProxyTLSEngine off',
          'ProxyReverseServers sftp://127.0.0.1:2222',
        ),
      ),
    );
    expect(issues.map((issue) => issue.message).join('\n')).toMatch(
      /sftp:\/\/ backends, which need a protocol: sftp listener/,
    );
  });
});
