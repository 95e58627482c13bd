/** ProFTPD's boolean words (case-insensitive); undefined for anything else. */
export function parseBoolean(text: string): boolean | undefined {
  const lower = text.toLowerCase();
  if (['on', 'yes', 'true', '1'].includes(lower)) return true;
  if (['off', 'no', 'false', '0'].includes(lower)) return false;
  return undefined;
}

/** A whole number written in decimal digits only; undefined otherwise. */
export function parseWholeNumber(text: string): number | undefined {
  if (!/^\d{1,15}$/.test(text)) return undefined;
  return Number(text);
}

const UNIT_MS: Record<string, number> = {};
for (const [units, ms] of [
  [['ms', 'msec', 'msecs', 'millisecond', 'milliseconds'], 1],
  [['s', 'sec', 'secs', 'second', 'seconds'], 1000],
  [['m', 'min', 'mins', 'minute', 'minutes'], 60_000],
  [['h', 'hr', 'hrs', 'hour', 'hours'], 3_600_000],
] as const) {
  for (const unit of units) UNIT_MS[unit] = ms;
}

/**
 * A ProFTPD duration in milliseconds: a number of seconds (`30`), `hh:mm:ss` (`00:01:30`), or a number with
 * a unit (`500ms`, `5sec`, `2min`, `1hr`; also `s`, `m`, `h` and the long forms). Undefined otherwise.
 */
export function parseProftpdDuration(text: string): number | undefined {
  const clock = /^(\d+):([0-5]\d):([0-5]\d)$/.exec(text);
  if (clock) return ((Number(clock[1]) * 60 + Number(clock[2])) * 60 + Number(clock[3])) * 1000;
  const match = /^(\d{1,12})\s*([a-z]*)$/i.exec(text);
  if (!match) return undefined;
  const unit = (match[2] ?? '').toLowerCase();
  const factor = unit === '' ? 1000 : UNIT_MS[unit];
  return factor === undefined ? undefined : Number(match[1]) * factor;
}
