import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../edge-worker/config/config-error.js';
import { parseProftpdConfig } from '../../../edge-worker/config/proftpd-conf.js';

const base = [
  '<IfModule mod_proxy.c>',
  '  ProxyEngine on',
  '  ProxyRole reverse',
  '  ProxyTables /var/ftpx',
  '  ProxyReverseServers ftp://127.0.0.1:2121',
  '</IfModule>',
];

describe('proftpd.conf TraceLog and Trace', () => {
  it('become log.traceFile and log.traces (ranges keep their upper end, "DEFAULT" is every channel)', () => {
    const { config } = parseProftpdConfig(
      '/etc/proftpd/proftpd.conf',
      [
        'TraceLog /var/log/proftpd/trace.log',
        'Trace DEFAULT:1 proxy:10',
        'Trace proxy.ftp.ctrl:1-20',
        ...base,
      ].join('\n'),
    );
    expect(config.log.traceFile).toBe('/var/log/proftpd/trace.log');
    expect(config.log.traces).toEqual({ '*': 1, proxy: 10, 'proxy.ftp.ctrl': 20 });
  });

  it('refuses a level that is not one', () => {
    expect(() => parseProftpdConfig('/etc/proftpd.conf', ['Trace proxy:loud', ...base].join('\n'))).toThrow(
      ConfigError,
    );
    expect(() => parseProftpdConfig('/etc/proftpd.conf', ['Trace proxy:99', ...base].join('\n'))).toThrow(
      /proftpd\.conf:1: Trace: expects CHANNEL:LEVEL pairs/,
    );
  });
});
