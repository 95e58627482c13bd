import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../edge-worker/config/config-error.js';
import { parseProftpdConfig } from '../../../../edge-worker/config/proftpd-conf.js';

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
    expect(() => parseProftpdConfig('/etc/proftpd.conf', ['Trace proxy:-1', ...base].join('\n'))).toThrow(
      /proftpd\.conf:1: Trace: expects CHANNEL:LEVEL pairs \(a level of 0 or more\)/,
    );
  });

  it('takes levels above 20, as ProFTPD does', () => {
    const loaded = parseProftpdConfig(
      '/etc/proftpd.conf',
      ['Trace proxy:30 proxy.ftp.ctrl:1-99', ...base].join('\n'),
    );
    expect(loaded.config.log.traces).toEqual({ proxy: 30, 'proxy.ftp.ctrl': 99 });
  });
});

describe('proftpd.conf ExtendedLog and LogFormat', () => {
  it('become log.access, with the variables ftpx lacks written as "-" and a warning saying so', () => {
    const loaded = parseProftpdConfig(
      '/etc/proftpd/proftpd.conf',
      [
        'LogFormat backends "%h %u %{note:mod_proxy.backend-ip}:%{note:mod_proxy.backend-port} %r"',
        'ExtendedLog /var/log/proftpd/backends.log ALL backends',
        'ExtendedLog /var/log/proftpd/access.log READ',
        ...base,
      ].join('\n'),
    );
    expect(loaded.config.log.access).toEqual([
      {
        file: '/var/log/proftpd/backends.log',
        format: '%h %u %{note:mod_proxy.backend-ip}:%{note:mod_proxy.backend-port} -',
      },
      { file: '/var/log/proftpd/access.log', format: '%h - %u %t "-" - -' },
    ]);
    const notes = loaded.warnings.filter((warning) => warning.key === 'ExtendedLog').map((w) => w.message);
    expect(notes[0]).toMatch(/one line per session.*%r written as "-"/);
    expect(notes[1]).toMatch(/command classes "READ" do not apply.*%l %r %s %b written as "-"/);
  });

  it('refuses an ExtendedLog naming a LogFormat that does not exist', () => {
    expect(() =>
      parseProftpdConfig('/etc/proftpd.conf', ['ExtendedLog /var/log/x.log ALL nosuch', ...base].join('\n')),
    ).toThrow(/proftpd\.conf:1: ExtendedLog: no LogFormat named "nosuch"/);
  });
});
