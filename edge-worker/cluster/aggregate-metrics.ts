import { AggregatorRegistry } from 'prom-client';
import type { MetricsSnapshot } from '../admin/edge-metrics.js';

/**
 * The cluster's /metrics text from each process's samples (prom-client JSON): counters, gauges and
 * histogram buckets add up across processes; the default process metrics aggregate as prom-client
 * declares them (event loop lag averaged, start time omitted, ...). The snapshots come over ftpx's
 * own IPC (cluster/messages.ts), with its per-worker timeout, rather than AggregatorRegistry's
 * clusterMetrics(), which fails the whole scrape when one worker is slow to answer.
 */
export async function aggregateMetrics(snapshots: MetricsSnapshot[]): Promise<string> {
  return AggregatorRegistry.aggregate(snapshots).metrics();
}
