import { describe, expect, it } from 'vitest';
import {
  detectListFormat,
  inferYear,
  isTotalLine,
  type ListEntry,
  ListLineParser,
  parseDosListLine,
  parsePermissions,
  parseUnixListLine,
  type SkipReason,
} from '../../../../../edge-worker/ftp/dirlist/list-line.js';

const NOW = new Date('2026-11-21T07:00:00Z');
const utc = (iso: string) => new Date(`${iso}Z`);
const unix = (line: string, now = NOW) => parseUnixListLine(line, now);
/** The latin1 reading of a name's UTF-8 bytes, as names travel on the wire. */
const wire = (name: string) => Buffer.from(name, 'utf8').toString('latin1');

describe('Unix ls -l lines', () => {
  it('parses the shapes ProFTPD, vsftpd and pure-ftpd send for LIST -aln and LIST -al', () => {
    // Captured from the real servers (test/unit/dirlist/real-servers.test.ts runs them live).
    expect(unix('-rw-r--r--   1 65534    65534           5 Nov 21 06:36 plain.txt')).toEqual({
      format: 'unix',
      type: 'file',
      name: 'plain.txt',
      mode: 0o644,
      links: 1,
      owner: '65534',
      group: '65534',
      size: 5n,
      modify: utc('2026-11-21T06:36:00'),
    } satisfies ListEntry);
    expect(unix('drwxr-xr-x    5 999      995          4096 Nov 21 06:36 .')).toMatchObject({
      type: 'dir',
      name: '.',
      mode: 0o755,
      links: 5,
      owner: '999',
      group: '995',
      size: 4096n,
    });
    expect(unix('-rw-r--r--    1 65534      nogroup             1 Mar  4  2019 old.txt')).toMatchObject({
      name: 'old.txt',
      owner: '65534',
      group: 'nogroup',
      modify: utc('2019-03-04T00:00:00'),
    });
    // vsftpd zero-pads the day.
    expect(unix('-rw-r--r--    1 999      995             1 Mar 04  2019 old.txt')?.modify).toEqual(
      utc('2019-03-04T00:00:00'),
    );
    expect(unix('-rw-r--r--   1 ftpx     65534           1 Nov 21 06:36 x')).toMatchObject({
      owner: 'ftpx',
      group: '65534',
    });
  });

  it('parses GNU ls output for devices, with major, minor instead of a size', () => {
    expect(unix('crw-r--r--  1 0 0  10, 235 Nov 20 10:34 autofs')).toMatchObject({
      type: 'chardev',
      name: 'autofs',
      device: { major: 10, minor: 235 },
    });
    expect(unix('crw-r--r--  1 0 0  10, 235 Nov 20 10:34 autofs')).not.toHaveProperty('size');
    expect(unix('brw-rw---- 1 root disk 7,0 Nov 20 10:34 loop0')).toMatchObject({
      type: 'blockdev',
      device: { major: 7, minor: 0 },
      owner: 'root',
      group: 'disk',
    });
    // Only devices may list major, minor.
    expect(unix('-rw-r--r-- 1 0 0 7, 0 Nov 20 10:34 notadevice')).toBeUndefined();
  });

  it('knows every file type letter', () => {
    const types = Object.fromEntries(
      ['-', 'd', 'l', 'p', 's', 'c', 'b'].map((letter) => {
        const size = letter === 'c' || letter === 'b' ? '1, 3' : '0';
        return [letter, unix(`${letter}rw-r--r-- 1 0 0 ${size} Jan  1  2020 x`)?.type];
      }),
    );
    expect(types).toEqual({
      '-': 'file',
      d: 'dir',
      l: 'symlink',
      p: 'pipe',
      s: 'socket',
      c: 'chardev',
      b: 'blockdev',
    });
    expect(unix('Drw-r--r-- 1 0 0 0 Jan  1  2020 door')).toBeUndefined();
  });

  it('reads setuid, setgid and sticky bits with and without execute', () => {
    const mode = (perms: string) => unix(`-${perms} 1 0 0 1 Jan  1  2020 f`)?.mode;
    expect(mode('rwsr-xr-x')).toBe(0o4755);
    expect(mode('rwSr--r--')).toBe(0o4644);
    expect(mode('rwxrwsr-x')).toBe(0o2775);
    expect(mode('rw-r-Sr--')).toBe(0o2644);
    expect(mode('rwxrwxrwt')).toBe(0o1777);
    expect(mode('rwxrwxrwT')).toBe(0o1776);
    expect(mode('rwsr-sr-t')).toBe(0o7755);
    expect(mode('---------')).toBe(0);
    expect(parsePermissions('rwxr-x---')).toBe(0o750);
    // Letters in the wrong place are not a mode.
    expect(mode('rwtr-xr-x')).toBeUndefined();
    expect(mode('rw-r--r-s')).toBeUndefined();
  });

  it('accepts the ACL, xattr and SELinux markers after the mode', () => {
    expect(unix('-rw-r--r--+ 1 1000 1000 12 Jan  5  2024 acl')).toMatchObject({ name: 'acl', mode: 0o644 });
    expect(unix('drwxr-xr-x@ 5 501 20 160 Jan  5  2024 mac')).toMatchObject({ name: 'mac', type: 'dir' });
    expect(unix('-rw-r--r--. 1 0 0 3 Jan  5  2024 selinux')).toMatchObject({ name: 'selinux' });
    expect(unix('-rw-r--r--* 1 0 0 3 Jan  5  2024 star')).toBeUndefined();
  });

  it('keeps names exactly: inner, leading and trailing spaces, arrows in plain files, 8-bit bytes', () => {
    const name = (line: string) => unix(line)?.name;
    expect(name('-rw-r--r--   1 0 0 1 Nov 21 06:36 with  two spaces.txt')).toBe('with  two spaces.txt');
    expect(name('-rw-r--r--   1 0 0 1 Nov 21 06:36  leading')).toBe(' leading');
    expect(name('-rw-r--r--   1 0 0 1 Mar  4  2019   two leading')).toBe('  two leading');
    expect(name('-rw-r--r--   1 0 0 1 Nov 21 06:36 trailing ')).toBe('trailing ');
    expect(name('-rw-r--r--   1 0 0 1 Nov 21 06:36 arrow -> name')).toBe('arrow -> name');
    expect(name('-rw-r--r--   1 0 0 1 Nov 21 06:36 Jan  1  2020 name-with-a-date')).toBe(
      'Jan  1  2020 name-with-a-date',
    );
    // UTF-8 "à" is C3 A0 and "Å" C3 85: as latin1, A0 and 85 are white space to a JavaScript \s.
    for (const utf8 of ['à la carte', 'Åse', 'voilà', '\u00a0', 'é\tx']) {
      expect(name(`-rw-r--r--   1 0 0 1 Nov 21 06:36 ${wire(utf8)}`)).toBe(wire(utf8));
    }
    expect(name('-rw-r--r--   1 0 0 1 Nov 21 06:36 \xa0latin1 nbsp first')).toBe('\xa0latin1 nbsp first');
    expect(name('-rw-r--r--   1 0 0 1 Nov 21 06:36 cr\rinside')).toBe('cr\rinside');
    // A name is required.
    expect(unix('-rw-r--r--   1 0 0 1 Nov 21 06:36 ')).toBeUndefined();
    expect(unix('-rw-r--r--   1 0 0 1 Nov 21 06:36')).toBeUndefined();
  });

  it('splits symlinks into name and target, using the size to place names and targets with arrows', () => {
    expect(unix('lrwxrwxrwx   1 0 0 9 Nov 21 06:36 link -> plain.txt')).toMatchObject({
      type: 'symlink',
      name: 'link',
      target: 'plain.txt',
      mode: 0o777,
    });
    expect(unix('lrwxrwxrwx  1 0 0       13 Nov 21 05:58 fd -> /proc/self/fd')).toMatchObject({
      name: 'fd',
      target: '/proc/self/fd',
    });
    // The target has the arrow: the link's size (6) is the target's length.
    expect(unix('lrwxrwxrwx   1 0 0 6 Nov 21 06:36 weird link -> a -> b')).toMatchObject({
      name: 'weird link',
      target: 'a -> b',
    });
    // The name has the arrow.
    expect(unix('lrwxrwxrwx   1 0 0 6 Nov 21 06:36 a -> b -> target')).toMatchObject({
      name: 'a -> b',
      target: 'target',
    });
    // The size matches no split (a server showing the target's size): the first arrow wins.
    expect(unix('lrwxrwxrwx   1 0 0 4096 Nov 21 06:36 x -> y -> z')).toMatchObject({
      name: 'x',
      target: 'y -> z',
    });
    // Lengths count bytes: a 2-byte UTF-8 character is 2 latin1 characters.
    expect(unix(`lrwxrwxrwx 1 0 0 6 Nov 21 06:36 ${wire('l -> à -> é')}`)).toMatchObject({
      name: 'l',
      target: wire('à -> é'),
    });
    // No arrow at all (a server hiding targets), and a name that is a leading arrow.
    expect(unix('lrwxrwxrwx 1 0 0 9 Nov 21 06:36 link')).toMatchObject({ name: 'link' });
    expect(unix('lrwxrwxrwx 1 0 0 9 Nov 21 06:36 link')).not.toHaveProperty('target');
    expect(unix('lrwxrwxrwx 1 0 0 1 Nov 21 06:36  -> x')).toMatchObject({ name: ' -> x' });
  });

  it('tolerates a missing group column (ls -lG / ls -o)', () => {
    const entry = unix('-rw-r--r-- 1 ftp 1234 Jan 15  2024 nogroup.txt');
    expect(entry).toMatchObject({ owner: 'ftp', size: 1234n, name: 'nogroup.txt' });
    expect(entry).not.toHaveProperty('group');
  });

  it('reads BSD ls -T dates (seconds and year)', () => {
    expect(unix('-rw-r--r--  1 501  20  5 Jan 15 10:30:15 2020 t.txt')).toMatchObject({
      name: 't.txt',
      modify: utc('2020-01-15T10:30:15'),
    });
  });

  it('infers the year of Mon DD HH:MM dates around the year boundary', () => {
    const now = utc('2025-01-10T12:00:00');
    const modify = (date: string) => unix(`-rw-r--r-- 1 0 0 1 ${date} f`, now)?.modify;
    expect(modify('Dec 31 23:59')).toEqual(utc('2024-12-31T23:59:00'));
    expect(modify('Jan  1 00:00')).toEqual(utc('2025-01-01T00:00:00'));
    expect(modify('Jan 10 13:00')).toEqual(utc('2025-01-10T13:00:00')); // an hour ahead: clock skew
    expect(modify('Jul 15 00:00')).toEqual(utc('2024-07-15T00:00:00')); // >6 months ahead: last year
    expect(modify('Jul  9 00:00')).toEqual(utc('2025-07-09T00:00:00')); // <6 months ahead (BSD ls)
    expect(modify('Aug 20 08:15')).toEqual(utc('2024-08-20T08:15:00'));
    // Listed in late December, a January date is just ahead.
    expect(unix('-rw-r--r-- 1 0 0 1 Jan  2 03:04 f', utc('2025-12-30T00:00:00'))?.modify).toEqual(
      utc('2026-01-02T03:04:00'),
    );
    // Feb 29 goes to the latest leap year that fits.
    expect(modify('Feb 29 10:00')).toEqual(utc('2024-02-29T10:00:00'));
    expect(unix('-rw-r--r-- 1 0 0 1 Feb 29 10:00 f', utc('2028-01-10T00:00:00'))?.modify).toEqual(
      utc('2028-02-29T10:00:00'),
    );
    expect(inferYear(1, 29, 0, 0, 0, utc('2101-06-01T00:00:00'))).toEqual(utc('2096-02-29T00:00:00'));
  });

  it('rejects impossible dates and unknown months', () => {
    expect(unix('-rw-r--r-- 1 0 0 1 Feb 30 10:00 f')).toBeUndefined();
    expect(unix('-rw-r--r-- 1 0 0 1 Feb 29  2023 f')).toBeUndefined();
    expect(unix('-rw-r--r-- 1 0 0 1 Jan 12 24:00 f')).toBeUndefined();
    expect(unix('-rw-r--r-- 1 0 0 1 Jan 12 10:60 f')).toBeUndefined();
    expect(unix('-rw-r--r-- 1 0 0 1 Jan 32  2020 f')).toBeUndefined();
    expect(unix('-rw-r--r-- 1 0 0 1 Okt 12  2020 f')).toBeUndefined();
    expect(unix('-rw-r--r-- 1 0 0 1 JAN 12  2020 f')?.modify).toEqual(utc('2020-01-12T00:00:00'));
  });
});

describe('Windows/IIS lines', () => {
  it('parses <DIR> entries and sizes, with AM/PM', () => {
    expect(parseDosListLine('01-15-24  10:30AM       <DIR>          Program Files')).toEqual({
      format: 'dos',
      type: 'dir',
      name: 'Program Files',
      modify: utc('2024-01-15T10:30:00'),
    } satisfies ListEntry);
    expect(parseDosListLine('12-31-99  11:59PM             12345 old report.txt')).toEqual({
      format: 'dos',
      type: 'file',
      name: 'old report.txt',
      size: 12345n,
      modify: utc('1999-12-31T23:59:00'),
    } satisfies ListEntry);
    expect(parseDosListLine('02-01-24  12:00AM                 0 midnight')?.modify).toEqual(
      utc('2024-02-01T00:00:00'),
    );
    expect(parseDosListLine('02-01-24  12:05PM                 0 noon')?.modify).toEqual(
      utc('2024-02-01T12:05:00'),
    );
    expect(parseDosListLine('02-01-68  01:00pm  1 lower-case pm')?.modify).toEqual(
      utc('2068-02-01T13:00:00'),
    );
    expect(parseDosListLine('02-01-69  01:00AM  1 pivot')?.modify).toEqual(utc('1969-02-01T01:00:00'));
  });

  it('parses four-digit years and 24-hour times without AM/PM', () => {
    expect(parseDosListLine('10-05-2024  22:30                1234 24h.txt')).toMatchObject({
      type: 'file',
      name: '24h.txt',
      size: 1234n,
      modify: utc('2024-10-05T22:30:00'),
    });
    expect(parseDosListLine('10-05-2024  00:00       <DIR>          d')?.modify).toEqual(
      utc('2024-10-05T00:00:00'),
    );
  });

  it('keeps spaces inside and at the end of names and 8-bit bytes', () => {
    expect(parseDosListLine('01-15-24  10:30AM   5 a  b ')?.name).toBe('a  b ');
    expect(parseDosListLine(`01-15-24  10:30AM   5 ${wire('à la')}`)?.name).toBe(wire('à la'));
  });

  it('rejects impossible dates and times', () => {
    expect(parseDosListLine('13-01-24  10:30AM  1 month13')).toBeUndefined();
    expect(parseDosListLine('02-30-24  10:30AM  1 feb30')).toBeUndefined();
    expect(parseDosListLine('01-15-24  13:30PM  1 pm13')).toBeUndefined();
    expect(parseDosListLine('01-15-24  00:30AM  1 am0')).toBeUndefined();
    expect(parseDosListLine('01-15-24  24:00  1 h24')).toBeUndefined();
    expect(parseDosListLine('01-15-24  10:30AM  <JUNCTION> j')).toBeUndefined();
    expect(parseDosListLine('01-15-24  10:30AM  5')).toBeUndefined();
  });
});

describe('format detection and the line parser', () => {
  it('detects DOS listings by a leading digit (mod_proxy dirlist.c misreads October and December)', () => {
    expect(detectListFormat('10-05-24  10:30AM  <DIR> oct')).toBe('dos'); // mod_proxy: unix
    expect(detectListFormat('12-05-24  10:30AM  <DIR> dec')).toBe('dos'); // mod_proxy: unix
    expect(detectListFormat('2024-05-01 x')).toBe('dos');
    expect(detectListFormat('01-05-24  10:30AM  <DIR> jan')).toBe('dos');
    expect(detectListFormat('drwxr-xr-x 2 0 0 4096 Jan  1  2020 d')).toBe('unix');
    expect(detectListFormat('garbage')).toBe('unix');
    expect(isTotalLine('total 4')).toBe(true);
    expect(isTotalLine('total 0  ')).toBe(true);
    expect(isTotalLine('totally 4')).toBe(false);
  });

  it('detects once, on the first line that is not blank or total, and reports what does not parse', () => {
    const skipped: [string, SkipReason][] = [];
    const parser = new ListLineParser({
      now: NOW,
      onSkippedLine: (line, reason) => skipped.push([line, reason]),
    });
    expect(parser.format).toBeUndefined();
    expect(parser.parse('')).toBeUndefined();
    expect(parser.parse('total 12')).toBeUndefined();
    expect(parser.format).toBeUndefined();
    expect(parser.parse('10-05-24  10:30AM       <DIR>          October')).toMatchObject({ name: 'October' });
    expect(parser.format).toBe('dos');
    // A Unix line inside a DOS listing is not one of its entries.
    expect(parser.parse('-rw-r--r-- 1 0 0 1 Jan  1  2020 unix')).toBeUndefined();
    expect(parser.parse('garbage')).toBeUndefined();
    expect(parser.parse('total 3')).toBeUndefined();
    expect(parser.parse('11-05-24  10:30AM  7 file')).toMatchObject({ name: 'file', size: 7n });
    expect(skipped).toEqual([
      ['-rw-r--r-- 1 0 0 1 Jan  1  2020 unix', 'unparseable'],
      ['garbage', 'unparseable'],
    ]);
  });

  it('reports garbage in a Unix listing and carries on', () => {
    const skipped: string[] = [];
    const parser = new ListLineParser({ now: NOW, onSkippedLine: (line) => skipped.push(line) });
    const lines = [
      'total 8',
      'drwxr-xr-x 2 0 0 4096 Jan  1  2020 .',
      'ls: cannot access x: Permission denied',
      'drwxr-xr-x',
      '-rw-r--r-- 1 0 0 x Jan  1  2020 bad-size',
      '-rw-r--r-- 1 0 0 5 Jan  1  2020 good',
      '   ',
    ];
    expect(lines.map((line) => parser.parse(line)?.name)).toEqual([
      undefined,
      '.',
      undefined,
      undefined,
      undefined,
      'good',
      undefined,
    ]);
    expect(parser.format).toBe('unix');
    expect(skipped).toEqual([lines[2], lines[3], lines[4]]);
  });
});
