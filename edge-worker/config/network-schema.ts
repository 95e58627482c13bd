import { isIP } from 'node:net';
import { z } from 'zod';
import { parseCidr } from '../../functions/core/net/index.js';

export const ipAddress = z.string().refine((value) => isIP(value) !== 0, 'must be an IP address');

/** An IPv4 or IPv6 network in CIDR notation ("10.0.0.0/8", "::1/128"); a bare address means one host. */
export const cidr = z.string().superRefine((value, ctx) => {
  const parsed = parseCidr(value);
  if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.error });
});

export const portRange = z
  .object({ min: z.number().int().min(1024).max(65535), max: z.number().int().min(1024).max(65535) })
  .strict()
  .refine((range) => range.min <= range.max, 'min must not be above max');

/** ProxyForwardTo: a regular expression the destination's `host:port` must match (or, negated, not match). */
