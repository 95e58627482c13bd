import { execFileSync } from 'node:child_process';
import { chmod, mkdir, readdir, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_MLST_FACTS,
  type MlstFact,
  parseOptsMlst,
} from '../../../../../edge-worker/ftp/dirlist/facts.js';
import { isTotalLine, type SkipReason } from '../../../../../edge-worker/ftp/dirlist/list-line.js';
import {
  createMlsdTransform,
  listCommandFor,
} from '../../../../../edge-worker/ftp/dirlist/mlsd-transform.js';
import { type FtpBackend, type FtpBackendKind, startFtpBackend } from '../../../../support/ftp-backends.js';
import { curl } from '../../../../support/ftp-clients.js';

// Real LIST output from ProFTPD, vsftpd and pure-ftpd, captured with curl and translated: every entry must
// come out as an MLSD line with the right facts, and names byte for byte.

const KINDS: FtpBackendKind[] = ['proftpd', 'vsftpd', 'pure-ftpd'];
const WIDE_ENTRIES = 500;

/** A recent mtime on a whole minute (ls shows no seconds), well inside the six-month HH:MM window. */
const RECENT = new Date(Math.floor((Date.now() - 3 * 86_400_000) / 60_000) * 60_000);
const OLD = new Date('2019-03-04T12:00:00Z');
const LATIN1_NAME = Buffer.from('caf\xe9 latin1', 'latin1');
const UTF8_NAME = Buffer.from('à la carte Åse ☃', 'utf8');

const modifyOf = (date: Date) => date.toISOString().replace(/[-T:]/g, '').slice(0, 14);

async function populate(home: string): Promise<void> {
  const at = (name: string | Buffer) =>
    typeof name === 'string' ? join(home, name) : Buffer.concat([Buffer.from(`${home}/`), name]);
  await writeFile(at('plain.txt'), 'hello');
  await writeFile(at('with  two spaces.txt'), 'x');
  await writeFile(at(' leading'), 'x');
  await writeFile(at('arrow -> name'), 'x');
  await writeFile(at(LATIN1_NAME), 'x');
  await writeFile(at(UTF8_NAME), 'x');
  await writeFile(at('old.txt'), 'x');
  await writeFile(at('suid'), 'x');
  await writeFile(at('sgid'), 'x');
  await mkdir(at('sticky'));
  await mkdir(at('sub dir'));
  await mkdir(at('wide'));
  for (let i = 0; i < WIDE_ENTRIES; i++) {
    await writeFile(at(`wide/entry ${String(i).padStart(4, '0')} ${'w'.repeat(i % 97)}`), 'y'.repeat(i));
  }
  await symlink('plain.txt', at('link'));
  await symlink('a -> b', at('weird link'));
  execFileSync('mkfifo', [at('fifo') as string]);
  const { uid, gid } = await stat(home);
  execFileSync('chown', ['-hR', `${uid}:${gid}`, home]);
  // After chown, which clears setuid/setgid.
  await chmod(at('suid'), 0o4755);
  await chmod(at('sgid'), 0o2644);
  await chmod(at('sticky'), 0o1777);
  await utimes(at('plain.txt'), RECENT, RECENT);
  await utimes(at('old.txt'), OLD, OLD);
}

interface Translation {
  list: Buffer;
  mlsd: Buffer;
  skipped: [string, SkipReason][];
  /** name (latin1) → fact name (lower case) → value */
  entries: Map<string, Map<string, string>>;
}

async function translate(
  backend: FtpBackend,
  facts: ReadonlySet<MlstFact>,
  options: { path?: string; useSlink?: boolean } = {},
): Promise<Translation> {
  const command = listCommandFor(facts, options.path);
  const url = `ftp://${backend.user}:${backend.password}@${backend.host}:${backend.port}/`;
  const run = await curl(['-X', command, url]);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  const skipped: [string, SkipReason][] = [];
  const transform = createMlsdTransform({
    facts,
    useSlink: options.useSlink ?? false,
    onSkippedLine: (line, reason) => skipped.push([line, reason]),
  });
  const out: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      out.push(chunk);
      callback();
    },
  });
  // Byte-sized reads: the worst chunking a data connection can produce.
  const bytes = [...run.stdout].map((byte) => Buffer.from([byte]));
  await pipeline(Readable.from(bytes), transform, sink);
  const mlsd = Buffer.concat(out);
  const entries = new Map<string, Map<string, string>>();
  for (const line of mlsd.toString('latin1').split('\r\n').slice(0, -1)) {
    const space = line.indexOf(' ');
    const factMap = new Map<string, string>();
    for (const fact of line.slice(0, space).split(';').filter(Boolean)) {
      const eq = fact.indexOf('=');
      factMap.set(fact.slice(0, eq).toLowerCase(), fact.slice(eq + 1));
    }
    entries.set(line.slice(space + 1), factMap);
  }
  return { list: run.stdout, mlsd, skipped, entries };
}

/** The data lines of a LIST reply (no `total`, no blank lines). */
const dataLines = (list: Buffer) =>
  list
    .toString('latin1')
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '' && !isTotalLine(line));

describe.each(KINDS)('%s LIST output', (kind) => {
  let backend: FtpBackend;
  let homeNames: string[];

  beforeAll(async () => {
    backend = await startFtpBackend(kind);
    await populate(backend.homeDir);
    homeNames = (await readdir(backend.homeDir, { encoding: 'buffer' })).map((name) =>
      name.toString('latin1'),
    );
  });

  afterAll(async () => {
    await backend?.stop();
  });

  it('translates every entry of LIST -aln with the right facts', async () => {
    const numericFacts = new Set(DEFAULT_MLST_FACTS);
    numericFacts.delete('UNIX.ownername');
    numericFacts.delete('UNIX.groupname');
    expect(listCommandFor(numericFacts)).toBe('LIST -aln');
    const { list, mlsd, skipped, entries } = await translate(backend, numericFacts);

    expect(skipped).toEqual([]);
    const lines = dataLines(list);
    expect(entries.size).toBe(lines.length);
    expect(mlsd.toString('latin1').split('\r\n').length - 1).toBe(lines.length);

    // Names byte for byte: everything in the home (pure-ftpd hides the fifo), plus . and ..
    const expectedNames = [...homeNames, '.', '..'].filter((name) => kind !== 'pure-ftpd' || name !== 'fifo');
    expect([...entries.keys()].sort()).toEqual(expectedNames.sort());
    expect(mlsd.includes(Buffer.concat([Buffer.from('; '), LATIN1_NAME, Buffer.from('\r\n')]))).toBe(true);
    expect(mlsd.includes(Buffer.concat([Buffer.from('; '), UTF8_NAME, Buffer.from('\r\n')]))).toBe(true);

    const facts = (name: string) => Object.fromEntries(entries.get(name) ?? []);
    const { uid } = await stat(backend.homeDir);
    // pure-ftpd prints local time; the others UTC (the test machines run in UTC, where both agree).
    const recentModify = [
      modifyOf(RECENT),
      modifyOf(new Date(RECENT.getTime() - RECENT.getTimezoneOffset() * 60_000)),
    ];
    expect(facts('plain.txt')).toMatchObject({
      perm: 'adfrw',
      size: '5',
      type: 'file',
      'unix.mode': '0644',
      'unix.owner': String(uid),
    });
    expect(recentModify).toContain(facts('plain.txt').modify);
    expect(facts('old.txt').modify).toBe('20190304000000');
    expect(facts('.')).toMatchObject({ type: 'cdir', perm: 'cdeflmp', 'unix.mode': '0755' });
    expect(facts('..')).toMatchObject({ type: 'pdir' });
    expect(facts('sub dir')).toMatchObject({ type: 'dir' });
    expect(facts('sticky')).toMatchObject({ type: 'dir', 'unix.mode': '01777' });
    expect(facts('suid')).toMatchObject({ type: 'file', 'unix.mode': '04755' });
    expect(facts('sgid')).toMatchObject({ type: 'file', 'unix.mode': '02644' });
    expect(facts(' leading')).toMatchObject({ type: 'file', size: '1' });
    expect(facts('with  two spaces.txt')).toMatchObject({ type: 'file' });
    expect(facts('arrow -> name')).toMatchObject({ type: 'file' });
    expect(facts('link')).toMatchObject({ type: 'OS.unix=symlink', size: '9' });
    expect(facts('weird link')).toMatchObject({ type: 'OS.unix=symlink', size: '6' });
    if (kind !== 'pure-ftpd') expect(facts('fifo')).toMatchObject({ type: 'OS.unix=pipe' });
    for (const entry of entries.values()) {
      expect(entry.has('unix.ownername')).toBe(false);
      expect(entry.get('modify')).toMatch(/^\d{14}$/);
    }
  });

  it('translates LIST -al for the name facts, with UseSlink targets', async () => {
    expect(listCommandFor(DEFAULT_MLST_FACTS)).toBe('LIST -al');
    const { list, skipped, entries } = await translate(backend, DEFAULT_MLST_FACTS, { useSlink: true });
    expect(skipped).toEqual([]);
    expect(entries.size).toBe(dataLines(list).length);
    const link = Object.fromEntries(entries.get('link') ?? []);
    expect(link.type).toBe('OS.unix=slink:plain.txt');
    // The target "a -> b" has blanks, which cannot be in a fact value.
    expect(entries.get('weird link')?.get('type')).toBe('OS.unix=symlink');
    for (const entry of entries.values()) {
      // Each server shows a name or an unmapped numeric id; either way one of the two facts.
      expect(entry.has('unix.owner') || entry.has('unix.ownername')).toBe(true);
      expect(entry.has('unix.group') || entry.has('unix.groupname')).toBe(true);
    }
  });

  // The path has no blank: pure-ftpd splits LIST arguments at blanks (`LIST -aln sub dir` lists nothing).
  it(`translates a wide directory (${WIDE_ENTRIES} entries) under OPTS MLST`, async () => {
    const facts = parseOptsMlst('size;type;') ?? new Set<MlstFact>();
    const { list, skipped, entries } = await translate(backend, facts, { path: 'wide' });
    expect(skipped).toEqual([]);
    expect(dataLines(list).length).toBe(WIDE_ENTRIES + 2);
    expect(entries.size).toBe(WIDE_ENTRIES + 2);
    for (let i = 0; i < WIDE_ENTRIES; i++) {
      const name = `entry ${String(i).padStart(4, '0')} ${'w'.repeat(i % 97)}`;
      expect(Object.fromEntries(entries.get(name) ?? [])).toEqual({ size: String(i), type: 'file' });
    }
  });
});
