import { z } from 'zod';

/**
 * A pool's backend health as the registry API shows it (`GET /v1/pools/{pool}/health`): one entry
 * per backend with a health record (a failed connect, or an active check). Backends without one are
 * healthy and not listed. Times are ISO 8601.
 */
export const backendHealthSchema = z.object({
  backend: z.string(),
  state: z.enum(['healthy', 'suspect', 'unhealthy']),
  /** Failed connects in the current passive window. */
  failures: z.number().int().min(0),
  unhealthyUntil: z.string().optional(),
  reason: z.string().optional(),
  lastFailureAt: z.string().optional(),
  lastFailureReason: z.string().optional(),
  lastSuccessAt: z.string().optional(),
  check: z
    .object({
      ok: z.boolean(),
      at: z.string(),
      protocol: z.enum(['ftp', 'ftps', 'sftp']),
      latencyMs: z.number().min(0),
      reason: z.string(),
      certNotAfter: z.string().optional(),
      warning: z.string().optional(),
    })
    .optional(),
});

export const poolHealthSchema = z.object({
  pool: z.string(),
  backends: z.array(backendHealthSchema),
});

export type BackendHealthView = z.output<typeof backendHealthSchema>;
export type PoolHealthView = z.output<typeof poolHealthSchema>;
