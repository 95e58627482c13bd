import { describe, expect, it } from 'vitest';
import { DIRECTIVES, findDirective } from '../../../../edge-worker/config/proftpd-conf/directives.js';
import { parseProftpdConfig } from '../../../../edge-worker/config/proftpd-conf.js';
import { configIssues, lines } from './helpers.js';

const FILE = '/etc/proftpd/proftpd.conf';
const PROXY = ['ProxyEngine on', 'ProxyTables /var/ftp/proxy', 'ProxyReverseServers ftp://127.0.0.1:2121'];

describe('the proftpd.conf directive table', () => {
  const rows = [...DIRECTIVES.values()];

  it('has one row per directive, found case-insensitively', () => {
    expect(new Set(rows.map((row) => row.name.toLowerCase())).size).toBe(rows.length);
    for (const row of rows) expect(findDirective(row.name.toUpperCase())).toBe(row);
  });

  it('warns about every ignored row with the reason its row gives, at its line', () => {
    const ignored = rows.filter((row) => row.kind === 'ignored');
    expect(ignored.length).toBeGreaterThan(50);
    for (const row of ignored) {
      const { warnings } = parseProftpdConfig(FILE, lines(...PROXY, `${row.name} something`));
      expect(warnings).toContainEqual(
        expect.objectContaining({
          line: 4,
          key: row.name,
          message: `ignored: ${row.kind === 'ignored' ? row.reason : ''}`,
        }),
      );
    }
  });

  it('refuses every scoped row outside its scopes, naming them', () => {
    const scoped = rows.filter((row) => row.scopes && !row.scopes.includes('vhost'));
    expect(scoped.map((row) => row.name)).toContain('ProxyTables');
    for (const row of scoped) {
      const issues = configIssues(() =>
        parseProftpdConfig(
          FILE,
          lines(...PROXY, '<VirtualHost 127.0.0.1>', `  ${row.name} x`, '</VirtualHost>'),
        ),
      );
      expect(issues).toContainEqual(
        expect.objectContaining({
          line: 5,
          key: row.name,
          message: 'allowed only in the server config, not in <VirtualHost 127.0.0.1>',
        }),
      );
    }
  });

  it('suggests the closest row for a misspelt directive', () => {
    const issues = configIssues(() => parseProftpdConfig(FILE, lines(...PROXY, 'Prot 2121')));
    expect(issues).toContainEqual(
      expect.objectContaining({ line: 4, key: 'Prot', message: 'unknown directive (did you mean Port?)' }),
    );
  });
});
