/**
 * Parses one line of a backend's LIST output (the `ProxyDirectoryListPolicy LIST` translation, reference
 * 3.14) into a structured entry.
 *
 * Lines are latin1 text (see `../control/wire.ts`): every byte of a file name is one character, so names in any
 * encoding survive the round trip to the MLSD output unchanged. For the same reason no pattern here uses
 * `\s`/`\S`: JavaScript counts U+0085 and U+00A0 as white space, and those are the latin1 readings of the
 * bytes 0x85 and 0xA0, which occur inside UTF-8 names ("Å" is C3 85, "à" is C3 A0). Fields are separated by
 * spaces and tabs only.
 *
 * Two formats are understood:
 * - Unix `ls -l`: `drwxr-sr-x+  2 1000 1000   4096 Jan 15 10:30 name`, with `major, minor` instead of the size
 *   for devices and `name -> target` for symlinks. Dates are `Mon DD HH:MM` (year inferred, see
 *   {@link inferYear}), `Mon DD  YYYY`, or BSD `ls -T`'s `Mon DD HH:MM:SS YYYY`.
 * - Windows/IIS (DOS): `01-15-24  10:30AM       <DIR>          name` or `01-15-2024  22:30   1234 name`.
 *
 * Dates carry no time zone; they are taken as UTC, which is what ProFTPD (`TimesGMT on`, its default) and
 * vsftpd (`use_localtime=NO`, its default) print.
 */

export type ListFormat = 'unix' | 'dos';

export type ListEntryType = 'file' | 'dir' | 'symlink' | 'pipe' | 'socket' | 'chardev' | 'blockdev';

export interface ListEntry {
  format: ListFormat;
  type: ListEntryType;
  /** The name exactly as listed (latin1 text of the bytes), without a symlink's ` -> target`. */
  name: string;
  /** A symlink's target, when the listing showed one. */
  target?: string;
  /** Permission bits including setuid (0o4000), setgid (0o2000) and sticky (0o1000); Unix format only. */
  mode?: number;
  /** Link count; Unix format only. */
  links?: number;
  /** The owner column as listed: a numeric uid (`LIST -aln`) or a user name (`LIST -al`). */
  owner?: string;
  /** The group column as listed: a numeric gid or a group name. */
  group?: string;
  /** Size in bytes; absent for devices (which list `major, minor`) and for DOS `<DIR>` entries. */
  size?: bigint;
  /** Device numbers of a character or block device. */
  device?: { major: number; minor: number };
  /** Modification time, taken as UTC; seconds are 0 unless the listing showed them. */
  modify: Date;
}

export type SkipReason = 'unparseable' | 'overlong';

export interface ListLineParserOptions {
  /** The reference time for the year of `Mon DD HH:MM` dates; defaults to the time of construction. */
  now?: Date;
  /** Called with every line that is neither an entry, a `total N` line nor blank. */
  onSkippedLine?: (line: string, reason: SkipReason) => void;
}

/**
 * Half a mean Gregorian year, the "six months" within which `ls` prints `HH:MM` instead of the year
 * (GNU ls uses exactly this; BSD ls uses six months in either direction).
 */
export const RECENT_WINDOW_MS = 15_778_476_000;

const MONTHS: Readonly<Record<string, number>> = {
  jan: 0,
  feb: 1,
  mar: 2,
  apr: 3,
  may: 4,
  jun: 5,
  jul: 6,
  aug: 7,
  sep: 8,
  oct: 9,
  nov: 10,
  dec: 11,
};

const TYPES: Readonly<Record<string, ListEntryType>> = {
  '-': 'file',
  d: 'dir',
  l: 'symlink',
  p: 'pipe',
  s: 'socket',
  c: 'chardev',
  b: 'blockdev',
};

/**
 * Unix `ls -l` line. Groups: 1 type, 2 permissions, 3 links, 4 owner, 5 group (optional: `ls -lG`),
 * 6 size or 7/8 device major/minor, 9 month, 10 day, 11 time or year (12 year after a time with seconds),
 * 13 name. After the mode one of `+` (ACL), `@` (macOS xattrs) or `.` (SELinux context) may follow.
 * The name starts after exactly one space following the time/year field (`ls` right-aligns the year in the
 * time's 5-column field, so `Mar  4  2019 name` has two spaces before the year and one after), so a name's
 * own leading spaces are kept.
 */
const UNIX_LINE =
  /^([-dlpscb])([-r][-w][-xsS][-r][-w][-xsS][-r][-w][-xtT])[+@.]?[ \t]+(\d+)[ \t]+([^ \t]+)[ \t]+(?:([^ \t]+)[ \t]+)?(?:(\d+)|(\d+),[ \t]*(\d+))[ \t]+([A-Za-z]{3})[ \t]+(\d{1,2})[ \t]+(\d{1,2}:\d{2}(?::\d{2}[ \t]+(\d{4}))?|\d{4}) (.+)$/s;

/**
 * Windows/IIS line. Groups: 1 month, 2 day, 3 year (2 or 4 digits), 4 hour, 5 minute, 6 AM/PM (optional:
 * 24-hour time), 7 `<DIR>` or size, 8 name. IIS pads between the size column and the name, so all blanks
 * before the name are dropped (Windows names do not start with a blank in practice).
 */
const DOS_LINE =
  /^(\d{1,2})-(\d{1,2})-(\d{4}|\d{2})[ \t]+(\d{1,2}):(\d{2})[ \t]*([AaPp][Mm])?[ \t]+(<DIR>|\d+)[ \t]+([^ \t].*)$/is;

const TOTAL_LINE = /^total[ \t]+\d+[ \t]*$/i;
const BLANK_LINE = /^[ \t]*$/;

/** `total 123`, which `ls -l` prints before the entries. */
export function isTotalLine(line: string): boolean {
  return TOTAL_LINE.test(line);
}

/**
 * The format of a listing, decided from its first data line (not blank, not `total N`): Windows/IIS when it
 * starts with a digit (a DOS date), otherwise Unix.
 *
 * This fixes a quirk of mod_proxy: its `lib/proxy/ftp/dirlist.c` tests `text[0] == '0' ||
 * text[1] == '1'`, checking the *second* character where the first was meant. That catches months 01-09
 * (leading `0`) and, by accident, 11, but takes a DOS listing whose first entry is dated in October or
 * December (`10-...`, `12-...`) for Unix and then fails to parse every line of it. Any leading digit is
 * safe: a Unix `ls -l` line starts with its file type character, never with a digit.
 */
export function detectListFormat(firstDataLine: string): ListFormat {
  const first = firstDataLine.charCodeAt(0);
  return first >= 0x30 && first <= 0x39 ? 'dos' : 'unix';
}

/**
 * The year of a `Mon DD HH:MM` date: the latest year in which that date is at most {@link RECENT_WINDOW_MS}
 * after `now`. `ls` prints `HH:MM` only for dates within about six months of its own clock (GNU: in the
 * past; BSD: in either direction), so the window of six months into the future covers both, plus clock
 * skew between the backend and us, and still picks last year for a December date listed in January.
 * Returns undefined for an impossible date (Feb 30). Feb 29 lands in the latest leap year that fits.
 */
export function inferYear(
  month: number,
  day: number,
  hours: number,
  minutes: number,
  seconds: number,
  now: Date,
): Date | undefined {
  const limit = now.getTime() + RECENT_WINDOW_MS;
  const nowYear = now.getUTCFullYear();
  // Leap years repeat at most every 8 years (e.g. 1896 → 1904), so Feb 29 is always found in this range.
  for (let year = nowYear + 1; year >= nowYear - 8; year--) {
    const date = utcDate(year, month, day, hours, minutes, seconds);
    if (date !== undefined && date.getTime() <= limit) return date;
  }
  return undefined;
}

/** A UTC date, or undefined when a component is out of range (Feb 30, 24:00, minute 60). */
function utcDate(
  year: number,
  month: number,
  day: number,
  hours: number,
  minutes: number,
  seconds: number,
): Date | undefined {
  if (hours > 23 || minutes > 59 || seconds > 59) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(year, month, day);
  date.setUTCHours(hours, minutes, seconds, 0);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month || date.getUTCDate() !== day) {
    return undefined;
  }
  return date;
}

/** Parses the nine permission characters (`rwsr-xr-T` and the like) into mode bits. */
export function parsePermissions(perms: string): number {
  const bit = (index: number, char: string, value: number) => (perms[index] === char ? value : 0);
  const exec = (index: number, execBit: number, specialBit: number, set: string, unset: string) => {
    const char = perms[index];
    if (char === 'x') return execBit;
    if (char === set) return execBit | specialBit;
    if (char === unset) return specialBit;
    return 0;
  };
  return (
    bit(0, 'r', 0o400) |
    bit(1, 'w', 0o200) |
    exec(2, 0o100, 0o4000, 's', 'S') |
    bit(3, 'r', 0o040) |
    bit(4, 'w', 0o020) |
    exec(5, 0o010, 0o2000, 's', 'S') |
    bit(6, 'r', 0o004) |
    bit(7, 'w', 0o002) |
    exec(8, 0o001, 0o1000, 't', 'T')
  );
}

/** Parses one Unix `ls -l` line; undefined when it does not have that shape. */
export function parseUnixListLine(line: string, now: Date): ListEntry | undefined {
  const match = UNIX_LINE.exec(line);
  if (match === null) return undefined;
  const [, typeChar, perms, links, owner, group, size, major, minor, monthName, day, timeOrYear, timeYear] =
    match;
  let name = match[13] as string;
  const type = TYPES[typeChar as string];
  const month = MONTHS[(monthName as string).toLowerCase()];
  if (type === undefined || month === undefined) return undefined;

  let modify: Date | undefined;
  const field = timeOrYear as string;
  if (field.includes(':')) {
    const [hh, mm, ss] = field.split(/[: \t]/).map(Number) as [number, number, number | undefined];
    modify =
      timeYear === undefined
        ? inferYear(month, Number(day), hh, mm, ss ?? 0, now)
        : utcDate(Number(timeYear), month, Number(day), hh, mm, ss ?? 0);
  } else {
    modify = utcDate(Number(field), month, Number(day), 0, 0, 0);
  }
  if (modify === undefined) return undefined;

  const entry: ListEntry = {
    format: 'unix',
    type,
    name,
    mode: parsePermissions(perms as string),
    links: Number(links),
    owner: owner as string,
    modify,
  };
  if (group !== undefined) entry.group = group;
  if (size !== undefined) {
    entry.size = BigInt(size);
  } else {
    // Only devices list `major, minor`; anything else with a comma there is not a line we understand.
    if (type !== 'chardev' && type !== 'blockdev') return undefined;
    entry.device = { major: Number(major), minor: Number(minor) };
  }
  if (type === 'symlink') {
    const split = splitSymlink(name, entry.size);
    if (split !== undefined) {
      name = split.name;
      entry.name = name;
      entry.target = split.target;
    }
  }
  return name === '' ? undefined : entry;
}

/**
 * Splits `name -> target`. Either side may itself contain ` -> `; `ls` shows a symlink's size as the byte
 * length of its target, so the split whose target has exactly that length wins (latin1: one character per
 * byte). Without such a split, the first ` -> ` is used.
 */
function splitSymlink(text: string, size: bigint | undefined): { name: string; target: string } | undefined {
  const ARROW = ' -> ';
  let first: number | undefined;
  for (let at = text.indexOf(ARROW, 1); at >= 0; at = text.indexOf(ARROW, at + 1)) {
    first ??= at;
    if (size !== undefined && BigInt(text.length - at - ARROW.length) === size) {
      return { name: text.slice(0, at), target: text.slice(at + ARROW.length) };
    }
  }
  if (first === undefined) return undefined;
  return { name: text.slice(0, first), target: text.slice(first + ARROW.length) };
}

/** Parses one Windows/IIS line; undefined when it does not have that shape. */
export function parseDosListLine(line: string): ListEntry | undefined {
  const match = DOS_LINE.exec(line);
  if (match === null) return undefined;
  const [, month, day, yearText, hourText, minute, ampm, sizeOrDir, name] = match as unknown as string[];
  let year = Number(yearText);
  // Two-digit years pivot like POSIX strptime's %y: 69-99 are 1969-1999, 00-68 are 2000-2068.
  if ((yearText as string).length === 2) year += year >= 69 ? 1900 : 2000;
  let hours = Number(hourText);
  if (ampm !== undefined) {
    if (hours < 1 || hours > 12) return undefined;
    hours = (hours % 12) + (ampm.toUpperCase() === 'PM' ? 12 : 0);
  }
  const modify = utcDate(year, Number(month) - 1, Number(day), hours, Number(minute), 0);
  if (modify === undefined) return undefined;
  const isDir = (sizeOrDir as string).toUpperCase() === '<DIR>';
  const entry: ListEntry = { format: 'dos', type: isDir ? 'dir' : 'file', name: name as string, modify };
  if (!isDir) entry.size = BigInt(sizeOrDir as string);
  return entry;
}

/**
 * Parses the lines of one listing in order. The format is detected once, on the first data line; `total N`
 * and blank lines are skipped silently, anything else that does not parse is skipped and reported.
 */
export class ListLineParser {
  readonly #now: Date;
  readonly #onSkippedLine: ((line: string, reason: SkipReason) => void) | undefined;
  #format: ListFormat | undefined;

  constructor(options: ListLineParserOptions = {}) {
    this.#now = options.now ?? new Date();
    this.#onSkippedLine = options.onSkippedLine;
  }

  /** The detected format; undefined until the first data line. */
  get format(): ListFormat | undefined {
    return this.#format;
  }

  /** One line without its line ending. */
  parse(line: string): ListEntry | undefined {
    if (BLANK_LINE.test(line) || isTotalLine(line)) return undefined;
    this.#format ??= detectListFormat(line);
    const entry = this.#format === 'dos' ? parseDosListLine(line) : parseUnixListLine(line, this.#now);
    if (entry === undefined) this.#onSkippedLine?.(line, 'unparseable');
    return entry;
  }

  /** Reports a line the caller dropped without parsing (e.g. an overlong one). */
  skip(line: string, reason: SkipReason): void {
    this.#onSkippedLine?.(line, reason);
  }
}
