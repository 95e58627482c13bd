import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MLST_FACTS,
  type MlstFact,
  parseOptsMlst,
} from '../../../../../edge-worker/ftp/dirlist/facts.js';
import type { SkipReason } from '../../../../../edge-worker/ftp/dirlist/list-line.js';
import {
  createMlsdTransform,
  DEFAULT_MAX_LINE_LENGTH,
  listCommandFor,
  type MlsdTransformOptions,
} from '../../../../../edge-worker/ftp/dirlist/mlsd-transform.js';

const NOW = new Date('2026-11-21T07:00:00Z');

/** ProFTPD's `LIST -aln` of a test home (captured from the real server, plus a setuid file and devices). */
const PROFTPD_LISTING = [
  'total 52',
  'drwxr-xr-x   5 65534    65534        4096 Nov 21 06:36 .',
  'drwxr-xr-x   5 65534    65534        4096 Nov 21 06:36 ..',
  '-rw-r--r--   1 65534    65534           1 Nov 21 06:36  leading',
  '-rw-r--r--   1 65534    65534           1 Nov 21 06:36 arrow -> name',
  'prw-r--r--   1 65534    65534           0 Nov 21 06:36 fifo',
  'lrwxrwxrwx   1 65534    65534           9 Nov 21 06:36 link -> plain.txt',
  '-rw-r--r--   1 65534    65534           1 Mar  4  2019 old.txt',
  '-rw-r-Sr--   1 65534    65534           1 Nov 21 06:36 sgid',
  'drwxrwxrwt   2 65534    65534        4096 Nov 21 06:36 sticky',
  '-rwsr-xr-x   1 65534    65534           1 Nov 21 06:36 suid',
  'crw-rw-rw-   1 0        0          1,   3 Nov 20 10:34 null',
  'brw-rw----   1 0        6          7,   0 Nov 20 10:34 loop0',
  'srwxrwxrwx   1 0        0               0 Nov 20 10:34 socket',
  'lrwxrwxrwx   1 65534    65534           6 Nov 21 06:36 weird link -> a -> b',
  '-rw-r--r--   1 65534    65534           1 Jun  1 08:15 with  two spaces.txt',
];

const PROFTPD_MLSD = [
  'modify=20261121063600;perm=cdeflmp;size=4096;type=cdir;UNIX.group=65534;UNIX.mode=0755;UNIX.owner=65534; .',
  'modify=20261121063600;perm=cdeflmp;size=4096;type=pdir;UNIX.group=65534;UNIX.mode=0755;UNIX.owner=65534; ..',
  'modify=20261121063600;perm=adfrw;size=1;type=file;UNIX.group=65534;UNIX.mode=0644;UNIX.owner=65534;  leading',
  'modify=20261121063600;perm=adfrw;size=1;type=file;UNIX.group=65534;UNIX.mode=0644;UNIX.owner=65534; arrow -> name',
  'modify=20261121063600;perm=adfrw;size=0;type=OS.unix=pipe;UNIX.group=65534;UNIX.mode=0644;UNIX.owner=65534; fifo',
  'modify=20261121063600;perm=adfrw;size=9;type=OS.unix=symlink;UNIX.group=65534;UNIX.mode=0777;UNIX.owner=65534; link',
  'modify=20190304000000;perm=adfrw;size=1;type=file;UNIX.group=65534;UNIX.mode=0644;UNIX.owner=65534; old.txt',
  'modify=20261121063600;perm=adfrw;size=1;type=file;UNIX.group=65534;UNIX.mode=02644;UNIX.owner=65534; sgid',
  'modify=20261121063600;perm=cdeflmp;size=4096;type=dir;UNIX.group=65534;UNIX.mode=01777;UNIX.owner=65534; sticky',
  'modify=20261121063600;perm=adfrw;size=1;type=file;UNIX.group=65534;UNIX.mode=04755;UNIX.owner=65534; suid',
  'modify=20261120103400;perm=adfrw;type=OS.unix=chardev;UNIX.group=0;UNIX.mode=0666;UNIX.owner=0; null',
  'modify=20261120103400;perm=adfrw;type=OS.unix=blockdev;UNIX.group=6;UNIX.mode=0660;UNIX.owner=0; loop0',
  'modify=20261120103400;perm=adfrw;size=0;type=OS.unix=socket;UNIX.group=0;UNIX.mode=0777;UNIX.owner=0; socket',
  'modify=20261121063600;perm=adfrw;size=6;type=OS.unix=symlink;UNIX.group=65534;UNIX.mode=0777;UNIX.owner=65534; weird link',
  'modify=20260601081500;perm=adfrw;size=1;type=file;UNIX.group=65534;UNIX.mode=0644;UNIX.owner=65534; with  two spaces.txt',
];

interface RunResult {
  output: string;
  skipped: [string, SkipReason][];
}

/** Streams `chunks` through a transform and collects the MLSD text (latin1) and the skipped lines. */
async function run(chunks: Buffer[], options: Partial<MlsdTransformOptions> = {}): Promise<RunResult> {
  const skipped: [string, SkipReason][] = [];
  const transform = createMlsdTransform({
    facts: DEFAULT_MLST_FACTS,
    useSlink: false,
    now: NOW,
    onSkippedLine: (line, reason) => skipped.push([line, reason]),
    ...options,
  });
  const out: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      out.push(chunk);
      callback();
    },
  });
  await pipeline(Readable.from(chunks, { objectMode: false }), transform, sink);
  return { output: Buffer.concat(out).toString('latin1'), skipped };
}

const lines = (text: string[], eol = '\n') =>
  Buffer.from(text.map((line) => `${line}${eol}`).join(''), 'latin1');
const mlsd = (text: string[]) => text.map((line) => `${line}\r\n`).join('');

/** Small deterministic PRNG (mulberry32), so a failing chunking is reproducible. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function split(buffer: Buffer, sizes: () => number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < buffer.length; ) {
    const size = Math.max(1, Math.floor(sizes()));
    chunks.push(buffer.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

describe('createMlsdTransform', () => {
  it('translates a Unix listing with all default facts', async () => {
    const { output, skipped } = await run([lines(PROFTPD_LISTING)]);
    expect(output).toBe(mlsd(PROFTPD_MLSD));
    expect(skipped).toEqual([]);
  });

  it('gives the same output for any chunking, CRLF or LF, with or without a final line break', async () => {
    const expected = mlsd(PROFTPD_MLSD);
    const variants = [
      lines(PROFTPD_LISTING),
      lines(PROFTPD_LISTING, '\r\n'),
      lines(PROFTPD_LISTING).subarray(0, -1),
      lines(PROFTPD_LISTING, '\r\n').subarray(0, -2),
    ];
    for (const input of variants) {
      expect((await run([input])).output).toBe(expected);
      expect((await run(split(input, () => 1))).output).toBe(expected);
      for (let seed = 1; seed <= 20; seed++) {
        const next = random(seed);
        expect((await run(split(input, () => 1 + next() * 40))).output).toBe(expected);
      }
      // CR and LF in separate chunks.
      const crlf = input.indexOf('\r\n');
      if (crlf >= 0) {
        const parts = [input.subarray(0, crlf + 1), input.subarray(crlf + 1)];
        expect((await run(parts)).output).toBe(expected);
      }
    }
    // An empty listing.
    expect(await run([])).toEqual({ output: '', skipped: [] });
    expect(await run([Buffer.from('total 0\r\n')])).toEqual({ output: '', skipped: [] });
  });

  it('passes name bytes through unchanged (latin1 and UTF-8 names)', async () => {
    const names = [Buffer.from('caf\xe9', 'latin1'), Buffer.from('à la carte Åse ☃', 'utf8')];
    const input = Buffer.concat(
      names.flatMap((name) => [
        Buffer.from('-rw-r--r-- 1 0 0 5 Jan  1  2020 ', 'latin1'),
        name,
        Buffer.from('\n'),
      ]),
    );
    const out: Buffer[] = [];
    const transform = createMlsdTransform({ facts: new Set<MlstFact>(['size']), useSlink: false, now: NOW });
    transform.on('data', (chunk: Buffer) => out.push(chunk));
    for (const byte of input) transform.write(Buffer.from([byte]));
    transform.end();
    await new Promise((resolve) => transform.on('end', resolve));
    const expected = Buffer.concat(
      names.flatMap((name) => [Buffer.from('size=5; '), name, Buffer.from('\r\n')]),
    );
    expect(Buffer.concat(out).equals(expected)).toBe(true);
  });

  it('honours the OPTS MLST selection and UseSlink', async () => {
    const input = lines([
      'drwxr-xr-x 2 0 0 4096 Jan  1  2020 .',
      'lrwxrwxrwx 1 0 0 9 Jan  1  2020 link -> plain.txt',
      'lrwxrwxrwx 1 0 0 13 Jan  1  2020 fd -> /proc/self/fd',
      'lrwxrwxrwx 1 0 0 8 Jan  1  2020 spaced -> has a sp',
      '-rw-r--r-- 1 0 0 5 Jan  1  2020 plain.txt',
    ]);
    const facts = parseOptsMlst('TYPE;unix.mode;') ?? new Set<MlstFact>();
    expect((await run([input], { facts, useSlink: true })).output).toBe(
      mlsd([
        'type=cdir;UNIX.mode=0755; .',
        'type=OS.unix=slink:plain.txt;UNIX.mode=0777; link',
        'type=OS.unix=slink:/proc/self/fd;UNIX.mode=0777; fd',
        'type=OS.unix=symlink;UNIX.mode=0777; spaced',
        'type=file;UNIX.mode=0644; plain.txt',
      ]),
    );
    expect((await run([input], { facts, useSlink: false })).output).toContain(
      'type=OS.unix=symlink;UNIX.mode=0777; link\r\n',
    );
    expect((await run([input], { facts: new Set(), useSlink: true })).output).toBe(
      mlsd([' .', ' link', ' fd', ' spaced', ' plain.txt']),
    );
  });

  it('translates LIST -al output into the name facts', async () => {
    const input = lines(['-rw-r--r--   1 ftpx     65534           1 Nov 21 06:36 x']);
    const facts =
      parseOptsMlst('UNIX.owner;UNIX.ownername;UNIX.group;UNIX.groupname;') ?? new Set<MlstFact>();
    expect((await run([input], { facts })).output).toBe(mlsd(['UNIX.group=65534;UNIX.ownername=ftpx; x']));
  });

  it('translates a Windows/IIS listing, whatever the month of the first entry', async () => {
    const input = lines(
      [
        '10-05-24  10:30PM       <DIR>          Program Files',
        '12-31-99  11:59PM             12345 old report.txt',
        '01-02-2024  13:05                 0 empty',
        'garbage',
      ],
      '\r\n',
    );
    const { output, skipped } = await run([input]);
    expect(output).toBe(
      mlsd([
        'modify=20241005223000;type=dir; Program Files',
        'modify=19991231235900;size=12345;type=file; old report.txt',
        'modify=20240102130500;size=0;type=file; empty',
      ]),
    );
    expect(skipped).toEqual([['garbage', 'unparseable']]);
  });

  it('skips and reports garbage lines but not total or blank lines', async () => {
    const { output, skipped } = await run([
      lines([
        'total 8',
        'ls: ./secret: Permission denied',
        '',
        '-rw-r--r-- 1 0 0 5 Jan  1  2020 ok',
        'drwxr-xr-x 2 0 0 4096 Smarch 1  2020 bad-month',
        '   ',
      ]),
    ]);
    expect(output).toBe(
      mlsd([
        'modify=20200101000000;perm=adfrw;size=5;type=file;UNIX.group=0;UNIX.mode=0644;UNIX.owner=0; ok',
      ]),
    );
    expect(skipped).toEqual([
      ['ls: ./secret: Permission denied', 'unparseable'],
      ['drwxr-xr-x 2 0 0 4096 Smarch 1  2020 bad-month', 'unparseable'],
    ]);
  });

  it('drops overlong lines without growing its buffer, and carries on', async () => {
    const long = `-rw-r--r-- 1 0 0 5 Jan  1  2020 ${'n'.repeat(200_000)}`;
    for (const tail of ['\n-rw-r--r-- 1 0 0 5 Jan  1  2020 after\n', '']) {
      const input = Buffer.from(`-rw-r--r-- 1 0 0 5 Jan  1  2020 before\n${long}${tail}`, 'latin1');
      const skipped: [string, SkipReason][] = [];
      const transform = createMlsdTransform({
        facts: new Set<MlstFact>(['size']),
        useSlink: false,
        now: NOW,
        onSkippedLine: (line, reason) => skipped.push([line, reason]),
      });
      let output = '';
      transform.on('data', (chunk: Buffer) => {
        output += chunk.toString('latin1');
      });
      let maxPending = 0;
      for (const chunk of split(input, () => 1000)) {
        await new Promise<void>((resolve, reject) =>
          transform.write(chunk, (error) => (error ? reject(error) : resolve())),
        );
        maxPending = Math.max(maxPending, transform.pendingLength);
      }
      transform.end();
      await new Promise((resolve) => transform.on('end', resolve));
      expect(maxPending).toBeLessThanOrEqual(DEFAULT_MAX_LINE_LENGTH);
      expect(output).toBe(tail === '' ? 'size=5; before\r\n' : 'size=5; before\r\nsize=5; after\r\n');
      expect(skipped).toEqual([[long.slice(0, 256), 'overlong']]);
    }
  });

  it('honours a smaller maxLineLength, counting the line without its line break', async () => {
    const ok = '-rw-r--r-- 1 0 0 5 Jan  1  2020 12345';
    const tooLong = `${ok}6`;
    const { output, skipped } = await run([lines([ok, tooLong, ok])], {
      facts: new Set<MlstFact>(['size']),
      maxLineLength: ok.length,
    });
    expect(output).toBe(mlsd(['size=5; 12345', 'size=5; 12345']));
    expect(skipped).toEqual([[tooLong, 'overlong']]);
  });

  it('streams a 5,000-entry listing holding at most one partial line', async () => {
    const next = random(42);
    const listing: string[] = ['total 20000'];
    for (let i = 0; i < 5000; i++) {
      const name = `file ${i} ${'x'.repeat(Math.floor(next() * 200))}`;
      const month = ['Jan', 'Jun', 'Nov'][i % 3];
      listing.push(
        `-rw-r--r--   1 1000     1000     ${String(i * 7919).padStart(10)} ${month} ${(i % 28) + 1} 12:34 ${name}`,
      );
    }
    const longestLine = Math.max(...listing.map((line) => line.length));
    const input = lines(listing, '\r\n');

    const transform = createMlsdTransform({ facts: DEFAULT_MLST_FACTS, useSlink: false, now: NOW });
    let outputLines = 0;
    let outputBytes = 0;
    let tail = '';
    transform.on('data', (chunk: Buffer) => {
      const text = tail + chunk.toString('latin1');
      const parts = text.split('\r\n');
      tail = parts.pop() ?? '';
      outputLines += parts.length;
      outputBytes += chunk.length;
    });
    let maxPending = 0;
    for (const chunk of split(input, () => 1 + next() * 8192)) {
      await new Promise<void>((resolve, reject) =>
        transform.write(chunk, (error) => (error ? reject(error) : resolve())),
      );
      maxPending = Math.max(maxPending, transform.pendingLength);
    }
    transform.end();
    await new Promise((resolve) => transform.on('end', resolve));

    expect(outputLines).toBe(5000);
    expect(tail).toBe('');
    expect(outputBytes).toBeGreaterThan(0);
    // Never more than one line is held back (the held part excludes the line break, and may include a CR).
    expect(maxPending).toBeLessThanOrEqual(longestLine + 1);
    expect(maxPending).toBeGreaterThan(0);

    // The same listing in one piece gives the same bytes.
    const whole = await run([input]);
    expect(whole.output.split('\r\n').length - 1).toBe(5000);
    expect(whole.skipped).toEqual([]);
  });
});

describe('listCommandFor', () => {
  it('asks for numeric ids unless a name fact is selected, and appends the path', () => {
    expect(listCommandFor(DEFAULT_MLST_FACTS)).toBe('LIST -al');
    expect(listCommandFor(new Set<MlstFact>(['size', 'type', 'UNIX.owner', 'UNIX.group']))).toBe('LIST -aln');
    expect(listCommandFor(new Set<MlstFact>(['UNIX.ownername']))).toBe('LIST -al');
    expect(listCommandFor(new Set<MlstFact>(['UNIX.groupname']))).toBe('LIST -al');
    expect(listCommandFor(new Set<MlstFact>())).toBe('LIST -aln');
    expect(listCommandFor(new Set<MlstFact>(['size']), 'sub dir/x')).toBe('LIST -aln sub dir/x');
    expect(listCommandFor(new Set<MlstFact>(['size']), '')).toBe('LIST -aln');
  });
});
