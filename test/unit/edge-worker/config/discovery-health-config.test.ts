import { describe, expect, it } from 'vitest';
import { parseYamlConfig } from '../../../../edge-worker/config/load-yaml.js';
import {
  activeCheckOptionsOf,
  discoverySettingsOf,
  healthSettingsOf,
} from '../../../../edge-worker/embedded/control-plane-settings.js';
import { configIssues, lines } from './helpers.js';

const BASE = lines(
  'listeners:', // 1
  '  - port: 2121', // 2
  '    pool: main', // 3
  'pools:', // 4
  '  - name: main', // 5
  '    backends: [ftp+srv://_ftp._tcp.example.com]', // 6
);

describe('dns and health keys', () => {
  it('absent: the documented defaults', () => {
    const config = parseYamlConfig('ftpx.yaml', BASE).config;
    expect(discoverySettingsOf(config)).toEqual({
      servers: [],
      timeoutMs: 2000,
      minTtlSeconds: 1,
      maxTtlSeconds: 3600,
      negativeTtlSeconds: 10,
    });
    expect(healthSettingsOf(config)).toEqual({
      passive: { enabled: true, failures: 3, windowMs: 60_000, cooldownMs: 30_000 },
      whenAllUnhealthy: 'try',
      activeFailureHoldMs: 60_000,
    });
    expect(activeCheckOptionsOf(config)).toEqual({
      timeoutMs: 5000,
      check: 'banner',
      allowUntrustedCertificates: false,
      certificateExpiryWarningDays: 14,
    });
  });

  it('given: durations and servers as written', () => {
    const text = lines(
      BASE.trimEnd(),
      'dns:', // 7
      '  servers: ["10.0.0.2", "[::1]:5353"]', // 8
      '  negativeTtl: 30s', // 9
      'health:', // 10
      '  passive: { failures: 5, window: 2m, cooldown: 1m }', // 11
      '  whenAllUnhealthy: fail', // 12
      '  active: { enabled: true, ftp: { check: login, user: probe, password: pw } }', // 13
    );
    const config = parseYamlConfig('ftpx.yaml', text).config;
    expect(discoverySettingsOf(config)).toMatchObject({
      servers: [
        { host: '10.0.0.2', port: 53 },
        { host: '::1', port: 5353 },
      ],
      negativeTtlSeconds: 30,
    });
    expect(healthSettingsOf(config)).toMatchObject({
      passive: { failures: 5, windowMs: 120_000, cooldownMs: 60_000 },
      whenAllUnhealthy: 'fail',
    });
    expect(activeCheckOptionsOf(config)).toMatchObject({ check: 'login', user: 'probe', password: 'pw' });
  });

  it('errors name the line and key', () => {
    const text = lines(
      BASE.trimEnd(),
      'dns:', // 7
      '  servers: ["dns.example.com"]', // 8
      'health:', // 9
      '  whenAllUnhealthy: maybe', // 10
      '  active: { ftp: { check: login } }', // 11
    );
    const issues = configIssues(() => parseYamlConfig('ftpx.yaml', text));
    expect(issues).toContainEqual(
      expect.objectContaining({
        line: 8,
        key: 'dns.servers[0]',
        message: expect.stringContaining('is not an IP address'),
      }),
    );
    expect(issues).toContainEqual(expect.objectContaining({ line: 10, key: 'health.whenAllUnhealthy' }));
    expect(issues).toContainEqual(
      expect.objectContaining({
        key: 'health.active.ftp.user',
        message: expect.stringContaining('health-check account'),
      }),
    );
  });
});
