import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  directiveDocRows,
  optionDocRows,
} from '../../../../edge-worker/config/proftpd-conf/directive-doc.js';
import { findDirective } from '../../../../edge-worker/config/proftpd-conf/directives.js';
import { keysByDirective } from '../../../../edge-worker/config/reference.js';

/** The names the mod_proxy / mod_tls_shmcache documents mention (copied into a fixture). */
const named = readFileSync(new URL('../../../fixtures/mod_proxy-doc-directives.txt', import.meta.url), 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'));
const directives = named.filter((line) => !line.includes(' '));
const options = named.filter((line) => line.includes(' ')).map((line) => line.split(' ') as [string, string]);
const doc = readFileSync(new URL('../../../../docs/configuration.md', import.meta.url), 'utf8');

describe('the directive table of docs/configuration.md', () => {
  it('names every Proxy*, TLS* and SFTP* directive of the documents, as applied, warned or refused with a reason', () => {
    expect(directives.length).toBeGreaterThanOrEqual(45);
    const rows = new Map(directiveDocRows(keysByDirective()).map((row) => [row.directive, row]));
    for (const name of directives) {
      const row = rows.get(name);
      expect(row, name).toBeDefined();
      expect(row?.note.length, name).toBeGreaterThan(3);
      expect(doc, name).toContain(`| \`${name}\` |`);
    }
  });

  it('names every option of ProxyOptions, ProxyTLSOptions and ProxySFTPOptions', () => {
    expect(options.length).toBe(20);
    const rows = optionDocRows();
    for (const [directive, option] of options) {
      const row = rows.find((entry) => entry.directive === directive && entry.option === option);
      expect(row, `${directive} ${option}`).toBeDefined();
      expect(doc, `${directive} ${option}`).toContain(`| \`${directive}\` | \`${option}\` |`);
    }
  });

  it('maps keys only to directives the importer applies (a refused one would send users in circles)', () => {
    for (const name of keysByDirective().keys()) expect(findDirective(name)?.kind, name).toBe('handled');
    expect(keysByDirective().get('AuthUserFile')).toEqual(['pools[].authUserFile']);
  });
});
