import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, formatIssue } from '../../../../edge-worker/config/config-error.js';
import { parseProftpdConfig } from '../../../../edge-worker/config/proftpd-conf.js';
import { backendTlsSchema } from '../../../../edge-worker/config/tls-schema.js';
import { configIssues, lines, tempDir } from './helpers.js';

const FILE = '/etc/proftpd/proftpd.conf';
const parse = (text: string) => parseProftpdConfig(FILE, text);
const issuesOf = (text: string) => configIssues(() => parse(text));
/** `[line, key, message]` rows, for compact assertions. */
const rows = (issues: { line?: number; key?: string; message: string }[]) =>
  issues.map((issue) => [issue.line, issue.key, issue.message]);

const LISTENER_DEFAULTS = {
  transferRate: [],
  limits: [],
  hostPools: [],
  maxCommandLength: 4096,
  dataConnectTimeout: 30_000,
  allowForeignAddress: false,
  timeouts: { login: 60_000, idle: 600_000, noTransfer: 300_000, stalled: 3_600_000 },
  maxLoginAttempts: 3,
  connections: { maxUnauthenticated: 1024, maxUnauthenticatedPerHost: 32 },
};
const POOL_DEFAULTS = {
  role: 'reverse',
  connectPolicy: 'RoundRobin',
  proxyAuth: false,
  retryCount: 5,
  connectTimeout: 5000,
  tls: { ...backendTlsSchema.parse({}), engine: 'off' },
  dataTransferPolicy: 'client',
  foreignDataAddress: 'refuse',
  lingerTimeout: 3000,
  sendProxyProtocol: 'off',
  hostNames: [],
  directDataTransfers: false,
  showFeatures: false,
  directoryListPolicy: 'client',
  useSlink: false,
  perUserFallback: 'global',
  ignoreConfigPerms: false,
};

describe('parseProftpdConfig: the mod_proxy documentation example', () => {
  // "Reverse Proxy Configuration" from mod_proxy.html, with local backend addresses.
  const DOC_EXAMPLE = lines(
    '<IfModule mod_proxy.c>', // 1
    '  ProxyEngine on', // 2
    '  ProxyLog /path/to/proxy.log', // 3
    '  ProxyTables /var/ftp/proxy', // 4
    '', // 5
    '  ProxyRole reverse', // 6
    '  ProxyReverseConnectPolicy RoundRobin', // 7
    '  ProxyReverseServers ftp://127.0.0.1:2121 ftp://127.0.0.1:2122', // 8
    '</IfModule>', // 9
  );

  it('becomes one listener on port 21 and one round-robin pool', () => {
    const loaded = parse(DOC_EXAMPLE);
    expect(loaded.source).toEqual({ kind: 'proftpd', file: FILE });
    expect(loaded.config).toEqual({
      dataDir: '/var/ftp/proxy',
      log: { level: 'info', file: '/path/to/proxy.log' },
      store: { endpoint: 'embedded', region: 'us-east-1', table: 'ftpx' },
      listeners: [{ address: '0.0.0.0', port: 21, pool: 'main', ...LISTENER_DEFAULTS }],
      pools: [
        {
          ...POOL_DEFAULTS,
          // No ProxyTLSEngine: mod_proxy's default, auto.
          tls: backendTlsSchema.parse({}),
          name: 'main',
          backends: ['ftp://127.0.0.1:2121', 'ftp://127.0.0.1:2122'],
        },
      ],
    });
  });

  it('has no warnings: without ProxyTLSEngine, backends get FTPS when they offer it (auto), as in mod_proxy', () => {
    expect(parse(DOC_EXAMPLE).warnings).toEqual([]);
  });

  it('maps the other handled directives', () => {
    const loaded = parse(
      lines(
        'Port 2100',
        'DefaultAddress 127.0.0.1 ::1',
        'ServerName "Gateway"',
        'ProxyEngine yes',
        'ProxyTLSEngine off',
        'ProxyRetryCount 2',
        'ProxyTimeoutConnect 1500ms',
        'ProxyReverseServers ftp://a:2121',
        'ProxyReverseServers ftp://u@b:2121',
        'ProxyLog none',
        'ProxyDataTransferPolicy client',
      ),
    );
    expect(loaded.config.listeners).toEqual([
      { address: '127.0.0.1', port: 2100, pool: 'Gateway', ...LISTENER_DEFAULTS },
      { address: '::1', port: 2100, pool: 'Gateway', ...LISTENER_DEFAULTS },
    ]);
    expect(loaded.config.pools).toEqual([
      {
        ...POOL_DEFAULTS,
        name: 'Gateway',
        backends: ['ftp://a:2121', 'ftp://u@b:2121'],
        retryCount: 2,
        connectTimeout: 1500,
      },
    ]);
    // ProxyLog none turns the log off.
    expect(loaded.config.log).toEqual({ level: 'info', file: false });
    expect(loaded.config.dataDir).toBe('/etc/proftpd/data');
    expect(rows(loaded.warnings)).toEqual([[undefined, 'ProxyTables', expect.stringMatching(/^not set/)]]);
  });

  it('matches directive names and values case-insensitively', () => {
    const loaded = parse(
      lines(
        'proxyengine ON',
        'PROXYROLE Reverse',
        'proxytlsengine Off',
        'ProxyReverseConnectPolicy roundrobin',
        'proxyreverseservers FTP://10.0.0.1',
      ),
    );
    expect(loaded.config.pools[0]).toMatchObject({
      connectPolicy: 'RoundRobin',
      backends: ['FTP://10.0.0.1'],
    });
  });

  it('reads ProFTPD durations in ProxyTimeoutConnect', () => {
    const timeout = (value: string) =>
      parse(
        lines(
          'ProxyEngine on',
          'ProxyTLSEngine off',
          'ProxyReverseServers ftp://b',
          `ProxyTimeoutConnect ${value}`,
        ),
      ).config.pools[0]?.connectTimeout;
    expect(timeout('7')).toBe(7000);
    expect(timeout('1sec')).toBe(1000);
    expect(timeout('2min')).toBe(120_000);
    expect(timeout('1hr')).toBe(3_600_000);
    expect(timeout('00:01:30')).toBe(90_000);
    expect(timeout('250ms')).toBe(250);
  });
});

describe('parseProftpdConfig: servers', () => {
  it('makes each <VirtualHost> with ProxyEngine on a listener and pool, with its own Port and ServerName', () => {
    const loaded = parse(
      lines(
        'ServerName "Debian"', // 1
        'Port 21', // 2
        '<VirtualHost 192.0.2.10>', // 3
        '  ServerName "Sales"', // 4
        '  Port 2121', // 5
        '  ProxyEngine on', // 6
        '  ProxyTLSEngine off', // 7
        '  ProxyReverseServers ftp://10.0.0.1:21', // 8
        '</VirtualHost>', // 9
        '<VirtualHost 192.0.2.11 192.0.2.12>', // 10
        '  ProxyEngine on', // 11
        '  ProxyTLSEngine off', // 12
        '  ProxyReverseServers ftp://10.0.0.2:21', // 13
        '</VirtualHost>', // 14
        '<VirtualHost 192.0.2.13>', // 15
        '  ProxyEngine off', // 16
        '</VirtualHost>', // 17
      ),
    );
    expect(loaded.config.listeners).toEqual([
      { address: '192.0.2.10', port: 2121, pool: 'Sales', ...LISTENER_DEFAULTS },
      { address: '192.0.2.11', port: 21, pool: '192.0.2.11:21', ...LISTENER_DEFAULTS },
      { address: '192.0.2.12', port: 21, pool: '192.0.2.11:21', ...LISTENER_DEFAULTS },
    ]);
    expect(loaded.config.pools.map((pool) => [pool.name, pool.backends])).toEqual([
      ['Sales', ['ftp://10.0.0.1:21']],
      ['192.0.2.11:21', ['ftp://10.0.0.2:21']],
    ]);
    // Warnings come in line order; those without a line come last.
    expect(loaded.warnings.map(formatIssue)).toEqual([
      `${FILE}:15: <VirtualHost 192.0.2.13>: not a proxy (ProxyEngine is not on); ftpx does not serve it`,
      `${FILE}: the main server: not a proxy (ProxyEngine is not on); ftpx does not serve it`,
      `${FILE}: ProxyTables: not set: ftpx keeps its data in "data" next to this file`,
    ]);
  });

  it('applies <Global> to the main server and every vhost, and lets a vhost override it', () => {
    const loaded = parse(
      lines(
        'Port 0', // 1: the main server is disabled
        '<Global>', // 2
        '  ProxyEngine on', // 3
        '  ProxyTLSEngine off', // 4
        '  ProxyRetryCount 3', // 5
        '  ProxyTimeoutConnect 2sec', // 6
        '  ProxyReverseServers ftp://10.0.0.1', // 7
        '</Global>', // 8
        'ProxyTables /var/lib/ftpx', // 9
        '<VirtualHost 127.0.0.1>', // 10
        '  Port 2101', // 11
        '</VirtualHost>', // 12
        '<VirtualHost 127.0.0.1>', // 13
        '  Port 2102', // 14
        '  ProxyRetryCount 9', // 15
        '  ProxyReverseServers ftp://10.0.0.2 ftp://10.0.0.3', // 16
        '</VirtualHost>', // 17
        '<VirtualHost 127.0.0.1>', // 18
        '  Port 2103', // 19
        '  ProxyEngine off', // 20
        '</VirtualHost>', // 21
      ),
    );
    expect(loaded.config.listeners.map((listener) => [listener.port, listener.pool])).toEqual([
      [2101, '127.0.0.1:2101'],
      [2102, '127.0.0.1:2102'],
    ]);
    expect(
      loaded.config.pools.map((pool) => [pool.name, pool.backends, pool.retryCount, pool.connectTimeout]),
    ).toEqual([
      ['127.0.0.1:2101', ['ftp://10.0.0.1'], 3, 2000],
      ['127.0.0.1:2102', ['ftp://10.0.0.2', 'ftp://10.0.0.3'], 9, 2000],
    ]);
    expect(rows(loaded.warnings)).toEqual([
      [18, '<VirtualHost 127.0.0.1>', 'not a proxy (ProxyEngine is not on); ftpx does not serve it'],
    ]);
  });

  it('the main server with Global', () => {
    const loaded = parse(
      lines(
        '<Global>',
        '  ProxyEngine on',
        '  ProxyTLSEngine off',
        '</Global>',
        'ProxyReverseServers ftp://b',
      ),
    );
    expect(loaded.config.pools[0]?.name).toBe('main');
  });

  it('gives duplicate ServerNames unique pool names, with a warning', () => {
    const vhost = (port: number) => [
      '<VirtualHost 127.0.0.1>',
      `  Port ${port}`,
      '  ServerName "Proxy"',
      '  ProxyEngine on',
      '  ProxyTLSEngine off',
      '  ProxyReverseServers ftp://10.0.0.1',
      '</VirtualHost>',
    ];
    const loaded = parse(lines('Port 0', ...vhost(2101), ...vhost(2102)));
    expect(loaded.config.pools.map((pool) => pool.name)).toEqual(['Proxy', 'Proxy#2']);
    expect(loaded.config.listeners.map((listener) => listener.pool)).toEqual(['Proxy', 'Proxy#2']);
    expect(rows(loaded.warnings)).toContainEqual([
      11,
      '<VirtualHost 127.0.0.1>',
      `pool name "Proxy" is already used by <VirtualHost 127.0.0.1> (${FILE}:2); this server's pool is named "Proxy#2"`,
    ]);
  });

  it('makes a second FTP server on the same address and port a name-based virtual host (HOST, ServerAlias)', () => {
    const loaded = parse(
      lines(
        'ProxyEngine on', // 1
        'ProxyTLSEngine off', // 2
        'ProxyReverseServers ftp://b', // 3
        '<VirtualHost 0.0.0.0>', // 4
        '  ServerName files.example.com', // 5
        '  ServerAlias ftp.example.com downloads.example.com', // 6
        '  ServerAlias www.example.com', // 7
        '  ProxyEngine on', // 8
        '  ProxyTLSEngine off', // 9
        '  ProxyReverseServers ftp://c', // 10
        '</VirtualHost>', // 11
      ),
    );
    expect(loaded.config.listeners).toHaveLength(1);
    expect(loaded.config.listeners[0]).toMatchObject({ pool: 'main', hostPools: ['files.example.com'] });
    expect(loaded.config.pools[1]).toMatchObject({
      name: 'files.example.com',
      hostNames: ['ftp.example.com', 'downloads.example.com', 'www.example.com'],
    });
    expect(rows(loaded.warnings)).toContainEqual([
      4,
      '<VirtualHost 0.0.0.0>',
      `name-based virtual host on 0.0.0.0:21 (served by the main server (${FILE}:1)): clients reach it with HOST <its ServerName or ServerAlias>; the connection settings (TLS, timeouts, <Limit>) stay those of the first server`,
    ]);
  });

  it('refuses two SSH servers on the same address and port (SSH has no HOST)', () => {
    const issues = issuesOf(
      lines(
        'ProxyEngine on', // 1
        'SFTPEngine on', // 2
        'SFTPHostKey /etc/ssh/ssh_host_ed25519_key', // 3
        'Port 2222', // 4
        'ProxyReverseServers sftp://b', // 5
        '<VirtualHost 0.0.0.0>', // 6
        '  Port 2222', // 7
        '  ProxyEngine on', // 8
        '  SFTPEngine on', // 9
        '  SFTPHostKey /etc/ssh/ssh_host_ed25519_key', // 10
        '  ProxyReverseServers sftp://c', // 11
        '</VirtualHost>', // 12
      ),
    );
    expect(rows(issues)).toEqual([
      [6, '<VirtualHost 0.0.0.0>', `0.0.0.0:2222 is already used by the main server (${FILE}:1)`],
    ]);
  });

  it('refuses a configuration without any proxying server', () => {
    const issues = issuesOf(lines('ServerName "plain"', 'Port 21'));
    expect(issues).toEqual([
      { file: FILE, message: 'no server has ProxyEngine on: ftpx would have nothing to serve' },
    ]);
  });

  it('requires ProxyReverseServers on a proxying server', () => {
    expect(rows(issuesOf(lines('ProxyEngine on', 'ProxyTLSEngine off')))).toEqual([
      [1, 'the main server', 'ProxyReverseServers is required for a reverse proxy'],
    ]);
  });

  it('treats a missing ProxyRole as reverse', () => {
    const loaded = parse(lines('ProxyEngine on', 'ProxyTLSEngine off', 'ProxyReverseServers ftp://b'));
    expect(loaded.config.pools[0]?.role).toBe('reverse');
  });
});

describe('parseProftpdConfig: sections and lexing', () => {
  it('reads <IfModule mod_x.c> and skips <IfModule !mod_x.c> entirely', () => {
    const loaded = parse(
      lines(
        '<IfModule mod_proxy.c>',
        '  ProxyEngine on',
        '  <IfModule mod_tls.c>',
        '    ProxyTLSEngine off',
        '  </IfModule>',
        '</IfModule>',
        '<IfModule !mod_proxy.c>',
        '  NoSuchDirective here',
        '  Include /does/not/exist.conf',
        '  <Directory />',
        '  </Directory>',
        '</IfModule>',
        'ProxyReverseServers ftp://b',
        'ProxyTables /var/ftpx',
      ),
    );
    expect(loaded.config.pools[0]?.backends).toEqual(['ftp://b']);
    expect(loaded.warnings).toEqual([]);
  });

  it('joins backslash continuation lines and keeps counting physical lines', () => {
    const issues = issuesOf(
      lines(
        'ProxyEngine on', // 1
        'ProxyReverseServers ftp://10.0.0.1:21 \\', // 2
        '    ftp://10.0.0.2:21 \\', // 3
        '    ftp://10.0.0.3:21', // 4
        'ProxyRetryCount many', // 5
      ),
    );
    expect(rows(issues)).toEqual([
      [5, 'ProxyRetryCount', 'must be a whole number of at least 1, got "many"'],
    ]);
    const loaded = parse(
      lines(
        'ProxyEngine on',
        'ProxyTLSEngine off',
        'ProxyReverseServers ftp://10.0.0.1:21 \\',
        '    ftp://10.0.0.2:21 \\',
        '    ftp://10.0.0.3:21',
      ),
    );
    expect(loaded.config.pools[0]?.backends).toEqual([
      'ftp://10.0.0.1:21',
      'ftp://10.0.0.2:21',
      'ftp://10.0.0.3:21',
    ]);
  });

  it('reads double-quoted arguments', () => {
    const loaded = parse(
      lines(
        'ServerName "My \\"best\\" proxy"',
        'ProxyEngine "on"',
        'ProxyTLSEngine off',
        'ProxyReverseServers "ftp://10.0.0.1:21"',
      ),
    );
    expect(loaded.config.pools[0]?.name).toBe('My "best" proxy');
    expect(
      rows(issuesOf(lines('ServerName "unterminated', 'ProxyEngine on', 'ProxyReverseServers ftp://b'))),
    ).toEqual([[1, 'ServerName', 'unterminated double quote']]);
  });

  it('ignores comment lines and blank lines, and only whole-line comments', () => {
    const issues = issuesOf(
      lines('# ProxyEngine on', '', '   # indented comment', 'ProxyEngine on # trailing'),
    );
    expect(rows(issues)).toEqual([[4, 'ProxyEngine', 'takes exactly one argument, got 3']]);
  });

  it('reports section mismatches with their lines', () => {
    const issues = issuesOf(
      lines(
        '</VirtualHost>', // 1
        '<VirtualHost 127.0.0.1>', // 2
        '  <IfModule mod_proxy.c>', // 3
        '</VirtualHost>', // 4
        '<Global>', // 5
        '  <VirtualHost 127.0.0.2>', // 6
        '  </VirtualHost>', // 7
        '</Global>', // 8
        '<VirtualHost 127.0.0.3>', // 9
      ),
    );
    expect(rows(issues)).toEqual([
      [1, undefined, '</VirtualHost> without a matching <VirtualHost>'],
      [3, undefined, `<IfModule> is not closed before </VirtualHost> (${FILE}:4)`],
      [6, '<VirtualHost>', 'is allowed only at the top level, not inside <Global>'],
      [9, undefined, '<VirtualHost> is never closed'],
      [undefined, undefined, 'no server has ProxyEngine on: ftpx would have nothing to serve'],
    ]);
  });

  it('refuses sections ftpx does not support, such as <Directory> and <Anonymous>', () => {
    const issues = issuesOf(
      lines(
        'ProxyEngine on', // 1
        'ProxyTLSEngine off', // 2
        'ProxyReverseServers ftp://b', // 3
        '<Limit LOGIN>', // 4 (read: see the <Limit> test)
        '  DenyAll', // 5
        '</Limit>', // 6
        '<Directory /srv>', // 7
        '</Directory>', // 8
        '<IfDefine DEBUG>', // 9
        '</IfDefine>', // 10
        '<VirtualHost 127.0.0.1>', // 11
        '  <Anonymous ~ftp>', // 12
        '  </Anonymous>', // 13
        '</VirtualHost>', // 14
        '<Virtualhosts 1.2.3.4>', // 15
        '</Virtualhosts>', // 16
      ),
    );
    expect(rows(issues)).toEqual([
      [
        7,
        '<Directory>',
        'sections are not supported by ftpx yet: ftpx would not enforce the rules inside it',
      ],
      [9, '<IfDefine>', 'sections are not supported by ftpx yet'],
      [
        12,
        '<Anonymous>',
        'sections are not supported by ftpx yet: ftpx would not enforce the rules inside it',
      ],
      [15, '<Virtualhosts>', 'unknown section (did you mean <VirtualHost>?)'],
    ]);
  });
});

describe('parseProftpdConfig: Include', () => {
  it('follows Include with a glob, relative to the including file, keeping file and line', () => {
    const dir = tempDir({
      'proftpd.conf': lines('User proftpd', 'Include conf.d/*.conf', 'ProxyTables /var/ftpx'),
    });
    mkdirSync(join(dir, 'conf.d'));
    writeFileSync(
      join(dir, 'conf.d', '10-proxy.conf'),
      lines('# proxy', 'ProxyEngine on', 'ProxyTLSEngine off'),
    );
    writeFileSync(
      join(dir, 'conf.d', '20-backends.conf'),
      lines('ProxyReverseServers ftp://10.0.0.1', 'Group nogroup'),
    );
    writeFileSync(join(dir, 'conf.d', 'README'), 'NotADirective\n');
    writeFileSync(join(dir, 'conf.d', '.hidden.conf'), 'NotADirective\n');
    const file = join(dir, 'proftpd.conf');
    const loaded = parseProftpdConfig(file);
    expect(loaded.config.pools[0]?.backends).toEqual(['ftp://10.0.0.1']);
    expect(loaded.warnings.map((warning) => [warning.file, warning.line, warning.key])).toEqual([
      [file, 1, 'User'],
      [join(dir, 'conf.d', '20-backends.conf'), 2, 'Group'],
    ]);
  });

  it('includes every file of a directory, and reports errors in included files by their own name', () => {
    const dir = tempDir({ 'main.conf': lines('ProxyEngine on', 'Include extra/') });
    mkdirSync(join(dir, 'extra'));
    writeFileSync(join(dir, 'extra', 'a.conf'), lines('ProxyTLSEngine off', '', 'ProxyRetryCount 0'));
    writeFileSync(join(dir, 'extra', 'b.conf'), lines('ProxyReverseServers ftp://b', 'ProxyRetryCont 2'));
    const issues = configIssues(() => parseProftpdConfig(join(dir, 'main.conf')));
    expect(issues.map(formatIssue)).toEqual([
      `${join(dir, 'extra', 'a.conf')}:3: ProxyRetryCount: must be a whole number of at least 1, got "0"`,
      `${join(dir, 'extra', 'b.conf')}:2: ProxyRetryCont: unknown directive (did you mean ProxyRetryCount?)`,
    ]);
  });

  it('detects Include cycles', () => {
    const dir = tempDir({
      'a.conf': lines('ProxyEngine on', 'Include b.conf'),
      'b.conf': lines('Include a.conf', 'ProxyReverseServers ftp://b'),
    });
    const issues = configIssues(() => parseProftpdConfig(join(dir, 'a.conf')));
    expect(issues).toEqual([
      {
        file: join(dir, 'b.conf'),
        line: 1,
        key: 'Include',
        message: `Include cycle: ${join(dir, 'a.conf')} -> ${join(dir, 'b.conf')} -> ${join(dir, 'a.conf')}`,
      },
    ]);
  });

  it('reports a missing include at the Include line, and warns about a glob matching nothing', () => {
    const dir = tempDir({
      'a.conf': lines(
        'ProxyEngine on',
        'ProxyTLSEngine off',
        'ProxyReverseServers ftp://b',
        'Include nothing-here/*.conf',
        'Include missing.conf',
      ),
    });
    mkdirSync(join(dir, 'nothing-here'));
    const issues = configIssues(() => parseProftpdConfig(join(dir, 'a.conf')));
    expect(rows(issues)).toEqual([
      [5, 'Include', `cannot read "${join(dir, 'missing.conf')}": no such file or directory (ENOENT)`],
    ]);
    writeFileSync(
      join(dir, 'a.conf'),
      lines(
        'ProxyEngine on',
        'ProxyTLSEngine off',
        'ProxyReverseServers ftp://b',
        'Include nothing-here/*.conf',
        'ProxyTables /x',
      ),
    );
    expect(rows(parseProftpdConfig(join(dir, 'a.conf')).warnings)).toEqual([
      [4, 'Include', `${join(dir, 'nothing-here', '*.conf')} matches no files`],
    ]);
  });
});

describe('parseProftpdConfig: directives ftpx ignores or refuses', () => {
  it('warns about core directives that mean nothing to a proxy, with their lines', () => {
    const loaded = parse(
      lines(
        'ServerType standalone', // 1
        'LoadModule mod_proxy.c', // 2
        'User proftpd', // 3
        'Group nogroup', // 4
        'WtmpLog off', // 5
        'ProxyEngine on', // 6
        'ProxyTLSEngine off', // 7
        'ProxyReverseServers ftp://b', // 8
        'ProxyTables /var/ftpx', // 9
      ),
    );
    expect(loaded.warnings.map(formatIssue)).toEqual([
      `${FILE}:1: ServerType: ignored: ftpx always runs as a standalone daemon`,
      `${FILE}:2: LoadModule: ignored: ftpx has no loadable modules`,
      `${FILE}:3: User: ignored: ftpx does not switch user or group; run it under the account you want`,
      `${FILE}:4: Group: ignored: ftpx does not switch user or group; run it under the account you want`,
      `${FILE}:5: WtmpLog: ignored: ftpx logs only to ProxyLog (or standard error)`,
    ]);
  });

  it('refuses unknown directives, suggesting a near match', () => {
    const issues = issuesOf(
      lines(
        'ProxyEngine on',
        'ProxyReverseServer ftp://b',
        'FrobnicateAll on',
        'ProxyReverseServers ftp://c',
      ),
    );
    expect(issues.map(formatIssue)).toEqual([
      `${FILE}:2: ProxyReverseServer: unknown directive (did you mean ProxyReverseServers?)`,
      `${FILE}:3: FrobnicateAll: unknown directive`,
    ]);
  });

  it('refuses values ftpx does not support yet', () => {
    const issues = issuesOf(
      lines(
        'ProxyEngine on', // 1
        'ProxyForwardMethod user@nowhere', // 2
        'ProxyReverseConnectPolicy PerUser PerHost', // 3
        'ProxyReverseConnectPolicy Fastest', // 4
        'ProxyTLSEngine sometimes', // 5
        'ProxyTLSProtocol TLSv1 TLSv1.2', // 6
        'ProxyTLSOptions NoSessionCaching', // 7
        'ProxyTLSCertificateKeyFile pkcs11:token=x', // 8
        'ProxyReverseServers sftp://h file:/etc/backends.json sql:/GetBackends', // 9
        'ProxyReverseServers ftp://u:secret@h:99999', // 10
        'ProxyOptions allowforeignaddress', // 11
        'ProxyDataTransferPolicy sideways', // 12
        'AllowForeignAddress trusted-class', // 13
        'PassivePorts 50000', // 14
        'ProxySourceAddress eth0', // 15
      ),
    );
    expect(rows(issues)).toEqual([
      [
        2,
        'ProxyForwardMethod',
        'expected one of user@host, proxyuser,user@host, proxyuser@host,user, user@sni, got "user@nowhere"',
      ],
      [3, 'ProxyReverseConnectPolicy', 'takes exactly one argument, got 2'],
      [
        4,
        'ProxyReverseConnectPolicy',
        '"Fastest" is not a connect policy (valid: Random, RoundRobin, Shuffle, LeastConns, LeastResponseTime, PerUser, PerGroup, PerHost)',
      ],
      [5, 'ProxyTLSEngine', 'expected on, off, auto or MatchClient, got "sometimes"'],
      [6, 'ProxyTLSProtocol', 'TLSv1 TLSv1.2 has a gap: OpenSSL negotiates a contiguous range of versions'],
      [
        7,
        'ProxyTLSOptions',
        'unknown option "NoSessionCaching" (known: NoSessionCache, NoSessionTickets, AllowWeakSecurity, EnableDiags)',
      ],
      [8, 'ProxyTLSCertificateKeyFile', 'PKCS#11 keys are not supported by ftpx: give a PEM key file'],
      [
        9,
        'ProxyReverseServers',
        '"sql:/GetBackends": backend lists from SQL queries (sql:) are not supported by ftpx yet: register per-user backends through the registry API instead (/v1/pools/{pool}/users/{user}/backends)',
      ],
      [10, 'ProxyReverseServers', '"99999" is not a port number in backend URL "ftp://u:***@h:99999"'],
      [
        11,
        'ProxyOptions',
        'unknown option "allowforeignaddress" (did you mean AllowForeignAddress? options are case-sensitive)',
      ],
      [
        12,
        'ProxyDataTransferPolicy',
        'expected one of client, active, passive, PASV, EPSV, PORT, EPRT, got "sideways"',
      ],
      [13, 'AllowForeignAddress', '"trusted-class" is neither on/off nor a <Class> defined in this file'],
      [14, 'PassivePorts', 'takes a minimum and a maximum port, got 1 argument(s)'],
      [
        15,
        'ProxySourceAddress',
        'must be an IP address (interface names are not supported by ftpx), got "eth0"',
      ],
    ]);
    expect(issues.map(formatIssue).join('\n')).not.toContain('secret');
  });
  it('turns <Limit> sections into command limits, and refuses host names', () => {
    const loaded = parse(
      lines(
        'ProxyEngine on',
        'ProxyTLSEngine off',
        'ProxyTables /var/ftpx',
        'ProxyReverseServers ftp://b',
        '<Limit WRITE DELE>',
        '  AllowUser alice,bob',
        '  Deny from 10.1.0.0/16',
        '  Allow from all',
        '  Order deny,allow',
        '  DenyAll',
        '</Limit>',
      ),
    );
    expect(loaded.config.listeners[0]?.limits).toEqual([
      {
        commands: ['WRITE', 'DELE'],
        allowUsers: ['alice', 'bob'],
        denyUsers: [],
        allowFrom: ['0.0.0.0/0', '::/0'],
        denyFrom: ['10.1.0.0/16'],
        order: 'deny,allow',
        otherwise: 'deny',
      },
    ]);
    const issues = issuesOf(
      lines(
        'ProxyEngine on',
        'ProxyReverseServers ftp://b',
        '<Limit READ>',
        '  AllowGroup !staff',
        '  Allow from ftp.example.com',
        '</Limit>',
      ),
    );
    // Group rules themselves are read (proftpd-conf-parity.test.ts); negated names are not.
    expect(rows(issues)).toEqual([
      [4, 'AllowGroup', 'negated names (!name) are not supported by ftpx yet'],
      [5, 'Allow', expect.stringMatching(/host names are not supported by ftpx/)],
    ]);
  });

  it('accepts every connect policy but PerGroup, which needs proxy authentication', () => {
    const conf = (policy: string) =>
      lines(
        'ProxyEngine on',
        'ProxyTLSEngine off',
        'ProxyTables /var/ftpx',
        'ProxyReverseServers ftp://b',
        `ProxyReverseConnectPolicy ${policy}`,
      );
    for (const policy of ['Random', 'shuffle', 'LeastConns', 'LeastResponseTime', 'PerUser', 'PerHost']) {
      expect(parse(conf(policy)).config.pools[0]?.connectPolicy.toLowerCase()).toBe(policy.toLowerCase());
    }
    expect(rows(issuesOf(conf('PerGroup')))).toEqual([
      [5, 'ProxyReverseConnectPolicy', expect.stringMatching(/PerGroup needs proxy authentication/)],
    ]);
  });

  it('maps the data-channel, timeout and login directives onto the listener and the pool', () => {
    const loaded = parse(
      lines(
        '<Global>',
        '  TimeoutIdle 120',
        '  ProxyOptions AllowForeignAddress',
        '</Global>',
        'ProxyEngine on',
        'ProxyTLSEngine off',
        'ProxyTables /var/ftpx',
        'ProxyReverseServers ftp://b',
        'ProxyDataTransferPolicy epsv',
        'ProxySourceAddress 10.0.0.5',
        'ProxyOptions IgnoreForeignAddress UseProxyProtocolV2 ShowFeatures UseDirectDataTransfers',
        'ProxyTimeoutLinger 1',
        'PassivePorts 50000 50100',
        'MasqueradeAddress ftp.example.com',
        'AllowForeignAddress on',
        'TimeoutLogin 00:01:00',
        'TimeoutStalled 0',
        'MaxLoginAttempts 5',
        'ProxyDirectoryListPolicy LIST UseSlink',
        'TransferLog /var/log/ftpx/xferlog',
        'TransferRate RETR,stor 100:1024',
      ),
    );
    expect(loaded.config.listeners[0]?.transferRate).toEqual([
      { commands: ['RETR', 'STOR'], kibPerSecond: 100, freeBytes: 1024 },
    ]);
    expect(loaded.config.transferLog).toBe('/var/log/ftpx/xferlog');
    expect(loaded.config.pools[0]).toMatchObject({
      dataTransferPolicy: 'EPSV',
      sourceAddress: '10.0.0.5',
      foreignDataAddress: 'ignore',
      sendProxyProtocol: 'v2',
      showFeatures: true,
      directDataTransfers: true,
      lingerTimeout: 1000,
      directoryListPolicy: 'LIST',
      useSlink: true,
    });
    expect(loaded.config.listeners[0]).toMatchObject({
      passivePorts: { min: 50000, max: 50100 },
      masqueradeAddress: 'ftp.example.com',
      allowForeignAddress: true,
      timeouts: { login: 60_000, idle: 120_000, noTransfer: 300_000, stalled: 0 },
      maxLoginAttempts: 5,
    });
  });

  it('checks argument counts precisely', () => {
    const issues = issuesOf(
      lines(
        'ProxyEngine', // 1
        'ProxyRetryCount 1 2', // 2
        'ProxyReverseServers', // 3
        'Port 21 22', // 4
        'ProxyTimeoutConnect', // 5
      ),
    );
    expect(issues.map(formatIssue)).toEqual([
      `${FILE}:1: ProxyEngine: takes exactly one argument, got 0`,
      `${FILE}:2: ProxyRetryCount: takes exactly one argument, got 2`,
      `${FILE}:3: ProxyReverseServers: needs at least one backend URL`,
      `${FILE}:4: Port: takes exactly one argument, got 2`,
      `${FILE}:5: ProxyTimeoutConnect: takes exactly one argument, got 0`,
    ]);
  });

  it('checks values', () => {
    const issues = issuesOf(
      lines(
        'ProxyEngine maybe', // 1
        'Port 70000', // 2
        'ProxyTimeoutConnect soon', // 3
        'ProxyTimeoutConnect 0', // 4
        'ProxyRole sideways', // 5
        'ProxyRetryCount 0', // 6
        'ProxyLog relative.log', // 7
      ),
    );
    expect(rows(issues).slice(0, 7)).toEqual([
      [1, 'ProxyEngine', 'expected on or off, got "maybe"'],
      [2, 'Port', 'must be a port number from 0 to 65535, got "70000"'],
      [3, 'ProxyTimeoutConnect', '"soon" is not a duration (use e.g. 5, 5sec, 500ms, 2min, 1hr or hh:mm:ss)'],
      [4, 'ProxyTimeoutConnect', 'must be longer than zero'],
      [5, 'ProxyRole', 'expected reverse or forward, got "sideways"'],
      [6, 'ProxyRetryCount', 'must be a whole number of at least 1, got "0"'],
      [7, 'ProxyLog', 'must be an absolute path or none, got "relative.log"'],
    ]);
  });

  it('refuses a relative ProxyTables, and ProxyTables outside the server config', () => {
    const issues = issuesOf(
      lines(
        'ProxyEngine on', // 1
        'ProxyTLSEngine off', // 2
        'ProxyReverseServers ftp://b', // 3
        'ProxyTables var/ftpx', // 4
        '<VirtualHost 127.0.0.1>', // 5
        '  ProxyTables /var/ftpx', // 6
        '  DefaultAddress 10.0.0.1', // 7
        '</VirtualHost>', // 8
        '<Global>', // 9
        '  Port 2121', // 10
        '</Global>', // 11
      ),
    );
    expect(rows(issues)).toEqual([
      [4, 'ProxyTables', 'must be an absolute path, got "var/ftpx"'],
      [6, 'ProxyTables', 'allowed only in the server config, not in <VirtualHost 127.0.0.1>'],
      [7, 'DefaultAddress', 'allowed only in the server config, not in <VirtualHost 127.0.0.1>'],
      [10, 'Port', 'allowed only in the server config and <VirtualHost>, not in <Global>'],
    ]);
  });

  it('refuses a directive set twice in the same scope', () => {
    const issues = issuesOf(lines('ProxyEngine on', 'ProxyRetryCount 2', 'ProxyRetryCount 3'));
    expect(rows(issues)).toContainEqual([
      3,
      'ProxyRetryCount',
      `is set twice in the main server (first at ${FILE}:2)`,
    ]);
  });

  it('gives a vhost with its own ProxyLog a log of its own (listeners[].logFile)', () => {
    const base = [
      'Port 0',
      '<VirtualHost 127.0.0.1>', // 2
      '  ProxyEngine on',
      '  ProxyTLSEngine off',
      '  ProxyReverseServers ftp://b',
      '  ProxyLog /var/log/ftpx-a.log', // 6
      '</VirtualHost>',
      'ProxyTables /var/ftpx', // 8
    ];
    const loaded = parse(lines(...base));
    expect(loaded.config.log.file).toBeUndefined();
    expect(loaded.config.listeners[0]?.logFile).toBe('/var/log/ftpx-a.log');
    expect(rows(loaded.warnings)).toEqual([]);
    const withMain = parse(lines(...base, 'ProxyLog /var/log/ftpx.log'));
    expect(withMain.config.log.file).toBe('/var/log/ftpx.log');
    expect(withMain.config.listeners[0]?.logFile).toBe('/var/log/ftpx-a.log');
    expect(rows(withMain.warnings)).toEqual([]);
  });

  it('collects every error before throwing', () => {
    let caught: unknown;
    try {
      parse(
        lines('ProxyEngine on', 'Bogus 1', 'ProxyRetryCount x', '<Limit>', '</Limit>', 'ProxyRetryCount 3'),
      );
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).message.split('\n')).toEqual([
      `${FILE}:1: the main server: ProxyReverseServers is required for a reverse proxy`,
      `${FILE}:2: Bogus: unknown directive`,
      `${FILE}:3: ProxyRetryCount: must be a whole number of at least 1, got "x"`,
      `${FILE}:4: <Limit>: needs at least one command or command group`,
      `${FILE}:6: ProxyRetryCount: is set twice in the main server (first at ${FILE}:3)`,
    ]);
  });
});
