import { describe, expect, it } from 'vitest';
import { parseYamlConfig } from '../../../../edge-worker/config/load-yaml.js';
import { parseProftpdConfig } from '../../../../edge-worker/config/proftpd-conf.js';
import { tlsCacheSettingsFromConfig } from '../../../../edge-worker/tls/tls-cache-settings.js';
import { configIssues, lines } from './helpers.js';

const FILE = '/etc/proftpd/proftpd.conf';
const PROXY = [
  'ProxyEngine on',
  'ProxyRole reverse',
  'ProxyReverseServers ftp://127.0.0.1:2121',
  'ProxyTables /var/ftpx',
];
const parse = (...rows: string[]) => parseProftpdConfig(FILE, lines(...PROXY, ...rows));
const rows = (issues: { line?: number; key?: string; message: string }[]) =>
  issues.map((issue) => [issue.line, issue.key, issue.message]);
/** The warnings about the directives under test (the base config draws others, e.g. ProxyTLSEngine unset). */
const tlsWarnings = (issues: { line?: number; key?: string; message: string }[]) =>
  rows(issues.filter((issue) => issue.key?.startsWith('TLS')));

describe('tlsCache from a proftpd.conf (TLSSessionCache, TLSStaplingCache, TLSStapling*)', () => {
  it('maps mod_tls_shmcache settings onto the shared caches, with &size= measured in slots', () => {
    const loaded = parse(
      '<IfModule mod_tls_shmcache.c>',
      '  TLSSessionCache shm:/file=/var/ftpd/sess_cache&size=512000 600',
      '  TLSStaplingCache shm:/file=/var/ftpd/ocsp_cache&size=512000',
      '</IfModule>',
      'TLSStaplingOptions NoFakeTryLater',
      'TLSStaplingResponder http://ocsp.example.test/',
      'TLSStaplingTimeout 5',
    );
    expect(tlsWarnings(loaded.warnings)).toEqual([]);
    const settings = tlsCacheSettingsFromConfig(loaded.config.tlsCache);
    expect(settings.sessions).toMatchObject({
      enabled: true,
      timeoutS: 600,
      maxEntries: 49,
      maxEntryBytes: 10_240,
    });
    expect(settings.stapling).toMatchObject({
      enabled: true,
      responder: 'http://ocsp.example.test/',
      timeoutMs: 5000,
      fakeTryLater: false,
      nonce: true,
      maxEntries: 122,
      maxEntryBytes: 4096,
    });
    expect(settings.tickets).toEqual({ enabled: true, rotateEveryS: 43_200 });
  });

  it('uses mod_tls_shmcache defaults: 1800 s, 153 sessions, 377 OCSP responses; a bad size falls back with a warning', () => {
    const loaded = parse(
      'TLSSessionCache shm:/file=/var/ftpd/sess_cache&size=lots',
      'TLSStaplingCache shm:/file=/var/ftpd/ocsp',
    );
    expect(tlsWarnings(loaded.warnings)).toEqual([
      [5, 'TLSSessionCache', 'size "lots" is not a number of bytes: using the default'],
    ]);
    const settings = tlsCacheSettingsFromConfig(loaded.config.tlsCache);
    expect(settings.sessions).toMatchObject({ timeoutS: 1800, maxEntries: 153 });
    expect(settings.stapling).toMatchObject({ enabled: true, maxEntries: 377, fakeTryLater: true });
    // A size too small for one entry is ignored, as mod_tls_shmcache does.
    const small = parse('TLSSessionCache shm:/file=/var/ftpd/sess_cache&size=100');
    expect(tlsCacheSettingsFromConfig(small.config.tlsCache).sessions.maxEntries).toBe(153);
  });

  it('TLSSessionCache off caches no session at all; internal: leaves each worker its own (with warnings)', () => {
    const off = parse('TLSSessionCache off');
    expect(tlsCacheSettingsFromConfig(off.config.tlsCache).sessions).toMatchObject({
      enabled: false,
      workerCache: false,
    });
    expect(tlsWarnings(off.warnings)[0]?.[2]).toMatch(
      /^off: no session cache: TLS session IDs are never resumed/,
    );
    const internal = parse('TLSSessionCache internal: 900');
    expect(tlsCacheSettingsFromConfig(internal.config.tlsCache).sessions).toMatchObject({
      enabled: false,
      workerCache: true,
      timeoutS: 900,
    });
  });

  it('reports bad values with file, line and directive', () => {
    const issues = configIssues(() =>
      parse(
        'TLSSessionCache shm:/var/ftpd/sess_cache',
        'TLSStaplingCache shm:/file=relative/path',
        'TLSStaplingOptions NoNonce Sometimes',
        'TLSStaplingResponder ftp://x',
        '<VirtualHost 127.0.0.2>',
        '  TLSSessionCache off',
        '</VirtualHost>',
        'TLSSessionCache nosuch:/x',
      ),
    );
    expect(rows(issues)).toEqual([
      [
        5,
        'TLSSessionCache',
        'shm: info must start with /file= (e.g. shm:/file=/var/ftpd/sess_cache), got "/var/ftpd/sess_cache"',
      ],
      [6, 'TLSStaplingCache', 'shm: /file= must be an absolute path, got "relative/path"'],
      [7, 'TLSStaplingOptions', 'unknown option "Sometimes" (known: NoNonce, NoFakeTryLater)'],
      [8, 'TLSStaplingResponder', 'must be an http:// or https:// URL, got "ftp://x"'],
      [10, 'TLSSessionCache', 'allowed only in the server config, not in <VirtualHost 127.0.0.2>'],
      [12, 'TLSSessionCache', 'unknown cache type "nosuch" (known: shm, memcache, redis, internal)'],
    ]);
  });
});

describe('tlsCache in the YAML', () => {
  const yaml = (block: string) =>
    parseYamlConfig(
      '/etc/ftpx.yaml',
      `listeners:\n  - { address: 127.0.0.1, port: 2121, pool: main }\npools:\n  - { name: main, backends: ['ftp://127.0.0.1:21'] }\n${block}`,
    );

  it('takes durations and sizes, and defaults everything else', () => {
    const loaded = yaml(
      'tlsCache:\n  sessions: { timeout: 10m, size: 102880 }\n  tickets: { rotateEvery: 1h }\n  stapling: { enabled: true }\n',
    );
    const settings = tlsCacheSettingsFromConfig(loaded.config.tlsCache);
    expect(settings.sessions).toMatchObject({
      enabled: true,
      timeoutS: 600,
      maxEntries: 10,
      localEntries: 1000,
      localTtlMs: 60_000,
    });
    expect(settings.tickets.rotateEveryS).toBe(3600);
    expect(settings.stapling).toMatchObject({ enabled: true, timeoutMs: 10_000, fakeTryLater: true });
    expect(tlsCacheSettingsFromConfig(yaml('').config.tlsCache).sessions.maxEntries).toBe(153);
  });

  it('refuses a timeout that is not whole seconds and unknown keys, naming file and line', () => {
    const issues = configIssues(() =>
      yaml('tlsCache:\n  sessions:\n    timeout: 1500ms\n  tickets: { rotate: 1h }\n'),
    );
    expect(issues.map((issue) => [issue.line, issue.key])).toEqual([
      [7, 'tlsCache.sessions.timeout'],
      [8, 'tlsCache.tickets.rotate'],
    ]);
  });
});
