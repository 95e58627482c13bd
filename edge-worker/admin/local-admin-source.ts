import type { RunningEdgeWorker } from '../runtime/edge-worker.js';
import { type AdminSource, KICK_REPLY } from './admin-server.js';
import { backendStatuses } from './status-snapshot.js';

/** The admin endpoint's answers from the edge worker of this process. */
export function localAdminSource(worker: RunningEdgeWorker): AdminSource {
  return {
    ready: () => worker.ready,
    metrics: async () => worker.metrics.registry.render(),
    sessions: async () => worker.sessions.list(),
    kick: async (id) => worker.sessions.kick(id, KICK_REPLY),
    status: async () => ({
      generatedAt: new Date().toISOString(),
      ready: worker.ready,
      workers: 1,
      backends: backendStatuses(worker.pools(), worker.metrics),
      sessions: worker.sessions.list(),
      throughput: worker.sessions.throughput.series(),
    }),
  };
}
