import { describe, expect, it } from 'vitest';
import { formatIssue } from '../../../../edge-worker/config/config-error.js';
import { parseYamlConfig } from '../../../../edge-worker/config/load-yaml.js';
import { parseProftpdConfig } from '../../../../edge-worker/config/proftpd-conf.js';
import { parseTlsProtocols } from '../../../../edge-worker/config/tls-protocols.js';
import { configIssues, lines } from './helpers.js';

/** What ProFTPD accepts and ftpx refused before (issue 16, item 3 to 6): each now loads, or warns. */

const FILE = '/etc/proftpd/proftpd.conf';
const parse = (text: string) => parseProftpdConfig(FILE, text);
const rows = (issues: { line?: number; key?: string; message: string }[]) =>
  issues.map((issue) => [issue.line, issue.key, issue.message]);
const REVERSE = ['ProxyEngine on', 'ProxyTLSEngine off', 'ProxyTables /var/ftp/proxy'];

describe('proftpd.conf: proxy authentication from the file', () => {
  it('maps UseReverseProxyAuth, AuthUserFile, AuthGroupFile and AuthOrder, with PerGroup and %g files', () => {
    const loaded = parse(
      lines(
        ...REVERSE, // 1-3
        'ProxyRole reverse', // 4
        'ProxyReverseConnectPolicy PerGroup', // 5
        'ProxyOptions UseReverseProxyAuth', // 6
        'AuthUserFile /etc/ftpx/ftpd.passwd', // 7
        'AuthGroupFile /etc/ftpx/ftpd.group', // 8
        'AuthOrder mod_auth_file.c mod_auth_unix.c', // 9
        'ProxyReverseServers ftp://10.0.0.1:2121', // 10
        'ProxyReverseServers file:/var/ftp/proxy/backends/%g.json', // 11
      ),
    );
    expect(loaded.config.pools[0]).toMatchObject({
      connectPolicy: 'PerGroup',
      proxyAuth: true,
      authUserFile: '/etc/ftpx/ftpd.passwd',
      authGroupFile: '/etc/ftpx/ftpd.group',
      backends: ['ftp://10.0.0.1:2121', 'file:/var/ftp/proxy/backends/%g.json'],
    });
    expect(rows(loaded.warnings)).toContainEqual([
      9,
      'AuthOrder',
      "mod_auth_unix.c not used: ftpx's proxy authentication reads AuthUserFile/AuthGroupFile (mod_auth_file), its store's proxy users and the identity hook",
    ]);
  });

  it('refuses a %g list outside PerGroup at its line', () => {
    const issues = configIssues(() =>
      parse(lines(...REVERSE, 'ProxyReverseServers ftp://a file:/etc/ftpx/%g.json')),
    );
    expect(issues.map(formatIssue)).toEqual([
      `${FILE}:4: ProxyReverseServers: "file:/etc/ftpx/%g.json": a per-group list (%g) needs connectPolicy PerGroup (the backend is then chosen after proxy authentication), not RoundRobin (ftpx setting pools[0].backends[1])`,
    ]);
  });
});

describe('proftpd.conf: classes and addresses', () => {
  it('masks host bits in From like ProFTPD, with a warning naming file and line', () => {
    const loaded = parse(
      lines(
        '<Class forward-proxy>', // 1
        '  From 1.2.3.4/12 10.0.0.0/8', // 2
        '  ProxyForwardEnabled on', // 3
        '</Class>', // 4
        ...REVERSE, // 5-7
        'ProxyReverseServers ftp://a', // 8
      ),
    );
    expect(loaded.config.classes).toEqual([
      { name: 'forward-proxy', from: ['1.0.0.0/12', '10.0.0.0/8'], forwardEnabled: true },
    ]);
    expect(loaded.warnings.map(formatIssue)).toContain(
      `${FILE}:2: From: "1.2.3.4/12" has host bits set: read as 1.0.0.0/12, as ProFTPD does`,
    );
  });

  it('takes AllowForeignAddress <class> as that class networks', () => {
    const loaded = parse(
      lines(
        '<Class nat>',
        '  From 192.0.2.0/24 2001:db8::/32',
        '</Class>',
        ...REVERSE,
        'ProxyReverseServers ftp://a',
        'AllowForeignAddress nat',
      ),
    );
    expect(loaded.config.listeners[0]?.allowForeignAddress).toEqual(['192.0.2.0/24', '2001:db8::/32']);
    const issues = configIssues(() =>
      parse(lines(...REVERSE, 'ProxyReverseServers ftp://a', 'AllowForeignAddress nat')),
    );
    expect(rows(issues)).toEqual([
      [5, 'AllowForeignAddress', '"nat" is neither on/off nor a <Class> defined in this file'],
    ]);
  });
});

describe('proftpd.conf: mod_ifsession sections choose pools', () => {
  it('reads the FAQ "PerHost with different pools per class" as pools and listener poolRules', () => {
    const loaded = parse(
      lines(
        '<Class proxied-clients>', // 1
        '  From 127.0.0.2', // 2
        '</Class>', // 3
        ...REVERSE, // 4-6
        'ProxyRole reverse', // 7
        'ProxyReverseConnectPolicy PerHost', // 8
        '<IfClass proxied-clients>', // 9
        '  ProxyReverseServers ftp://127.0.0.1:2121 ftp://127.0.0.1:2122', // 10
        '</IfClass>', // 11
        '<IfClass !proxied-clients>', // 12
        '  ProxyReverseServers ftp://127.0.0.1:2131', // 13
        '</IfClass>', // 14
      ),
    );
    expect(loaded.config.pools.map((pool) => [pool.name, pool.connectPolicy, pool.backends])).toEqual([
      ['main', 'PerHost', ['ftp://127.0.0.1:2131']],
      ['main <IfClass proxied-clients>', 'PerHost', ['ftp://127.0.0.1:2121', 'ftp://127.0.0.1:2122']],
    ]);
    expect(loaded.config.listeners[0]).toMatchObject({
      pool: 'main',
      poolRules: [
        { pool: 'main', class: '!proxied-clients' },
        { pool: 'main <IfClass proxied-clients>', class: 'proxied-clients' },
      ],
    });
  });

  it('reads <IfUser> and <IfGroup> around the pool directives, later sections first', () => {
    const loaded = parse(
      lines(
        ...REVERSE, // 1-3
        'ProxyOptions UseReverseProxyAuth', // 4
        'ProxyReverseServers ftp://10.0.0.1', // 5
        '<IfUser alice bob>', // 6
        '  ProxyReverseServers ftp://10.0.0.2', // 7
        '  ProxyReverseConnectPolicy Random', // 8
        '</IfUser>', // 9
        '<IfGroup admins>', // 10
        '  ProxyReverseServers ftp://10.0.0.3', // 11
        '</IfGroup>', // 12
      ),
    );
    expect(
      loaded.config.pools.map((pool) => [pool.name, pool.connectPolicy, pool.proxyAuth, pool.backends]),
    ).toEqual([
      ['main', 'RoundRobin', true, ['ftp://10.0.0.1']],
      ['main <IfGroup admins>', 'RoundRobin', true, ['ftp://10.0.0.3']],
      ['main <IfUser alice bob>', 'Random', true, ['ftp://10.0.0.2']],
    ]);
    expect(loaded.config.listeners[0]?.poolRules).toEqual([
      { pool: 'main <IfGroup admins>', groups: ['admins'] },
      { pool: 'main <IfUser alice bob>', users: ['alice', 'bob'] },
    ]);
  });

  it('refuses what it would not apply inside the sections, and sections without a pool for the rest', () => {
    const issues = configIssues(() =>
      parse(
        lines(
          ...REVERSE, // 1-3
          '<IfUser alice>', // 4
          '  ProxyReverseServers ftp://10.0.0.2', // 5
          '  MaxClients 3', // 6
          '</IfUser>', // 7
          '<IfUser regex ^a>', // 8
          '</IfUser>', // 9
        ),
      ),
    );
    expect(rows(issues)).toEqual([
      [
        1,
        'the main server',
        'ProxyReverseServers is required outside <IfClass>/<IfUser>/<IfGroup> too, for the sessions no section matches (or give them an <IfClass !name> section)',
      ],
      [
        6,
        'MaxClients',
        'inside <IfUser> ftpx applies only the directives that choose and reach backends (7 of them: ProxyReverseServers, ProxyReverseConnectPolicy, ProxyRetryCount, ProxyTimeoutConnect, ProxyDataTransferPolicy, ProxySourceAddress, ProxyTimeoutLinger)',
      ],
      [8, '<IfUser>', 'AND, OR and regex forms are not supported by ftpx: list names (any of them matches)'],
    ]);
  });

  it('checks YAML poolRules against the pools and classes', () => {
    const issues = configIssues(() =>
      parseYamlConfig(
        'ftpx.yaml',
        lines(
          'listeners:', // 1
          '  - port: 2121', // 2
          '    pool: main', // 3
          '    poolRules:', // 4
          '      - { pool: other, class: "!office" }', // 5
          '      - { pool: main }', // 6
          'pools:', // 7
          '  - name: main', // 8
          '    backends: [ftp://127.0.0.1:21]', // 9
        ),
      ),
    );
    expect(issues.map(formatIssue)).toEqual([
      'ftpx.yaml:5: listeners[0].poolRules[0].pool: no pool named "other"',
      'ftpx.yaml:5: listeners[0].poolRules[0].class: no class named "office" (classes: none)',
      'ftpx.yaml:6: listeners[0].poolRules[1]: a rule needs at least one condition: class, from, users or groups',
    ]);
  });
});

describe('proftpd.conf: values ProFTPD takes that ftpx refused', () => {
  it('takes ProxyTLSProtocol ALL -SSLv3 and SSLv3 TLSv1 as printed in the mod_proxy docs', () => {
    expect(parseTlsProtocols('ALL -SSLv3')).toEqual({
      ok: true,
      versions: ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'],
    });
    expect(parseTlsProtocols('SSLv3 TLSv1')).toEqual({
      ok: true,
      versions: ['TLSv1'],
      notes: ['SSLv3 left out: OpenSSL 3 has no SSLv3'],
    });
    expect(parseTlsProtocols('SSLv3')).toMatchObject({ ok: false });
    expect(parseTlsProtocols('ALL +SSLv3')).toMatchObject({ ok: false });
    const loaded = parse(
      lines(
        'ProxyEngine on',
        'ProxyTLSEngine on',
        'ProxyTLSProtocol SSLv3 TLSv1',
        'ProxyReverseServers ftp://a',
      ),
    );
    expect(loaded.config.pools[0]?.tls.protocols).toEqual(['TLSv1']);
    expect(rows(loaded.warnings)).toContainEqual([
      3,
      'ProxyTLSProtocol',
      'SSLv3 left out: OpenSSL 3 has no SSLv3',
    ]);
  });

  it('takes ProxyDatastore Redis <prefix> with the same note as SQLite', () => {
    const loaded = parse(lines(...REVERSE, 'ProxyReverseServers ftp://a', 'ProxyDatastore Redis 1.2.3.4.'));
    expect(rows(loaded.warnings)).toContainEqual([
      5,
      'ProxyDatastore',
      'ignored: ftpx keeps its state in its own store (see ProxyTables)',
    ]);
  });

  it('warns about a &size= too small for one entry and uses the default, as mod_tls_shmcache does', () => {
    const loaded = parse(
      lines(
        ...REVERSE,
        'ProxyReverseServers ftp://a',
        'TLSSessionCache shm:/file=/var/ftpd/sess_cache&size=1024 600',
        'TLSStaplingCache shm:/file=/var/ftpd/ocsp_cache&size=512000',
      ),
    );
    expect(loaded.config.tlsCache?.sessions.size).toBeUndefined();
    expect(loaded.config.tlsCache?.stapling.size).toBe(512_000);
    expect(rows(loaded.warnings)).toContainEqual([
      5,
      'TLSSessionCache',
      'size 1024 cannot hold one cached session (10288 bytes): ignored, the default size (1.5 MB) is used, as mod_tls_shmcache does',
    ]);
  });
});

describe('proftpd.conf: <Limit> group and class rules', () => {
  it('maps DenyGroup (with proxy authentication, as the FAQ says) and AllowClass/DenyClass', () => {
    const loaded = parse(
      lines(
        '<Class partners>',
        '  From 192.0.2.0/24',
        '</Class>',
        ...REVERSE,
        'ProxyOptions UseReverseProxyAuth',
        'ProxyReverseServers ftp://a',
        '<Limit LIST>',
        '  DenyGroup somegroup',
        '</Limit>',
        '<Limit WRITE>',
        '  AllowClass partners',
        '  DenyAll',
        '</Limit>',
      ),
    );
    expect(loaded.config.listeners[0]?.limits.slice(0, 1)).toEqual([
      {
        commands: ['LIST'],
        denyGroups: ['somegroup'],
        allowUsers: [],
        denyUsers: [],
        allowFrom: [],
        denyFrom: [],
        order: 'allow,deny',
      },
    ]);
  });

  it('loads group rules without proxy authentication as mod_proxy does: they match no one, with a warning', () => {
    const loaded = parse(
      lines(
        ...REVERSE,
        'ProxyReverseServers ftp://a',
        '<Limit LIST>',
        '  DenyGroup somegroup',
        '</Limit>',
        '<Limit RETR>',
        '  DenyGroup somegroup',
        '  DenyUser bob',
        '</Limit>',
      ),
    );
    // The LIST rule had nothing else and goes; the RETR rule keeps its user part.
    expect(loaded.config.listeners[0]?.limits).toEqual([
      {
        commands: ['RETR'],
        allowUsers: [],
        denyUsers: ['bob'],
        allowFrom: [],
        denyFrom: [],
        order: 'allow,deny',
      },
    ]);
    const warning =
      'AllowGroup/DenyGroup without ProxyOptions UseReverseProxyAuth match no one (the groups are known only after proxy authentication, as in mod_proxy): ignored';
    expect(rows(loaded.warnings)).toEqual(
      expect.arrayContaining([
        [5, '<Limit>', warning],
        [8, '<Limit>', warning],
      ]),
    );
  });
});

describe('proftpd.conf: PROXY headers to SSH backends', () => {
  it('applies UseProxyProtocolV1/V2 to a pool of sftp:// backends (sent before SSH), never ignores it', () => {
    const loaded = parse(
      lines(
        'ProxyEngine on', // 1
        'ProxyTables /var/ftp/proxy', // 2
        'SFTPEngine on', // 3
        'SFTPHostKey /etc/ssh/ssh_host_ed25519_key', // 4
        'ProxyReverseServers sftp://127.0.0.1:2222', // 5
        'ProxyOptions UseProxyProtocolV2', // 6
      ),
    );
    expect(loaded.config.pools[0]?.sendProxyProtocol).toBe('v2');
    expect(loaded.config.listeners[0]?.protocol).toBe('sftp');
  });
});

describe('proftpd.conf: ProxyLog none', () => {
  it('turns the log off (log.file: false), in YAML too', () => {
    const loaded = parse(lines(...REVERSE, 'ProxyReverseServers ftp://a', 'ProxyLog none'));
    expect(loaded.config.log.file).toBe(false);
    const yaml = parseYamlConfig(
      '/etc/ftpx/ftpx.yaml',
      lines(
        'log: { file: false }',
        'listeners: [{ port: 2121, pool: main }]',
        'pools: [{ name: main, backends: [ftp://a] }]',
      ),
    );
    expect(yaml.config.log.file).toBe(false);
  });
});

describe('proftpd.conf: TLSSessionCache off', () => {
  it('turns the shared cache off and, as mod_tls documents, NoSessionReuseRequired on', () => {
    const tls = [
      'TLSEngine on',
      'TLSRSACertificateFile /etc/ftpd/server.pem',
      'TLSRSACertificateKeyFile /etc/ftpd/server.key',
    ];
    const off = parse(lines(...REVERSE, 'ProxyReverseServers ftp://a', ...tls, 'TLSSessionCache off'));
    expect(off.config.tlsCache?.sessions).toMatchObject({ enabled: false, workerCache: false });
    expect(off.config.listeners[0]?.tls?.sessionReuseRequired).toBe(false);
    const shm = parse(
      lines(...REVERSE, 'ProxyReverseServers ftp://a', ...tls, 'TLSSessionCache shm:/file=/var/ftpd/sess'),
    );
    expect(shm.config.listeners[0]?.tls?.sessionReuseRequired).toBe(true);
  });
});

describe('proftpd.conf: TransferRate conditions', () => {
  it('reads user, group and class conditions, the conditional lines first', () => {
    const loaded = parse(
      lines(
        '<Class slow>',
        '  From 192.0.2.0/24',
        '</Class>',
        ...REVERSE,
        'ProxyOptions UseReverseProxyAuth',
        'ProxyReverseServers ftp://a',
        'TransferRate RETR 100',
        'TransferRate RETR,STOR 5:1024 user alice,bob',
        'TransferRate RETR 10 group guests',
        'TransferRate RETR 20 class slow',
      ),
    );
    expect(loaded.config.listeners[0]?.transferRate).toEqual([
      { commands: ['RETR', 'STOR'], kibPerSecond: 5, freeBytes: 1024, users: ['alice', 'bob'] },
      { commands: ['RETR'], kibPerSecond: 10, freeBytes: 0, groups: ['guests'] },
      { commands: ['RETR'], kibPerSecond: 20, freeBytes: 0, classes: ['slow'] },
      { commands: ['RETR'], kibPerSecond: 100, freeBytes: 0 },
    ]);
    const issues = configIssues(() =>
      parse(
        lines(
          ...REVERSE,
          'ProxyReverseServers ftp://a',
          'TransferRate RETR 10 group guests',
          'TransferRate RETR 10 user regex ^a',
        ),
      ),
    );
    expect(rows(issues)).toEqual([
      [
        6,
        'TransferRate',
        'expected "user|group|class name[,name...]" after the rate, got "user regex ^a" (AND, OR, regex and !name are not supported by ftpx)',
      ],
    ]);
    const needsAuth = configIssues(() =>
      parse(lines(...REVERSE, 'ProxyReverseServers ftp://a', 'TransferRate RETR 10 group guests')),
    );
    expect(needsAuth.map((issue) => issue.message)[0]).toMatch(/^group conditions need proxy authentication/);
  });
});

describe('proftpd.conf: pool sections on an SSH listener', () => {
  it('are refused at load rather than ignored', () => {
    const issues = configIssues(() =>
      parse(
        lines(
          'ProxyEngine on', // 1
          'ProxyTables /var/ftp/proxy', // 2
          'SFTPEngine on', // 3
          'SFTPHostKey /etc/ssh/ssh_host_ed25519_key', // 4
          'ProxyReverseServers sftp://127.0.0.1:2222', // 5
          '<IfUser alice>', // 6
          '  ProxyReverseServers sftp://127.0.0.1:2223', // 7
          '</IfUser>', // 8
        ),
      ),
    );
    expect(issues.map((issue) => issue.message)).toEqual([
      'pool rules (<IfClass>, <IfUser>, <IfGroup>) are applied to FTP listeners only, not to SFTP ones yet (ftpx setting listeners[0].poolRules)',
    ]);
  });
});
