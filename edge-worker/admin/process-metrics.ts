import { collectDefaultMetrics, Registry } from 'prom-client';

let shared: Registry | undefined;

/**
 * prom-client's default metrics of this process (CPU, memory, handles, event loop lag, GC, Node
 * version). One registry per process, made on first use: collectDefaultMetrics starts an event loop
 * delay monitor and a GC observer that are never stopped, so it must not run per EdgeMetrics (tests
 * start many workers in one process). Names are prom-client's (`process_*`, `nodejs_*`), without a
 * prefix, as dashboards for Node services expect them.
 */
export function processMetricsRegistry(): Registry {
  if (!shared) {
    shared = new Registry();
    collectDefaultMetrics({ register: shared });
  }
  return shared;
}
