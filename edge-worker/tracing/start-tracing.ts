import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';

export interface Tracing {
  /** Sends what is buffered and stops; the tracer is a no-op again afterwards. */
  shutdown(): Promise<void>;
}

/**
 * Registers the OpenTelemetry SDK for this process: spans of the login path, W3C `traceparent`
 * propagation into control-plane calls, the session's context carried across awaits
 * (AsyncLocalStorage). Exports over OTLP/HTTP to the endpoint the environment names, in batches;
 * tests pass their own exporter (in memory), exported span by span.
 */
export function startTracing(options: { exporter?: SpanExporter } = {}): Tracing {
  const processor: SpanProcessor = options.exporter
    ? new SimpleSpanProcessor(options.exporter)
    : new BatchSpanProcessor(new OTLPTraceExporter());
  const provider = new BasicTracerProvider({ spanProcessors: [processor] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return {
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}
