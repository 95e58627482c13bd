import { describe, expect, it } from 'vitest';
import { Logger } from '../../../../edge-worker/log/logger.js';

function capture(level: 'debug' | 'info' = 'debug', options = {}) {
  const lines: string[] = [];
  const traces: string[] = [];
  const log = new Logger(
    { write: (line) => lines.push(line) },
    level,
    {},
    {
      ...options,
      traceSink: { write: (line: string) => traces.push(line) },
    },
  );
  return {
    log,
    lines,
    traces,
    parsed: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe('logger (pino)', () => {
  it('writes one JSON line per call with level, ISO time, context and message', () => {
    const { log, lines, parsed } = capture('info');
    log.child({ session: 'abc' }).info('hello', { n: 1 });
    log.debug('hidden');
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith('\n')).toBe(true);
    expect(parsed()[0]).toMatchObject({ level: 'info', session: 'abc', n: 1, msg: 'hello' });
    expect(String(parsed()[0]?.time)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('redacts secret keys, URL passwords, PASS arguments and bearer tokens anywhere', () => {
    const { log, lines } = capture();
    const err = new Error('connect ftp://bob:hunter2@10.0.0.1:21 failed', {
      cause: new Error('PASS hunter2 refused'),
    });
    log.child({ password: 'hunter2', nested: { apiToken: 'hunter2' } }).warn('relayed PASS hunter2', {
      url: 'ftp://alice:hunter2@backend.example:21/dir',
      header: 'Authorization: Bearer hunter2hunter2',
      error: err,
      list: ['sftp://u:hunter2@h'],
    });
    const text = lines.join('');
    expect(text).not.toContain('hunter2');
    expect(text).toContain('ftp://alice:[redacted]@backend.example:21/dir');
    expect(text).toContain('PASS [redacted]');
  });

  it('maps trace channels onto levels and writes trace() lines to the TraceLog', () => {
    const { log, lines, traces } = capture('info', { traces: { 'proxy.ftp': 10, 'proxy.ftp.data': 0 } });
    log.channel('proxy.ftp.ctrl').debug('ctrl debug');
    log.channel('proxy.ftp.data').debug('data debug');
    log.channel('proxy.conn').debug('conn debug');
    expect(lines.map((line) => JSON.parse(line).msg)).toEqual(['ctrl debug']);
    expect(JSON.parse(lines[0] ?? '{}').channel).toBe('proxy.ftp.ctrl');
    log.trace('proxy.ftp.ctrl', 9, 'sent PASS secret-pw');
    log.trace('proxy.ftp.ctrl', 11, 'too detailed');
    log.trace('proxy.reverse', 1, 'not traced');
    expect(traces).toHaveLength(1);
    expect(JSON.parse(traces[0] ?? '{}')).toMatchObject({
      channel: 'proxy.ftp.ctrl',
      trace: 9,
      msg: 'sent PASS [redacted]',
    });
  });

  it('builds a trace line only when its channel is traced at that level (lazy message and fields)', () => {
    const { log, traces } = capture('info', { traces: { proxy: 9, 'proxy.ssh': 0 } });
    let built = 0;
    const build = () => {
      built += 1;
      return 'built';
    };
    log.trace('proxy.ssh.kex', 9, build, () => ({ n: built }));
    log.trace('proxy.tls', 10, build);
    expect(built).toBe(0);
    expect(log.traces('proxy.tls', 9)).toBe(true);
    expect(log.traces('proxy.tls', 10)).toBe(false);
    expect(log.traces('proxy.ssh.kex', 1)).toBe(false);
    log.trace('proxy.tls', 9, build, () => ({ backend: 'ftp://u:pw@h:21' }));
    expect(built).toBe(1);
    expect(JSON.parse(traces[0] ?? '{}')).toMatchObject({
      channel: 'proxy.tls',
      trace: 9,
      msg: 'built',
      backend: 'ftp://u:[redacted]@h:21',
    });
  });

  it('a child logger and withSink share the resolved channel levels', () => {
    const { log, traces } = capture('info', { traces: { '*': 3 } });
    const child = log.child({ session: 's1' }).withSink({ write: () => {} });
    child.trace('proxy.ftp.dirlist', 3, 'unparsable line');
    child.trace('proxy.ftp.dirlist', 4, 'too detailed');
    expect(traces.map((line) => JSON.parse(line).msg)).toEqual(['unparsable line']);
    expect(JSON.parse(traces[0] ?? '{}').session).toBe('s1');
  });

  it('copies and scrubs a child context only when a line is written (once), its values as they were given', () => {
    const { log, parsed } = capture('info');
    let reads = 0;
    const fields = {
      get user() {
        reads += 1;
        return 'alice';
      },
      password: 'hunter2',
    };
    const session = log.child({ session: 's1' }).channel('proxy.ftp.sess');
    const child = session.child(fields).child({ backend: 'ftp://b:hunter2@h:21' });
    child.debug('below the level');
    expect(reads).toBe(0);
    child.info('first');
    child.info('second');
    expect(reads).toBe(1);
    expect(parsed()).toMatchObject([
      {
        session: 's1',
        channel: 'proxy.ftp.sess',
        user: 'alice',
        password: '[redacted]',
        backend: 'ftp://b:[redacted]@h:21',
        msg: 'first',
      },
      { user: 'alice', msg: 'second' },
    ]);
    // The parent's context stays its own.
    session.info('parent');
    expect(parsed()[2]).not.toHaveProperty('user');
  });
});
