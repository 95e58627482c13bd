import { describe, expect, it } from 'vitest';
import { parseProftpdConfig } from '../../../../edge-worker/config/proftpd-conf.js';
import { configIssues } from './helpers.js';

const FILE = '/etc/proftpd/proftpd.conf';
const parse = (text: string) => parseProftpdConfig(FILE, text).config;
const BASE = [
  'ProxyEngine on',
  'ProxyRole reverse',
  'ProxyTables /var/ftpx',
  'ProxyReverseServers ftp://192.0.2.10:21',
];

describe('parseProftpdConfig: connection limits and mod_ban', () => {
  it('maps the limits (with their message argument) to the listener and mod_ban to bans', () => {
    const config = parse(
      [
        ...BASE,
        'MaxClients 10 "Full (%m)"',
        'MaxClientsPerHost 3',
        'MaxClientsPerUser 2',
        'MaxConnectionsPerHost none',
        'MaxHostsPerUser 4',
        'MaxInstances 50',
        'BanEngine on',
        'BanMessage "Host %a is banned"',
        'BanOnEvent MaxLoginAttempts 2/00:10:00 01:00:00',
        'BanOnEvent ClientConnectRate 20/00:00:10 00:10:00 "Slow down"',
        'BanTable /var/data/ban.tab',
      ].join('\n'),
    );
    expect(config.listeners[0]?.connections).toEqual({
      maxClients: { max: 10, message: 'Full (%m)' },
      maxClientsPerHost: { max: 3 },
      maxClientsPerUser: { max: 2 },
      maxHostsPerUser: { max: 4 },
      maxInstances: 50,
      maxUnauthenticated: 1024,
      maxUnauthenticatedPerHost: 32,
    });
    expect(config.bans).toEqual({
      engine: true,
      message: 'Host %a is banned',
      pollInterval: 2000,
      rules: [
        { event: 'MaxLoginAttempts', count: 2, window: 600_000, duration: 3_600_000 },
        { event: 'ClientConnectRate', count: 20, window: 10_000, duration: 600_000, message: 'Slow down' },
      ],
    });
  });

  it('refuses a bad limit and an event ftpx does not count, with the line', () => {
    const issues = configIssues(() =>
      parse([...BASE, 'MaxClients many', 'BanOnEvent RootLogin 1/00:01:00 01:00:00'].join('\n')),
    );
    expect(issues.map((issue) => [issue.line, issue.key])).toEqual([
      [5, 'MaxClients'],
      [6, 'BanOnEvent'],
    ]);
    expect(issues[0]?.message).toContain('must be a whole number of at least 1 or none');
    expect(issues[1]?.message).toContain('"RootLogin" is not an event ftpx counts');
  });

  it('maps TCPBackLog to every listener, and names the line of a value out of range', () => {
    const config = parse([...BASE, 'TCPBackLog 2048'].join('\n'));
    expect(config.listeners[0]?.backlog).toBe(2048);
    expect(parse(BASE.join('\n')).listeners[0]?.backlog).toBeUndefined();
    const issues = configIssues(() => parse([...BASE, 'TCPBackLog 0'].join('\n')));
    expect(issues.map((issue) => [issue.file, issue.line, issue.key])).toEqual([[FILE, 5, 'TCPBackLog']]);
    expect(issues[0]?.message).toContain('must be a whole number from 1 to 65535, got "0"');
  });

  it("maps MaxClientsPerClass, one line per class, the server's own line winning over <Global>'s", () => {
    const config = parse(
      [
        ...BASE,
        '<Class staff>',
        '  From 127.0.0.2/32',
        '</Class>',
        '<Class guests>',
        '  From 127.0.0.3/32',
        '</Class>',
        '<Class office>',
        '  From 127.0.0.4/32',
        '</Class>',
        'MaxClientsPerClass staff 5',
        'MaxClientsPerClass guests 2 "Guests full (%m)"',
        'MaxClientsPerClass office none',
      ].join('\n'),
    );
    expect(config.listeners[0]?.connections.maxClientsPerClass).toEqual([
      { class: 'staff', max: 5 },
      { class: 'guests', max: 2, message: 'Guests full (%m)' },
    ]);
  });

  it('refuses MaxClientsPerClass naming no <Class>, or with a bad count, with the line', () => {
    const issues = configIssues(() =>
      parse(
        [
          ...BASE,
          '<Class staff>',
          '  From 127.0.0.2/32',
          '</Class>',
          'MaxClientsPerClass staf 5',
          'MaxClientsPerClass staff lots',
          'MaxClientsPerClass staff',
        ].join('\n'),
      ),
    );
    expect(issues.map((issue) => [issue.line, issue.key])).toEqual([
      [8, 'MaxClientsPerClass'],
      [9, 'MaxClientsPerClass'],
      [10, 'MaxClientsPerClass'],
    ]);
    expect(issues[0]?.message).toContain('"staf" is not a <Class> defined in this file (classes: staff)');
    expect(issues[1]?.message).toContain('must be a whole number of at least 1 or none, got "lots"');
    expect(issues[2]?.message).toContain('takes a class name, a number (or none) and an optional message');
  });

  it('refuses a BanOnEvent count above what the store counts, with the line', () => {
    const issues = configIssues(() =>
      parse([...BASE, 'BanOnEvent MaxLoginAttempts 2000000/00:10:00 01:00:00'].join('\n')),
    );
    expect(issues.map((issue) => [issue.line, issue.key, issue.message])).toEqual([
      [5, 'BanOnEvent', 'the count 2000000 is above the largest ftpx counts (1000000)'],
    ]);
  });
});
