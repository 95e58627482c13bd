import { describe, expect, it } from 'vitest';
import { lexConfig, logicalLines, splitWords } from '../../../../edge-worker/config/proftpd-conf/lexer.js';
import { parseBoolean, parseProftpdDuration } from '../../../../edge-worker/config/proftpd-conf/values.js';
import { parseProftpdConfig } from '../../../../edge-worker/config/proftpd-conf.js';
import { configIssues, lines } from './helpers.js';

describe('logicalLines', () => {
  it('joins continuations and numbers each logical line by its first physical line', () => {
    expect(logicalLines('a \\\n  b \\\n  c\r\nd\\\n')).toEqual([
      { text: 'a   b   c', line: 1 },
      { text: 'd', line: 4 },
    ]);
  });

  it('appends the next line as it is, as ProFTPD does', () => {
    expect(logicalLines('ab\\\ncd')).toEqual([{ text: 'abcd', line: 1 }]);
  });
});

describe('splitWords', () => {
  it('splits on whitespace and keeps quoted words whole', () => {
    expect(splitWords('  ServerName  "My  Server"\t"a \\"q\\" \\\\ b" plain')).toEqual({
      words: ['ServerName', 'My  Server', 'a "q" \\ b', 'plain'],
    });
    expect(splitWords('x ""')).toEqual({ words: ['x', ''] });
  });

  it('reports an unterminated quote', () => {
    expect(splitWords('x "abc').error).toBe('unterminated double quote');
  });
});

describe('lexConfig', () => {
  it('builds a tree of sections and directives with locations', () => {
    const { nodes, errors } = lexConfig(
      'p.conf',
      lines('Port 21', '<VirtualHost 1.2.3.4 5.6.7.8>', '  ServerName x', '</virtualhost>'),
    );
    expect(errors).toEqual([]);
    expect(nodes).toEqual([
      { type: 'directive', name: 'Port', args: ['21'], loc: { file: 'p.conf', line: 1 } },
      {
        type: 'section',
        name: 'VirtualHost',
        args: ['1.2.3.4', '5.6.7.8'],
        loc: { file: 'p.conf', line: 2 },
        skipped: false,
        children: [{ type: 'directive', name: 'ServerName', args: ['x'], loc: { file: 'p.conf', line: 3 } }],
      },
    ]);
  });

  it('reports malformed section tags', () => {
    const { errors } = lexConfig('p.conf', lines('<VirtualHost 1.2.3.4', '</VirtualHost x>', '<>'));
    expect(errors.map((error) => [error.line, error.message])).toEqual([
      [1, 'a section tag must end with ">": <VirtualHost 1.2.3.4'],
      [2, 'malformed closing tag </VirtualHost x>'],
      [3, 'malformed section tag <>'],
    ]);
  });

  it('keeps the nesting of skipped sections without reading their content', () => {
    const { nodes, errors } = lexConfig(
      'p.conf',
      lines(
        '<IfModule !mod_x.c>',
        '  <IfModule mod_y.c>',
        '    Anything at all',
        '  </IfModule>',
        '</IfModule>',
      ),
    );
    expect(errors).toEqual([]);
    expect(nodes).toEqual([
      {
        type: 'section',
        name: 'IfModule',
        args: ['!mod_x.c'],
        loc: { file: 'p.conf', line: 1 },
        skipped: true,
        children: [],
      },
    ]);
  });
});

describe('ProFTPD values', () => {
  it('reads durations', () => {
    expect(parseProftpdDuration('30')).toBe(30_000);
    expect(parseProftpdDuration('5sec')).toBe(5000);
    expect(parseProftpdDuration('5 s')).toBe(5000);
    expect(parseProftpdDuration('3Mins')).toBe(180_000);
    expect(parseProftpdDuration('2hours')).toBe(7_200_000);
    expect(parseProftpdDuration('500ms')).toBe(500);
    expect(parseProftpdDuration('01:02:03')).toBe(3_723_000);
    for (const bad of ['', '1.5s', '5 parsecs', '-1', '00:60:00', 'soon']) {
      expect(parseProftpdDuration(bad), bad).toBeUndefined();
    }
  });

  it('reads booleans', () => {
    expect(['on', 'Yes', 'TRUE', '1'].map(parseBoolean)).toEqual([true, true, true, true]);
    expect(['off', 'No', 'false', '0'].map(parseBoolean)).toEqual([false, false, false, false]);
    expect(parseBoolean('enabled')).toBeUndefined();
  });
});

describe('schema checks on the imported configuration', () => {
  it('are reported at the directive that produced the value', () => {
    const issues = configIssues(() =>
      parseProftpdConfig(
        'p.conf',
        lines('ProxyEngine on', 'ProxyTLSEngine off', 'ProxyReverseServers ftp://b', 'DefaultAddress ""'),
      ),
    );
    expect(issues).toEqual([
      {
        file: 'p.conf',
        line: 4,
        key: 'DefaultAddress',
        message: 'Too small: expected string to have >=1 characters (ftpx setting listeners[0].address)',
      },
    ]);
  });
});
