/** The public surface of functions/core/telemetry/: import from here, not from its files (docs/layers.md). */

export { entryLogger, type FunctionLog, silentLog } from './function-log.js';
export {
  type FunctionMetrics,
  type FunctionTelemetry,
  type MetricUnit,
  noMetrics,
} from './function-metrics.js';
export { maskSecretFields, REDACTED } from './secret-fields.js';
export { parseTraceparent, type TraceContext, traceLogFields } from './trace-context.js';
