import { describe, expect, it } from 'vitest';
import { ConfigError, formatIssue } from '../../../../edge-worker/config/config-error.js';

describe('formatIssue', () => {
  it('joins file, line, key and message', () => {
    expect(
      formatIssue({
        file: 'ftpx.yaml',
        line: 12,
        key: 'listeners[0].port',
        message: 'Expected number, received string',
      }),
    ).toBe('ftpx.yaml:12: listeners[0].port: Expected number, received string');
    expect(
      formatIssue({ file: 'proftpd.conf', line: 7, key: 'ProxyFoo', message: 'unknown directive' }),
    ).toBe('proftpd.conf:7: ProxyFoo: unknown directive');
  });

  it('leaves out the parts that are missing', () => {
    expect(formatIssue({ file: 'ftpx.yaml', message: 'cannot read' })).toBe('ftpx.yaml: cannot read');
    expect(formatIssue({ file: 'ftpx.yaml', line: 3, message: 'bad' })).toBe('ftpx.yaml:3: bad');
    expect(formatIssue({ file: 'ftpx.yaml', key: 'pools', message: 'bad' })).toBe('ftpx.yaml: pools: bad');
  });
});

describe('ConfigError', () => {
  it('carries the issues and lists them one per line in its message', () => {
    const cause = new Error('root cause');
    const issues = [
      { file: 'a.conf', line: 1, key: 'Port', message: 'bad port' },
      { file: 'a.conf', message: 'no server' },
    ];
    const error = new ConfigError(issues, { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ConfigError');
    expect(error.issues).toBe(issues);
    expect(error.message).toBe('a.conf:1: Port: bad port\na.conf: no server');
    expect(error.cause).toBe(cause);
  });
});
