import { describe, expect, it } from 'vitest';
import { formatIssue } from '../../../../edge-worker/config/config-error.js';
import { loadConfig } from '../../../../edge-worker/config/load.js';
import { parseYamlConfig } from '../../../../edge-worker/config/load-yaml.js';
import { parseProftpdConfig } from '../../../../edge-worker/config/proftpd-conf.js';
import { configIssues, lines } from './helpers.js';

const FILE = '/etc/proftpd/proftpd.conf';
const parse = (text: string) => parseProftpdConfig(FILE, text);

describe('forward proxy configuration from proftpd.conf', () => {
  // mod_proxy.html's "Forward Proxy Configuration", with a class for local clients.
  const EXAMPLE = lines(
    '<Class forward-proxy>', // 1
    '  From 127.0.0.1, ::1', // 2
    '  From 192.168.0.0/16 10.0.0.0/8', // 3
    '  ProxyForwardEnabled on', // 4
    '</Class>', // 5
    '<Class blocked>', // 6
    '  From 192.168.66.0/24', // 7
    '  ProxyForwardEnabled off', // 8
    '</Class>', // 9
    '<IfModule mod_proxy.c>', // 10
    '  ProxyEngine on', // 11
    '  ProxyTables /var/ftp/proxy', // 12
    '  ProxyTLSEngine off', // 13
    '  ProxyRole forward', // 14
    '  ProxyForwardMethod user@host', // 15
    '  ProxyForwardTo !^internal\\. [NC]', // 16
    '  ProxyRetryCount 2', // 17
    '</IfModule>', // 18
  );

  it('becomes a forward pool with its method and ProxyForwardTo, and the classes', () => {
    const loaded = parse(EXAMPLE);
    expect(loaded.warnings).toEqual([]);
    expect(loaded.config.pools).toEqual([
      expect.objectContaining({
        name: 'main',
        role: 'forward',
        backends: [],
        retryCount: 2,
        forward: { method: 'user@host', to: { pattern: '^internal\\.', negate: true, ignoreCase: true } },
      }),
    ]);
    expect(loaded.config.classes).toEqual([
      {
        name: 'forward-proxy',
        from: ['127.0.0.1', '::1', '192.168.0.0/16', '10.0.0.0/8'],
        forwardEnabled: true,
      },
      { name: 'blocked', from: ['192.168.66.0/24'], forwardEnabled: false },
    ]);
  });

  it('defaults the method to proxyuser,user@host (mod_proxy code default)', () => {
    const loaded = parse(lines('ProxyEngine on', 'ProxyTLSEngine off', 'ProxyRole forward'));
    expect(loaded.config.pools[0]?.forward).toEqual({ method: 'proxyuser,user@host' });
    expect(loaded.config.pools[0]?.role).toBe('forward');
    const yaml = parseYamlConfig(
      'ftpx.yaml',
      lines(
        'listeners:',
        '  - port: 2121',
        '    pool: fwd',
        'pools:',
        '  - name: fwd',
        '    role: forward',
        '    forward: {}',
      ),
    );
    expect(yaml.config.pools[0]?.forward).toEqual({ method: 'proxyuser,user@host' });
  });

  it('reports bad forward directives and class contents with their lines', () => {
    const issues = configIssues(() =>
      parse(
        lines(
          '<Class a>', // 1
          '  From *.example.com', // 2
          '  From !10.0.0.0/8', // 3
          '  From 10.0.0.1/8', // 4
          '  ProxyForwardEnabled maybe', // 5
          '  Satisfy all', // 6
          '  MaxClients 3', // 7
          '</Class>', // 8
          '<Class a>', // 9
          '  From 10.0.0.0/8', // 10
          '</Class>', // 11
          'ProxyEngine on', // 12
          'ProxyTLSEngine off', // 13
          'ProxyRole forward', // 14
          'ProxyForwardMethod socks', // 15
          'ProxyForwardTo (unclosed', // 16
          'ProxyForwardEnabled on', // 17
          '<VirtualHost 127.0.0.1>', // 18
          '  <Class inner>', // 19
          '  </Class>', // 20
          '</VirtualHost>', // 21
        ),
      ),
    );
    expect(issues.map(formatIssue)).toEqual([
      `${FILE}:2: From: "*.example.com": host names and patterns are not supported by ftpx (use addresses or CIDR networks)`,
      `${FILE}:3: From: "!10.0.0.0/8": negated entries are not supported by ftpx`,
      `${FILE}:5: ProxyForwardEnabled: expected on or off, got "maybe"`,
      `${FILE}:6: Satisfy: is not supported by ftpx: a client belongs to the first class with a matching From`,
      `${FILE}:7: MaxClients: is not supported inside <Class> by ftpx (From, ProxyForwardEnabled)`,
      `${FILE}:9: <Class>: class "a" is defined twice (first at ${FILE}:1)`,
      `${FILE}:15: ProxyForwardMethod: expected one of user@host, proxyuser,user@host, proxyuser@host,user, user@sni, got "socks"`,
      `${FILE}:16: ProxyForwardTo: "(unclosed" is not a valid regular expression: Invalid regular expression: /(unclosed/: Unterminated group`,
      `${FILE}:17: ProxyForwardEnabled: is allowed only inside <Class>`,
      `${FILE}:19: <Class>: is allowed only at the top level, not inside <VirtualHost 127.0.0.1>`,
    ]);
  });

  it('warns that forward directives in a reverse server and backends in a forward one are ignored', () => {
    const loaded = parse(
      lines(
        'ProxyTables /var/ftp/proxy', // 1
        '<Global>', // 2
        '  ProxyEngine on', // 3
        '  ProxyTLSEngine off', // 4
        '  ProxyReverseServers ftp://127.0.0.1:2121', // 5
        '</Global>', // 6
        'ProxyForwardMethod user@host', // 7
        '<VirtualHost 127.0.0.1>', // 8
        '  Port 2100', // 9
        '  ProxyRole forward', // 10
        '</VirtualHost>', // 11
      ),
    );
    expect(loaded.warnings.map(formatIssue)).toEqual([
      `${FILE}:5: ProxyReverseServers: ignored for <VirtualHost 127.0.0.1>: it applies to ProxyRole reverse only`,
      `${FILE}:7: ProxyForwardMethod: ignored for the main server: applies to ProxyRole forward only`,
    ]);
    expect(loaded.config.pools.map((pool) => [pool.role, pool.backends.length])).toEqual([
      ['reverse', 1],
      ['forward', 0],
    ]);
  });
});

describe('forward proxy configuration in YAML', () => {
  const base = (pool: string[], extra: string[] = []) =>
    lines('listeners:', '  - port: 2121', '    pool: fwd', 'pools:', '  - name: fwd', ...pool, ...extra);

  it('reads classes and the forward block', () => {
    const loaded = parseYamlConfig(
      'ftpx.yaml',
      base(
        [
          '    role: forward',
          '    forward:',
          '      method: user@host',
          '      to: { pattern: "^ftp\\\\.", ignoreCase: true }',
        ],
        ['classes:', '  - name: office', '    from: [192.0.2.0/24]', '    forwardEnabled: true'],
      ),
    );
    expect(loaded.config.pools[0]?.forward).toEqual({
      method: 'user@host',
      to: { pattern: '^ftp\\.', negate: false, ignoreCase: true },
    });
    expect(loaded.config.classes).toEqual([{ name: 'office', from: ['192.0.2.0/24'], forwardEnabled: true }]);
  });

  it('refuses keys that make no sense for the role, with their lines', () => {
    // Field errors first: the checks across keys run once every key is valid (zod's order).
    const fields = configIssues(() =>
      parseYamlConfig(
        'ftpx.yaml',
        base(
          [
            '    role: forward', // 6
            '    forward:', // 7
            '      method: socks', // 8
            '      to: { pattern: "(" }', // 9
          ],
          ['classes:', '  - name: x', '    from: [10.0.0.1/8]'], // 10-12
        ),
      ),
    );
    expect(fields.map((issue) => [issue.line, issue.key])).toEqual([
      [8, 'pools[0].forward.method'],
      [9, 'pools[0].forward.to.pattern'],
      [12, 'classes[0].from[0]'],
    ]);
    const issues = configIssues(() =>
      parseYamlConfig(
        'ftpx.yaml',
        base(
          [
            '    role: forward', // 6
            '    backends: [ftp://127.0.0.1:21]', // 7
            '    proxyAuth: true', // 8
            '    directoryListPolicy: LIST', // 9: both roles translate listings
          ],
          ['classes:', '  - name: x', '    from: [10.0.0.0/8]', '  - name: x', '    from: [10.0.0.0/8]'], // 10-14
        ),
      ),
    );
    expect(issues.map((issue) => [issue.line, issue.key, issue.message])).toEqual([
      [7, 'pools[0].backends', 'a forward pool has no backends: each client names its destination'],
      [8, 'pools[0].proxyAuth', expect.stringContaining('forward.method chooses proxy authentication')],
      [13, 'classes[1].name', 'class "x" is defined twice'],
    ]);
    const reverse = configIssues(() =>
      parseYamlConfig('ftpx.yaml', base(['    backends: []', '    forward: { method: user@host }'])),
    );
    expect(reverse.map((issue) => [issue.line, issue.key, issue.message])).toEqual([
      [6, 'pools[0].backends', 'a reverse pool needs at least one backend URL'],
      [7, 'pools[0].forward', 'applies to role forward only'],
    ]);
  });
});

describe('forward proxy examples', () => {
  it('examples/forward.yaml and examples/proftpd-forward.conf describe the same forward pool', () => {
    const root = new URL('../../../../examples/', import.meta.url).pathname;
    const yaml = loadConfig({ kind: 'yaml', file: `${root}forward.yaml` });
    const conf = loadConfig({ kind: 'proftpd', file: `${root}proftpd-forward.conf` });
    for (const loaded of [yaml, conf]) {
      expect(loaded.warnings).toEqual([]);
      expect(loaded.config.classes).toEqual([
        { name: 'local', from: ['127.0.0.0/8', '::1'], forwardEnabled: true },
      ]);
      expect(loaded.config.pools[0]).toMatchObject({
        role: 'forward',
        forward: { method: 'user@host', to: { pattern: '^(127\\.0\\.0\\.1|\\[::1\\]|localhost):[0-9]+$' } },
        dataTransferPolicy: 'passive',
        retryCount: 2,
        tls: expect.objectContaining({ engine: 'off' }),
      });
      expect(loaded.config.listeners[0]).toMatchObject({ address: '127.0.0.1', port: 2121 });
    }
  });
});
