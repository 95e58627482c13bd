import type { FunctionLog } from './function-log.js';

export type MetricUnit = 'Count' | 'Milliseconds';

/**
 * What handlers measure through: in Lambda, Powertools' Metrics (CloudWatch embedded metric format
 * in the function's log, namespace `ftpx`); elsewhere nothing (the edge worker has Prometheus).
 * Metric names are the ones docs/operating.md lists and the CDK dashboard graphs. Dimensions
 * are few and bounded (a policy name, a result), never a pool or backend: each value is a metric
 * CloudWatch bills for.
 */
export interface FunctionMetrics {
  add(name: string, unit: MetricUnit, value: number, dimensions?: Record<string, string>): void;
}

export const noMetrics: FunctionMetrics = { add() {} };

/** The log and the metrics a handler is built with. */
export interface FunctionTelemetry {
  log: FunctionLog;
  metrics: FunctionMetrics;
}
