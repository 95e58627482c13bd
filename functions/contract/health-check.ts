import { z } from 'zod';
import { parseCidr } from '../core/net/index.js';

const backendUrl = z
  .string()
  .min(1)
  .max(1024)
  .regex(
    /^(ftp|ftps|sftp)(\+(srv|txt))?:\/\//i,
    'must be an ftp://, ftps:// or sftp:// URL (or +srv / +txt)',
  );

const cidr = z
  .string()
  .max(64)
  .superRefine((text, ctx) => {
    const parsed = parseCidr(text);
    if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.error });
  });

/**
 * The health-check function's event. Scheduled (EventBridge fields ignored): every registered pool's
 * registered backends and every backend with a health record. On demand: `pools` limits the run to
 * those pools; `listed` adds backends the control plane cannot know (an edge worker's configured
 * ones, credential-free keys) and the pool's `allowDestinationNetworks`, which the destination
 * address policy applies to that pool's registered and discovered backends.
 */
export const healthCheckRequestSchema = z.looseObject({
  pools: z.array(z.string().min(1).max(256)).max(1000).optional(),
  listed: z
    .array(
      z
        .object({
          pool: z.string().min(1).max(256),
          backends: z.array(backendUrl).max(1000),
          allowDestinationNetworks: z.array(cidr).max(1000).optional(),
        })
        .strict(),
    )
    .max(1000)
    .optional(),
});

export const healthCheckResponseSchema = z.object({
  checked: z.array(
    z.object({
      pool: z.string(),
      backend: z.string(),
      ok: z.boolean(),
      protocol: z.enum(['ftp', 'ftps', 'sftp']),
      latencyMs: z.number().min(0),
      reason: z.string(),
      warning: z.string().optional(),
      certNotAfter: z.number().optional(),
    }),
  ),
  /** Registered or discovered backends not connected to: the destination address policy refused them. */
  refused: z.array(z.object({ pool: z.string(), backend: z.string(), reason: z.string() })).optional(),
});

export type HealthCheckRequest = z.input<typeof healthCheckRequestSchema>;
export type HealthCheckResponse = z.output<typeof healthCheckResponseSchema>;
