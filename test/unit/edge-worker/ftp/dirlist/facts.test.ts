import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MLST_FACTS,
  factValue,
  formatFeatMlst,
  formatMlsxEntry,
  formatModify,
  formatOptsMlstReply,
  formatUnixMode,
  lookupMlstFact,
  MLST_FACTS,
  type MlstFact,
  parseOptsMlst,
  permFact,
  typeFact,
} from '../../../../../edge-worker/ftp/dirlist/facts.js';
import {
  type ListEntry,
  parseDosListLine,
  parseUnixListLine,
} from '../../../../../edge-worker/ftp/dirlist/list-line.js';

const NOW = new Date('2026-11-21T07:00:00Z');
const unix = (line: string) => {
  const entry = parseUnixListLine(line, NOW);
  if (entry === undefined) throw new Error(`unparseable: ${line}`);
  return entry;
};
const withMode = (type: string, perms: string, name = 'x') =>
  unix(`${type}${perms} 1 0 0 ${type === 'c' ? '1, 3' : '0'} Jan  1  2020 ${name}`);
const facts = (...names: MlstFact[]) => new Set<MlstFact>(names);

describe('fact list, OPTS MLST and FEAT', () => {
  it("offers mod_proxy's default facts except unique, all selected by default", () => {
    expect(MLST_FACTS).toEqual([
      'modify',
      'perm',
      'size',
      'type',
      'UNIX.group',
      'UNIX.groupname',
      'UNIX.mode',
      'UNIX.owner',
      'UNIX.ownername',
    ]);
    expect([...DEFAULT_MLST_FACTS]).toEqual(MLST_FACTS);
    expect(lookupMlstFact('unix.OWNERNAME')).toBe('UNIX.ownername');
    expect(lookupMlstFact('unique')).toBeUndefined();
  });

  it('parses OPTS MLST case-insensitively, ignoring unsupported facts, in canonical order', () => {
    expect([...(parseOptsMlst('type;size;') ?? [])]).toEqual(['size', 'type']);
    expect([...(parseOptsMlst('Type;UNIX.MODE;Perm;') ?? [])]).toEqual(['perm', 'type', 'UNIX.mode']);
    expect([...(parseOptsMlst('unix.ownername;UNIX.GROUP;modify') ?? [])]).toEqual([
      'modify',
      'UNIX.group',
      'UNIX.ownername',
    ]);
    expect([...(parseOptsMlst('size;size;SIZE;') ?? [])]).toEqual(['size']);
    // Unsupported facts (RFC 3659 7.9.2: "lang;type;charset;create;" selects just Type).
    expect([...(parseOptsMlst('lang;type;charset;create;unique;') ?? [])]).toEqual(['type']);
    expect([...(parseOptsMlst('fish;cakes;') ?? [])]).toEqual([]);
    // A bare OPTS MLST selects nothing.
    expect([...(parseOptsMlst('') ?? [])]).toEqual([]);
    expect([...(parseOptsMlst(undefined) ?? [])]).toEqual([]);
    expect([...(parseOptsMlst(';;') ?? [])]).toEqual([]);
    expect([...(parseOptsMlst('  size;  ') ?? [])]).toEqual(['size']);
  });

  it('rejects a fact list with blanks inside (RFC 3659: 501, selection unchanged)', () => {
    expect(parseOptsMlst('fish cakes;')).toBeUndefined();
    expect(parseOptsMlst('unique type;')).toBeUndefined();
    expect(parseOptsMlst('size; modify;')).toBeUndefined();
    expect(parseOptsMlst('size;\tmodify;')).toBeUndefined();
  });

  it('formats the OPTS MLST reply text', () => {
    expect(formatOptsMlstReply(facts('UNIX.mode', 'type', 'perm'))).toBe('MLST OPTS perm;type;UNIX.mode;');
    expect(formatOptsMlstReply(facts())).toBe('MLST OPTS');
    expect(formatOptsMlstReply(DEFAULT_MLST_FACTS)).toBe(
      'MLST OPTS modify;perm;size;type;UNIX.group;UNIX.groupname;UNIX.mode;UNIX.owner;UNIX.ownername;',
    );
  });

  it('formats the FEAT line, starring the selected facts', () => {
    expect(formatFeatMlst(DEFAULT_MLST_FACTS)).toBe(
      ' MLST modify*;perm*;size*;type*;UNIX.group*;UNIX.groupname*;UNIX.mode*;UNIX.owner*;UNIX.ownername*;',
    );
    expect(formatFeatMlst(parseOptsMlst('type;size;') ?? facts())).toBe(
      ' MLST modify;perm;size*;type*;UNIX.group;UNIX.groupname;UNIX.mode;UNIX.owner;UNIX.ownername;',
    );
    expect(formatFeatMlst(facts())).toBe(
      ' MLST modify;perm;size;type;UNIX.group;UNIX.groupname;UNIX.mode;UNIX.owner;UNIX.ownername;',
    );
  });
});

describe('fact values', () => {
  it('derives perm from the owner bits', () => {
    expect(permFact(withMode('-', 'rw-r--r--'))).toBe('adfrw');
    expect(permFact(withMode('-', 'r--r--r--'))).toBe('r');
    expect(permFact(withMode('-', '-w-------'))).toBe('adfw');
    expect(permFact(withMode('-', '---rwxrwx'))).toBe('');
    expect(permFact(withMode('-', 'rwsr-xr-x'))).toBe('adfrw');
    expect(permFact(withMode('d', 'rwxr-xr-x'))).toBe('cdeflmp');
    expect(permFact(withMode('d', 'r-xr-xr-x'))).toBe('el');
    expect(permFact(withMode('d', 'r--------'))).toBe('l');
    expect(permFact(withMode('d', '-wx------'))).toBe('cdefmp');
    expect(permFact(withMode('d', 'rwxrwxrwt', '.'))).toBe('cdeflmp');
    expect(permFact(withMode('d', 'rwSrwxrwx'))).toBe('cdflmp'); // setuid without execute
    expect(permFact(withMode('l', 'rwxrwxrwx'))).toBe('adfrw');
    expect(permFact(withMode('p', 'rw-------'))).toBe('adfrw');
    expect(permFact(withMode('c', 'r--------'))).toBe('r');
    expect(permFact(parseDosListLine('01-15-24  10:30AM  <DIR>  d') as ListEntry)).toBeUndefined();
  });

  it('names the type, with cdir/pdir and OS.unix types', () => {
    expect(typeFact(withMode('-', 'rw-r--r--'), false)).toBe('file');
    expect(typeFact(withMode('d', 'rwxr-xr-x'), false)).toBe('dir');
    expect(typeFact(withMode('d', 'rwxr-xr-x', '.'), false)).toBe('cdir');
    expect(typeFact(withMode('d', 'rwxr-xr-x', '..'), false)).toBe('pdir');
    expect(typeFact(withMode('d', 'rwxr-xr-x', '...'), false)).toBe('dir');
    expect(typeFact(withMode('-', 'rw-r--r--', '.'), false)).toBe('file');
    expect(typeFact(withMode('p', 'rw-r--r--'), false)).toBe('OS.unix=pipe');
    expect(typeFact(withMode('s', 'rwxrwxrwx'), false)).toBe('OS.unix=socket');
    expect(typeFact(withMode('c', 'rw-rw-rw-'), false)).toBe('OS.unix=chardev');
    expect(typeFact(unix('brw-rw---- 1 0 6 7, 0 Jan  1  2020 loop0'), false)).toBe('OS.unix=blockdev');
    expect(typeFact(parseDosListLine('01-15-24  10:30AM  <DIR>  ..') as ListEntry, false)).toBe('pdir');
    expect(typeFact(parseDosListLine('01-15-24  10:30AM  12  f') as ListEntry, false)).toBe('file');
  });

  it('names symlinks, with UseSlink showing safe targets', () => {
    const link = unix('lrwxrwxrwx 1 0 0 9 Jan  1  2020 link -> plain.txt');
    expect(typeFact(link, false)).toBe('OS.unix=symlink');
    expect(typeFact(link, true)).toBe('OS.unix=slink:plain.txt');
    expect(typeFact(unix('lrwxrwxrwx 1 0 0 13 Jan  1  2020 fd -> /proc/self/fd'), true)).toBe(
      'OS.unix=slink:/proc/self/fd',
    );
    // A target that would end the fact (;) or the facts (blank) falls back to plain symlink.
    expect(typeFact(unix('lrwxrwxrwx 1 0 0 3 Jan  1  2020 l -> a;b'), true)).toBe('OS.unix=symlink');
    expect(typeFact(unix('lrwxrwxrwx 1 0 0 6 Jan  1  2020 l -> a -> b'), true)).toBe('OS.unix=symlink');
    expect(typeFact(unix('lrwxrwxrwx 1 0 0 9 Jan  1  2020 link'), true)).toBe('OS.unix=symlink');
  });

  it('formats modify, UNIX.mode and the owner/group facts', () => {
    expect(formatModify(new Date('2024-02-29T03:04:05Z'))).toBe('20240229030405');
    expect(formatModify(new Date('0999-12-31T23:59:59Z'))).toBe('09991231235959');
    expect(formatUnixMode(0o644)).toBe('0644');
    expect(formatUnixMode(0o4755)).toBe('04755');
    expect(formatUnixMode(0o1777)).toBe('01777');
    expect(formatUnixMode(0)).toBe('0000');
    expect(formatUnixMode(0o7)).toBe('0007');
    const numeric = unix('-rw-r--r-- 1 1000 100 5 Jan  1  2020 f');
    const named = unix('-rw-r--r-- 1 alice users 5 Jan  1  2020 f');
    const mixed = unix('-rw-r--r-- 1 65534 nogroup 5 Jan  1  2020 f'); // pure-ftpd's LIST -aln
    const value = (entry: ListEntry, fact: MlstFact) => factValue(entry, fact, false);
    expect(
      ['UNIX.owner', 'UNIX.ownername', 'UNIX.group', 'UNIX.groupname'].map((f) =>
        value(numeric, f as MlstFact),
      ),
    ).toEqual(['1000', undefined, '100', undefined]);
    expect(
      ['UNIX.owner', 'UNIX.ownername', 'UNIX.group', 'UNIX.groupname'].map((f) =>
        value(named, f as MlstFact),
      ),
    ).toEqual([undefined, 'alice', undefined, 'users']);
    expect(
      ['UNIX.owner', 'UNIX.ownername', 'UNIX.group', 'UNIX.groupname'].map((f) =>
        value(mixed, f as MlstFact),
      ),
    ).toEqual(['65534', undefined, undefined, 'nogroup']);
    expect(value(unix('crw-rw-rw- 1 0 0 1, 3 Jan  1  2020 null'), 'size')).toBeUndefined();
    expect(value(unix('-rw-r--r-- 1 0 0 123456789012345678901 Jan  1  2020 huge'), 'size')).toBe(
      '123456789012345678901',
    );
  });
});

describe('MLSx entries', () => {
  const line = '-rwsr-xr-x   1 1000     100          1234 Nov 21 06:36 with  spaces';

  it('writes the selected facts in canonical order, then a space and the name', () => {
    expect(formatMlsxEntry(unix(line), { facts: DEFAULT_MLST_FACTS, useSlink: false })).toBe(
      'modify=20261121063600;perm=adfrw;size=1234;type=file;UNIX.group=100;UNIX.mode=04755;UNIX.owner=1000; with  spaces',
    );
    expect(formatMlsxEntry(unix(line), { facts: facts('UNIX.mode', 'type', 'size'), useSlink: false })).toBe(
      'size=1234;type=file;UNIX.mode=04755; with  spaces',
    );
  });

  it('keeps the separating space when no facts are selected or none apply', () => {
    expect(formatMlsxEntry(unix(line), { facts: facts(), useSlink: false })).toBe(' with  spaces');
    expect(formatMlsxEntry(unix(line), { facts: facts('UNIX.ownername'), useSlink: false })).toBe(
      ' with  spaces',
    );
    expect(
      formatMlsxEntry(unix('-rw-r--r-- 1 0 0 1 Jan  1  2020  lead'), { facts: facts(), useSlink: false }),
    ).toBe('  lead');
  });

  it('leaves out facts whose values cannot be written (an owner name with a ;)', () => {
    expect(
      formatMlsxEntry(unix('-rw-r--r-- 1 a;b users 1 Jan  1  2020 f'), {
        facts: DEFAULT_MLST_FACTS,
        useSlink: false,
      }),
    ).toBe('modify=20200101000000;perm=adfrw;size=1;type=file;UNIX.groupname=users;UNIX.mode=0644; f');
  });

  it('writes DOS entries with the facts a DOS listing has', () => {
    const dos = parseDosListLine('10-05-24  10:30PM       <DIR>          Program Files') as ListEntry;
    expect(formatMlsxEntry(dos, { facts: DEFAULT_MLST_FACTS, useSlink: true })).toBe(
      'modify=20241005223000;type=dir; Program Files',
    );
    const file = parseDosListLine('10-05-24  10:30PM             12345 a.txt') as ListEntry;
    expect(formatMlsxEntry(file, { facts: DEFAULT_MLST_FACTS, useSlink: true })).toBe(
      'modify=20241005223000;size=12345;type=file; a.txt',
    );
  });
});
