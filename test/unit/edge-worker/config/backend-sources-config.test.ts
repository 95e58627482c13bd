import { describe, expect, it } from 'vitest';
import { formatIssue } from '../../../../edge-worker/config/config-error.js';
import { parseYamlConfig } from '../../../../edge-worker/config/load-yaml.js';
import { parseProftpdConfig } from '../../../../edge-worker/config/proftpd-conf.js';
import { configIssues, lines } from './helpers.js';

const yaml = (...poolLines: string[]) =>
  lines('listeners:', '  - port: 2121', '    pool: main', 'pools:', '  - name: main', ...poolLines);

describe('backend sources in YAML', () => {
  it('accepts file: lists, %U lists under PerUser, +srv / +txt URLs and the new pool options', () => {
    const { config } = parseYamlConfig(
      'ftpx.yaml',
      yaml(
        '    connectPolicy: PerUser',
        '    perUserFallback: refuse',
        '    ignoreConfigPerms: true',
        '    backends:',
        '      - ftp://10.0.0.1',
        '      - file:/etc/ftpx/backends.json',
        '      - file:/etc/ftpx/users/%U.json',
        '      - ftp+srv://_ftp._tcp.example.com',
        '      - ftp+txt://backends.example.com',
      ),
    );
    expect(config.pools[0]).toMatchObject({
      perUserFallback: 'refuse',
      ignoreConfigPerms: true,
      backends: [
        'ftp://10.0.0.1',
        'file:/etc/ftpx/backends.json',
        'file:/etc/ftpx/users/%U.json',
        'ftp+srv://_ftp._tcp.example.com',
        'ftp+txt://backends.example.com',
      ],
    });
    expect(parseYamlConfig('ftpx.yaml', yaml('    backends: [ftp://a]')).config.pools[0]).toMatchObject({
      perUserFallback: 'global',
      ignoreConfigPerms: false,
    });
  });

  it('names file and line of a relative path, %g, sql: and sftp://', () => {
    const issues = configIssues(() =>
      parseYamlConfig(
        'ftpx.yaml',
        yaml(
          '    backends:', // 6
          '      - file:backends.json', // 7
          '      - file:/etc/ftpx/groups/%g.json', // 8
          '      - sql:/GetBackends', // 9
          '      - ftp://u:secret@h', // 10
          '      - sftp://h', // 11
        ),
      ),
    );
    expect(issues.map(formatIssue)).toEqual([
      'ftpx.yaml:3: listeners[0].pool: pool "main" has sftp:// backends, which need a protocol: sftp listener (SFTPEngine on)',
      'ftpx.yaml:7: pools[0].backends[0]: "file:backends.json": the path of a file: backend list must be absolute, got "backends.json"',
      'ftpx.yaml:8: pools[0].backends[1]: "file:/etc/ftpx/groups/%g.json": a per-group list (%g) needs connectPolicy PerGroup (the backend is then chosen after proxy authentication), not RoundRobin',
      'ftpx.yaml:9: pools[0].backends[2]: "sql:/GetBackends": backend lists from SQL queries (sql:) are not supported by ftpx yet: register per-user backends through the registry API instead (/v1/pools/{pool}/users/{user}/backends)',
      'ftpx.yaml:10: pools[0].backends[3]: a password in a backend URL needs proxy authentication (proxyAuth: true, ProxyOptions UseReverseProxyAuth): without it every client would be logged in with that password, whatever it typed',
    ]);
  });

  it('refuses %U lists and perUserFallback outside PerUser, at their lines', () => {
    const issues = configIssues(() =>
      parseYamlConfig(
        'ftpx.yaml',
        yaml(
          '    connectPolicy: RoundRobin', // 6
          '    perUserFallback: refuse', // 7
          '    backends:', // 8
          '      - ftp://a', // 9
          '      - file:/etc/ftpx/users/%U.json', // 10
        ),
      ),
    );
    expect(issues.map(formatIssue)).toEqual([
      'ftpx.yaml:7: pools[0].perUserFallback: applies to connectPolicy PerUser only, not RoundRobin',
      'ftpx.yaml:10: pools[0].backends[1]: "file:/etc/ftpx/users/%U.json": a per-user list (%U) needs connectPolicy PerUser (the backend is then chosen at USER), not RoundRobin',
    ]);
  });
});

describe('backend sources in proftpd.conf', () => {
  const FILE = '/etc/proftpd/proftpd.conf';

  it('maps file: lists, +srv URLs and ProxyOptions IgnoreConfigPerms', () => {
    const { config, warnings } = parseProftpdConfig(
      FILE,
      lines(
        'ProxyEngine on',
        'ProxyTables /var/ftp/proxy',
        'ProxyTLSEngine off',
        'ProxyReverseConnectPolicy PerUser',
        'ProxyOptions IgnoreConfigPerms',
        'ProxyReverseServers file:/etc/ftpx/backends.json ftp+srv://_ftp._tcp.example.com',
        'ProxyReverseServers file:/etc/ftpx/users/%U.json',
      ),
    );
    expect(warnings).toEqual([]);
    expect(config.pools[0]).toMatchObject({
      connectPolicy: 'PerUser',
      ignoreConfigPerms: true,
      perUserFallback: 'global',
      backends: [
        'file:/etc/ftpx/backends.json',
        'ftp+srv://_ftp._tcp.example.com',
        'file:/etc/ftpx/users/%U.json',
      ],
    });
  });

  it('names file and line of a relative path, a %g list without PerGroup, and a %U list without PerUser', () => {
    const issues = configIssues(() =>
      parseProftpdConfig(
        FILE,
        lines(
          'ProxyEngine on', // 1
          'ProxyTLSEngine off', // 2
          'ProxyReverseServers file:backends.json ftp://ok', // 3
        ),
      ),
    );
    expect(issues.map(formatIssue)).toEqual([
      `${FILE}:3: ProxyReverseServers: "file:backends.json": the path of a file: backend list must be absolute, got "backends.json"`,
    ]);
    const perGroup = configIssues(() =>
      parseProftpdConfig(
        FILE,
        lines(
          'ProxyEngine on', // 1
          'ProxyTLSEngine off', // 2
          'ProxyReverseServers ftp://ok', // 3
          'ProxyReverseServers file:/etc/ftpx/%g.json', // 4
        ),
      ),
    );
    expect(perGroup.map(formatIssue)).toEqual([
      `${FILE}:4: ProxyReverseServers: "file:/etc/ftpx/%g.json": a per-group list (%g) needs connectPolicy PerGroup (the backend is then chosen after proxy authentication), not RoundRobin (ftpx setting pools[0].backends[1])`,
    ]);
    const perUser = configIssues(() =>
      parseProftpdConfig(
        FILE,
        lines(
          'ProxyEngine on', // 1
          'ProxyTLSEngine off', // 2
          'ProxyReverseServers ftp://ok', // 3
          'ProxyReverseServers file:/etc/ftpx/users/%U.json', // 4
        ),
      ),
    );
    expect(perUser.map(formatIssue)).toEqual([
      `${FILE}:4: ProxyReverseServers: "file:/etc/ftpx/users/%U.json": a per-user list (%U) needs connectPolicy PerUser (the backend is then chosen at USER), not RoundRobin (ftpx setting pools[0].backends[1])`,
    ]);
  });
});
