import { describe, expect, it } from 'vitest';
import { type ConfigError, formatIssue } from '../../../../edge-worker/config/config-error.js';
import { parseYamlConfig } from '../../../../edge-worker/config/load-yaml.js';
import { backendTlsSchema } from '../../../../edge-worker/config/tls-schema.js';
import { configIssues, lines } from './helpers.js';

const VALID = lines(
  'dataDir: /var/lib/ftpx', // 1
  'log:', // 2
  '  level: debug', // 3
  '  file: logs/ftpx.log', // 4
  'listeners:', // 5
  '  - name: public', // 6
  '    port: 2100', // 7
  '    pool: backends', // 8
  '    dataConnectTimeout: 10s', // 9
  'pools:', // 10
  '  - name: backends', // 11
  '    backends:', // 12
  '      - ftp://127.0.0.1:2121', // 13
  '      - ftp://user@127.0.0.1:2122', // 14
  '    retryCount: 3', // 15
  '    connectTimeout: 1500ms', // 16
);

describe('parseYamlConfig: valid files', () => {
  it('parses, applies defaults and resolves relative paths against the file directory', () => {
    const loaded = parseYamlConfig('/etc/ftpx/ftpx.yaml', VALID);
    expect(loaded.source).toEqual({ kind: 'yaml', file: '/etc/ftpx/ftpx.yaml' });
    expect(loaded.warnings).toEqual([]);
    expect(loaded.config).toEqual({
      dataDir: '/var/lib/ftpx',
      log: { level: 'debug', file: '/etc/ftpx/logs/ftpx.log' },
      store: { endpoint: 'embedded', region: 'us-east-1', table: 'ftpx' },
      listeners: [
        {
          name: 'public',
          address: '0.0.0.0',
          port: 2100,
          pool: 'backends',
          maxCommandLength: 4096,
          dataConnectTimeout: 10_000,
          allowForeignAddress: false,
          timeouts: { login: 60_000, idle: 600_000, noTransfer: 300_000, stalled: 3_600_000 },
          maxLoginAttempts: 3,
          connections: { maxUnauthenticated: 1024, maxUnauthenticatedPerHost: 32 },
          transferRate: [],
          limits: [],
          hostPools: [],
        },
      ],
      pools: [
        {
          name: 'backends',
          role: 'reverse',
          connectPolicy: 'RoundRobin',
          proxyAuth: false,
          backends: ['ftp://127.0.0.1:2121', 'ftp://user@127.0.0.1:2122'],
          retryCount: 3,
          connectTimeout: 1500,
          tls: backendTlsSchema.parse({}),
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
        },
      ],
    });
  });

  it('resolves the default dataDir against the config file directory', () => {
    const loaded = parseYamlConfig(
      '/srv/conf/ftpx.yaml',
      lines('listeners: [{ port: 21, pool: p }]', 'pools: [{ name: p, backends: ["ftp://b:21"] }]'),
    );
    expect(loaded.config.dataDir).toBe('/srv/conf/data');
    expect(loaded.config.log).toEqual({ level: 'info' });
  });
});

describe('parseYamlConfig: errors', () => {
  it('reports YAML syntax errors with their line', () => {
    const issues = configIssues(() =>
      parseYamlConfig('ftpx.yaml', lines('listeners:', '  - port: 21', '    pool: [a, b', 'pools: []')),
    );
    expect(issues.length).toBeGreaterThan(0);
    expect(issues[0]).toMatchObject({ file: 'ftpx.yaml', line: 4 });
    expect(issues[0]?.message).toMatch(/^YAML syntax error/);
  });

  it('reports a duplicated key as a syntax error on its line', () => {
    const issues = configIssues(() =>
      parseYamlConfig('ftpx.yaml', lines('listeners: []', 'pools: []', 'listeners: []')),
    );
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ file: 'ftpx.yaml', line: 3 });
  });

  it('reports a wrong type at the line of the key, with the key path', () => {
    const text = VALID.replace('    port: 2100', '    port: "2100"');
    const issues = configIssues(() => parseYamlConfig('ftpx.yaml', text));
    expect(issues).toEqual([
      {
        file: 'ftpx.yaml',
        line: 7,
        key: 'listeners[0].port',
        message: 'Invalid input: expected number, received string',
      },
    ]);
    expect(formatIssue(issues[0] ?? { file: '', message: '' })).toBe(
      'ftpx.yaml:7: listeners[0].port: Invalid input: expected number, received string',
    );
  });

  it('reports each unknown key on its own line, with a suggestion for near typos', () => {
    const text = VALID.replace('    retryCount: 3', '    retryCont: 3\n    colour: blue').replace(
      'dataDir:',
      'datadir:',
    );
    const issues = configIssues(() => parseYamlConfig('ftpx.yaml', text));
    expect(issues).toEqual([
      {
        file: 'ftpx.yaml',
        line: 1,
        key: 'datadir',
        message: 'unknown key "datadir" (did you mean "dataDir"?)',
      },
      {
        file: 'ftpx.yaml',
        line: 15,
        key: 'pools[0].retryCont',
        message: 'unknown key "retryCont" (did you mean "retryCount"?)',
      },
      {
        file: 'ftpx.yaml',
        line: 16,
        key: 'pools[0].colour',
        message: expect.stringMatching(
          /^unknown key "colour" \(known keys: name, role, connectPolicy, proxyAuth, authUserFile, authGroupFile, backends,/,
        ),
      },
    ]);
  });

  it('reports a bad backend URL at its own line, with the password redacted', () => {
    const text = VALID.replace('ftp://user@127.0.0.1:2122', 'http://user:secret@127.0.0.1:2122');
    const issues = configIssues(() => parseYamlConfig('ftpx.yaml', text));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ file: 'ftpx.yaml', line: 14, key: 'pools[0].backends[1]' });
    expect(issues[0]?.message).toContain('http://user:***@127.0.0.1:2122');
    expect(issues[0]?.message).not.toContain('secret');
  });

  it('reports missing listeners and pools at the line of the parent map', () => {
    const issues = configIssues(() => parseYamlConfig('ftpx.yaml', lines('# a comment', 'dataDir: /data')));
    expect(issues).toEqual([
      { file: 'ftpx.yaml', line: 2, key: 'listeners', message: 'missing required key (expected array)' },
      { file: 'ftpx.yaml', line: 2, key: 'pools', message: 'missing required key (expected array)' },
    ]);
  });

  it('reports a missing key inside a list item at the item line', () => {
    const text = VALID.replace('    port: 2100\n', '');
    const issues = configIssues(() => parseYamlConfig('ftpx.yaml', text));
    expect(issues).toEqual([
      {
        file: 'ftpx.yaml',
        line: 6,
        key: 'listeners[0].port',
        message: 'missing required key (expected number)',
      },
    ]);
  });

  it('reports empty listeners and pools lists at their keys', () => {
    const issues = configIssues(() => parseYamlConfig('ftpx.yaml', lines('listeners: []', 'pools:', '  []')));
    expect(issues).toEqual([
      { file: 'ftpx.yaml', line: 1, key: 'listeners', message: 'at least one listener is needed' },
      { file: 'ftpx.yaml', line: 2, key: 'pools', message: 'at least one pool is needed' },
    ]);
  });

  it('reports a listener naming an unknown pool at its pool key', () => {
    const text = VALID.replace('    pool: backends', '    pool: backend');
    const issues = configIssues(() => parseYamlConfig('ftpx.yaml', text));
    expect(issues).toEqual([
      {
        file: 'ftpx.yaml',
        line: 8,
        key: 'listeners[0].pool',
        message: 'no pool named "backend" (known: backends)',
      },
    ]);
  });

  it('reports every problem at once, in file order', () => {
    const text = lines(
      'listeners:', // 1
      '  - port: 70000', // 2
      '    pool: nowhere', // 3
      '    extra: 1', // 4
      'pools:', // 5
      '  - name: p', // 6
      '    backends: []', // 7
      '    connectTimeout: soon', // 8
      '    retryCount: true', // 9
      'store:', // 10
      '  table: x', // 11
    );
    const issues = configIssues(() => parseYamlConfig('ftpx.yaml', text));
    expect(issues.map((issue) => [issue.line, issue.key])).toEqual([
      [2, 'listeners[0].port'],
      [4, 'listeners[0].extra'],
      [7, 'pools[0].backends'],
      [8, 'pools[0].connectTimeout'],
      [9, 'pools[0].retryCount'],
      [11, 'store.table'],
    ]);
    const error = (() => {
      try {
        parseYamlConfig('ftpx.yaml', text);
      } catch (caught) {
        return caught as ConfigError;
      }
    })();
    expect(error?.message.split('\n')).toHaveLength(6);
    expect(error?.message.split('\n')[0]).toMatch(/^ftpx\.yaml:2: listeners\[0\]\.port: /);
  });

  it('explains a value of the wrong kind for a duration', () => {
    const text = VALID.replace('    connectTimeout: 1500ms', '    connectTimeout: true');
    const issues = configIssues(() => parseYamlConfig('ftpx.yaml', text));
    expect(issues).toEqual([
      {
        file: 'ftpx.yaml',
        line: 16,
        key: 'pools[0].connectTimeout',
        message: 'Invalid input: expected string or number, received boolean',
      },
    ]);
  });

  it('reports an empty file and a file that is not a mapping', () => {
    expect(configIssues(() => parseYamlConfig('ftpx.yaml', '# nothing\n'))).toEqual([
      { file: 'ftpx.yaml', message: 'the file is empty: expected a mapping with "listeners" and "pools"' },
    ]);
    const issues = configIssues(() => parseYamlConfig('ftpx.yaml', '\n- a\n- b\n'));
    expect(issues).toEqual([
      { file: 'ftpx.yaml', line: 2, message: 'Invalid input: expected object, received array' },
    ]);
  });
});
