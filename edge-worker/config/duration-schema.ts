import { z } from 'zod';
import { parseDuration } from './duration.js';

/** A duration written as "5s", "250ms", "2m" or a number of seconds; held as milliseconds. */
export const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `"${value}" is not a duration (use e.g. 5s, 250ms, 2m or a number of seconds)`,
    });
    return z.NEVER;
  }
  return ms;
});
