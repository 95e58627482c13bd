import { describe, expect, it } from 'vitest';
import { formatFields, formatLabels, formatTable, orDash } from '../../../../edge-worker/cli/admin/output.js';
import { expiresAtOf } from '../../../../edge-worker/cli/admin/tokens.js';

describe('operator CLI output', () => {
  it('aligns table columns two spaces apart, without trailing blanks', () => {
    expect(
      formatTable(
        ['ID', 'URL', 'ENABLED'],
        [
          ['a', 'ftp://10.0.0.5:21', 'yes'],
          ['long-id', 'ftp://h', ''],
        ],
      ),
    ).toBe(
      ['ID       URL                ENABLED', 'a        ftp://10.0.0.5:21  yes', 'long-id  ftp://h', ''].join(
        '\n',
      ),
    );
  });

  it('prints name: value lines, leaving out what is absent', () => {
    expect(
      formatFields([
        ['name', 'main'],
        ['description', undefined],
        ['connect policy', 'RoundRobin'],
      ]),
    ).toBe('name:            main\nconnect policy:  RoundRobin\n');
  });

  it('shows control characters escaped, so a name cannot garble the terminal', () => {
    expect(formatTable(['NAME'], [['a\nb\u001b[2J']])).toBe('NAME\na\\x0ab\\x1b[2J\n');
  });

  it('renders labels and missing values', () => {
    expect(formatLabels({ zone: 'a', tier: 'gold' })).toBe('zone=a,tier=gold');
    expect(formatLabels(undefined)).toBe('-');
    expect(orDash(undefined)).toBe('-');
    expect(orDash(5)).toBe('5');
  });

  it('reads --expires as a duration from now, or passes a time on', () => {
    const now = Date.parse('2030-01-01T00:00:00.000Z');
    expect(expiresAtOf('30d', now)).toBe('2030-01-31T00:00:00.000Z');
    expect(expiresAtOf('12h', now)).toBe('2030-01-01T12:00:00.000Z');
    expect(expiresAtOf('90m', now)).toBe('2030-01-01T01:30:00.000Z');
    expect(expiresAtOf('2031-05-01T00:00:00Z', now)).toBe('2031-05-01T00:00:00Z');
  });
});
