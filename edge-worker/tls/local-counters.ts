import type { ControlPlaneClient } from '../control-plane/control-plane-client.js';
import type { Logger } from '../log/logger.js';

/** Hits served from the edge-local LRUs and cache calls that failed, not yet added to the shared statistics. */
export interface LocalCacheCounters {
  sessionHits: number;
  sessionErrors: number;
  ocspHits: number;
  ocspErrors: number;
}

export function newCounters(): LocalCacheCounters {
  return { sessionHits: 0, sessionErrors: 0, ocspHits: 0, ocspErrors: 0 };
}

/**
 * Sends the counters to the shared statistics (one `report-hits` call) and zeroes them. A report
 * that fails is added back, so nothing is counted twice and nothing is lost while the control
 * plane is away (the failure itself is not counted: it would never stop growing).
 */
export async function flushCounters(
  counters: LocalCacheCounters,
  controlPlane: ControlPlaneClient,
  log: Logger,
): Promise<void> {
  const taken = { ...counters };
  if (taken.sessionHits + taken.sessionErrors + taken.ocspHits + taken.ocspErrors === 0) return;
  counters.sessionHits = 0;
  counters.sessionErrors = 0;
  counters.ocspHits = 0;
  counters.ocspErrors = 0;
  try {
    await controlPlane.tlsCache({ op: 'report-hits', ...taken });
  } catch (err) {
    counters.sessionHits += taken.sessionHits;
    counters.sessionErrors += taken.sessionErrors;
    counters.ocspHits += taken.ocspHits;
    counters.ocspErrors += taken.ocspErrors;
    log.debug('TLS cache statistics not delivered', {
      error: err instanceof Error ? err.message : String(err),
    });
  }
}
