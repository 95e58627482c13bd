import { type Span, trace } from '@opentelemetry/api';

/**
 * The edge worker's tracer. Until startTracing registers a provider it is OpenTelemetry's no-op
 * tracer: spans are not recorded, no context is kept, nothing is sent, and the data path never
 * calls it (only accept, control-plane calls, backend connect and login do).
 */
export const tracer = trace.getTracer('ftpx-edge');

export type { Span };
