import type { RunningEdgeWorker } from '../runtime/edge-worker.js';
import { type AdminSource, KICK_REPLY } from './admin-server.js';
import { backendStatuses } from './status-snapshot.js';

/**
 * The admin endpoint's answers from the edge worker of this process. Given a getter, the endpoint
 * can start before the worker: until there is one, /readyz says 503 and the lists are empty.
 */
export function localAdminSource(
  from: RunningEdgeWorker | (() => RunningEdgeWorker | undefined),
): AdminSource {
  const current = typeof from === 'function' ? from : () => from;
  return {
    ready: () => current()?.ready ?? false,
    metrics: async () => (await current()?.metrics.render()) ?? '',
    sessions: async () => current()?.sessions.list() ?? [],
    kick: async (id) => current()?.sessions.kick(id, KICK_REPLY) ?? false,
    status: async () => {
      const worker = current();
      return {
        generatedAt: new Date().toISOString(),
        ready: worker?.ready ?? false,
        workers: worker ? 1 : 0,
        backends: worker ? backendStatuses(worker.pools(), worker.metrics) : [],
        sessions: worker?.sessions.list() ?? [],
        throughput: worker?.sessions.throughput.series() ?? [],
      };
    },
  };
}
