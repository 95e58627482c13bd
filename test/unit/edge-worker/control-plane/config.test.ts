import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../edge-worker/config/config-error.js';
import { parseYamlConfig } from '../../../../edge-worker/config/load-yaml.js';

const BASE = [
  'listeners:',
  '  - { port: 2121, pool: main }',
  'pools:',
  '  - { name: main, backends: [ftp://10.0.0.1] }',
];
const parse = (...extra: string[]) =>
  parseYamlConfig('/etc/ftpx/ftpx.yaml', `${[...BASE, ...extra].join('\n')}\n`);
const issues = (...extra: string[]) => {
  try {
    parse(...extra);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues.map((issue) => ({ line: issue.line, message: issue.message }));
  }
  throw new Error('expected a ConfigError');
};

describe('controlPlane in the YAML config', () => {
  it('is absent by default: the in-process control plane, as before', () => {
    expect(parse().config.controlPlane).toBeUndefined();
  });

  it('takes a URL and a token, with defaults for timeout, retries and staleFor', () => {
    expect(
      parse(
        'controlPlane:',
        '  url: https://cp.example.com/prod',
        '  token: s3cret-0123456789abcdef0123456789',
      ).config.controlPlane,
    ).toEqual({
      url: 'https://cp.example.com/prod',
      token: 's3cret-0123456789abcdef0123456789',
      timeout: 2000,
      retries: 2,
      staleFor: 300_000,
      insecureHttp: false,
    });
    expect(
      parse(
        'controlPlane: { url: "http://10.0.0.5:8080", insecureHttp: true, timeout: 500ms, retries: 0, staleFor: 1m }',
      ).config.controlPlane,
    ).toEqual({
      url: 'http://10.0.0.5:8080',
      insecureHttp: true,
      timeout: 500,
      retries: 0,
      staleFor: 60_000,
    });
    expect(parse('controlPlane: { url: "http://127.0.0.1:8080" }').config.controlPlane?.url).toBe(
      'http://127.0.0.1:8080',
    );
  });

  it('refuses what it cannot use, at the line', () => {
    expect(issues('controlPlane:', '  url: ftp://cp.example.com')).toEqual([
      { line: 6, message: expect.stringContaining('http:// or https://') },
    ]);
    expect(issues('controlPlane:', '  url: https://user:pw@cp.example.com')).toEqual([
      { line: 6, message: expect.stringContaining('credentials') },
    ]);
    expect(issues('controlPlane:', '  token: s3cret-0123456789abcdef0123456789')).toEqual([
      { line: 6, message: expect.stringContaining('needs controlPlane.url') },
    ]);
    expect(issues('controlPlane:', '  url: http://cp:8080', '  staleFor: forever')).toEqual([
      { line: 7, message: expect.stringContaining('not a duration') },
    ]);
    // Tokens and ticket keys would cross the network in clear.
    expect(issues('controlPlane:', '  url: http://cp.example.com:8080')).toEqual([
      { line: 6, message: expect.stringContaining('plain http:// to a host that is not loopback') },
    ]);
    expect(issues('controlPlane:', '  url: https://cp.example.com', '  token: short-token')).toEqual([
      { line: 7, message: expect.stringContaining('at least 32 characters') },
    ]);
    expect(issues('controlPlane:', '  url: http://127.0.0.1:8080', '  ca: /etc/ca.pem')).toEqual([
      { line: 7, message: expect.stringContaining('needs an https://') },
    ]);
  });
});
