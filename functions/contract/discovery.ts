import { z } from 'zod';

const discoveryUrl = z
  .string()
  .min(1)
  .max(1024)
  .regex(/^(ftp|ftps|sftp)\+(srv|txt):\/\//i, 'must be an ftp+srv://, ftps+srv://, sftp+srv:// or +txt URL');

/**
 * The discovery function's event. Scheduled (EventBridge, whose own fields are ignored): refreshes
 * every cached answer still in use that is due within `withinMs` (default: the schedule's minute).
 * On demand: `sources` resolves those URLs now (credential-free keys, e.g. `ftp+srv://_ftp._tcp.x:21`),
 * `force` refreshes every cached answer whether due or not.
 */
export const discoveryRequestSchema = z.looseObject({
  sources: z.array(discoveryUrl).max(1000).optional(),
  force: z.boolean().default(false),
  withinMs: z.number().int().min(0).max(3_600_000).default(60_000),
});

export const discoveryResponseSchema = z.object({
  refreshed: z.array(
    z.object({
      source: z.string(),
      outcome: z.enum(['records', 'fallback', 'no-service', 'not-found']),
      targets: z.number().int().min(0),
      ttlSeconds: z.number().min(0),
    }),
  ),
  failed: z.array(z.object({ source: z.string(), reason: z.string() })),
  skipped: z.number().int().min(0),
});

export type DiscoveryRequest = z.input<typeof discoveryRequestSchema>;
export type DiscoveryResponse = z.output<typeof discoveryResponseSchema>;
