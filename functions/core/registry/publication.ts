import type { Table } from '../store/index.js';
import { enabledBackends } from './backends.js';
import { getPublication, type PublicationConfig } from './publication-config.js';
import { desiredRecords } from './publication-records.js';
import { type PublicationOutcome, type Route53Publisher, syncRecords } from './publication-route53.js';

/**
 * Brings the pool's published records in line with its enabled registered backends, if the pool has
 * a publication. Called after every backend change through the API; a failure of Route 53 does not
 * undo the registration (the store is the truth) and is reported as `status: failed`, to be repaired
 * by the next change or `POST /v1/pools/{pool}/publication/sync`.
 */
export async function publishPool(
  table: Table,
  publisher: Route53Publisher | undefined,
  pool: string,
  nowMs: number,
  options: { withdraw?: boolean; config?: PublicationConfig } = {},
): Promise<PublicationOutcome | undefined> {
  const config = options.config ?? (await getPublication(table, pool));
  if (!config) return undefined;
  if (!publisher) {
    return {
      status: 'failed',
      upserted: [],
      deleted: [],
      changeIds: [],
      error: 'no Route 53 publisher is configured',
    };
  }
  try {
    const backends = options.withdraw ? [] : await enabledBackends(table, pool, nowMs);
    return await syncRecords(publisher, config, desiredRecords(config, backends));
  } catch (err) {
    return {
      status: 'failed',
      upserted: [],
      deleted: [],
      changeIds: [],
      error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
    };
  }
}
