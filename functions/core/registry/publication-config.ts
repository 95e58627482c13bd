import { z } from 'zod';
import type { Table } from '../store/index.js';
import { deletePublicationItem, readPublicationItem, writePublicationItem } from '../store/index.js';
import { requirePool } from './pools.js';

/**
 * A pool's Route 53 publication: its registered backends are written as DNS records into the hosted
 * zone `hostedZoneId`, under `domain` (see publication-records.ts for the names). Stored in the
 * pool's partition under `REG#` (so a pool with a publication cannot be deleted before it).
 */
export const publicationConfigSchema = z
  .object({
    hostedZoneId: z
      .string()
      .regex(/^(\/hostedzone\/)?[A-Z0-9]{1,32}$/, 'a Route 53 hosted zone id, e.g. Z0123456789ABC'),
    domain: z
      .string()
      .max(200)
      .regex(
        /^(?!-)[A-Za-z0-9-]{1,63}(\.(?!-)[A-Za-z0-9-]{1,63})+\.?$/,
        'a DNS name inside the hosted zone, e.g. ftp.example.com',
      )
      .meta({ description: 'Records are written under this name (inside the hosted zone).' }),
    ttl: z.number().int().min(1).max(86_400).default(60),
    /** SRV priority of every published backend (weight: the backend's weight, default 1). */
    priority: z.number().int().min(0).max(65_535).default(10),
    /** Also write a TXT record holding one backend URL per protocol (for `+txt` discovery). */
    txt: z.boolean().default(false),
  })
  .strict();

export type PublicationConfig = z.output<typeof publicationConfigSchema>;

export async function getPublication(table: Table, pool: string): Promise<PublicationConfig | undefined> {
  const stored = await readPublicationItem(table, pool);
  if (stored === undefined) return undefined;
  const parsed = publicationConfigSchema.safeParse(stored);
  return parsed.success ? parsed.data : undefined;
}

/** Sets (replaces) the pool's publication; the pool must exist. */
export async function putPublication(
  table: Table,
  pool: string,
  config: PublicationConfig,
  nowMs: number,
): Promise<void> {
  await requirePool(table, pool, nowMs);
  await writePublicationItem(table, pool, config, nowMs);
}

/** Removes the pool's publication (its records must be withdrawn first, see publishPool). */
export function deletePublication(table: Table, pool: string): Promise<void> {
  return deletePublicationItem(table, pool);
}
