import { z } from 'zod';

/** What re-publishing a pool's records in Route 53 did (publication-route53.ts). */
export const publicationOutcomeSchema = z.object({
  status: z.enum(['INSYNC', 'PENDING', 'unchanged', 'failed']),
  upserted: z.array(z.string()).meta({ description: 'Record sets written, as "name TYPE".' }),
  deleted: z.array(z.string()),
  changeIds: z.array(z.string()),
  error: z.string().optional(),
});
