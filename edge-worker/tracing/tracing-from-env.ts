import type { Tracing } from './start-tracing.js';

/**
 * Whether the environment asks for traces: OpenTelemetry's own variables, as the ADOT collector
 * sidecar and every OTel SDK read them. `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or
 * `OTEL_EXPORTER_OTLP_ENDPOINT` set, and `OTEL_TRACES_EXPORTER` not `none` (`OTEL_SDK_DISABLED=true`
 * turns it off too). Tracing is off by default.
 */
export function tracingRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED === 'true' || env.OTEL_TRACES_EXPORTER === 'none') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT);
}

let running: Tracing | undefined;

/**
 * Starts tracing for a serving process when the environment asks for it. The SDK and the OTLP
 * exporter are loaded only then: a process without tracing never imports them (start-up time).
 */
export async function startTracingFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (running || !tracingRequested(env)) return;
  const { startTracing } = await import('./start-tracing.js');
  running ??= startTracing();
}

/** Flushes and stops what startTracingFromEnv started (before the process exits). */
export async function stopTracing(): Promise<void> {
  const stopping = running;
  running = undefined;
  await stopping?.shutdown();
}
