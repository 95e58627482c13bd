import { isAbsolute } from 'node:path';
import { oneArgument } from '../directive-row.js';
import { parseProftpdDuration, parseWholeNumber } from '../values.js';

/** Argument parsers several directive modules share. */

export const absolutePath = oneArgument((arg, line) => {
  if (isAbsolute(arg)) return arg;
  line.fail(`must be an absolute path, got "${arg}"`);
  return undefined;
});

/** At least 1, as ProxyRetryCount and MaxLoginAttempts want. */
export const positiveCount = oneArgument((arg, line) => {
  const count = parseWholeNumber(arg);
  if (count !== undefined && count >= 1) return count;
  line.fail(`must be a whole number of at least 1, got "${arg}"`);
  return undefined;
});

/** A timeout in milliseconds. ProFTPD's "0" means no timeout, except for the linger time, where it means not to wait. */
export const timeout = oneArgument((arg, line) => {
  const ms = arg === '0' ? 0 : parseProftpdDuration(arg);
  if (ms === undefined) line.fail(`"${arg}" is not a duration (use e.g. 30, 30sec, 5min or hh:mm:ss)`);
  return ms;
});

/** A log file: an absolute path, or `none` (null). */
export const logFile = oneArgument((arg, line) => {
  if (arg.toLowerCase() === 'none') return null;
  if (isAbsolute(arg)) return arg;
  line.fail(`must be an absolute path or none, got "${arg}"`);
  return undefined;
});
