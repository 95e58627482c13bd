import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type {
  ClosableControlPlaneClient,
  ControlPlaneClient,
} from '../control-plane/control-plane-client.js';
import { tracer } from '../tracing/tracer.js';
import type { EdgeMetrics } from './edge-metrics.js';

/** Times every control-plane call (any transport) into the control-plane latency and error metrics. */
export function instrumentControlPlane(
  inner: ControlPlaneClient,
  metrics: EdgeMetrics,
): ClosableControlPlaneClient {
  const timed = <T>(operation: string, call: () => Promise<T>): Promise<T> =>
    // The active span while the call runs: the HTTP transport puts it into `traceparent`.
    tracer.startActiveSpan(`control-plane ${operation}`, { kind: SpanKind.CLIENT }, async (span) => {
      const started = performance.now();
      try {
        const result = await call();
        metrics.controlPlaneSeconds.observe(
          { operation, result: 'ok' },
          (performance.now() - started) / 1000,
        );
        return result;
      } catch (err) {
        metrics.controlPlaneSeconds.observe(
          { operation, result: 'error' },
          (performance.now() - started) / 1000,
        );
        metrics.controlPlaneErrors.inc({ operation });
        span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.name : 'error' });
        throw err;
      } finally {
        span.end();
      }
    });
  return {
    resolveBackend: (request) => timed('resolve-backend', () => inner.resolveBackend(request)),
    sessionEvent: (event) => timed('session-events', () => inner.sessionEvent(event)),
    authenticate: (request) => timed('auth', () => inner.authenticate(request)),
    tlsCache: (request) => timed('tls-cache', () => inner.tlsCache(request)),
    ...(inner.sshHostKey
      ? { sshHostKey: (request) => timed('ssh-host-keys', () => inner.sshHostKey?.(request) as never) }
      : {}),
    ...(inner.abuse ? { abuse: (request) => timed('abuse', () => inner.abuse?.(request) as never) } : {}),
    close: async () => {
      await (inner as Partial<ClosableControlPlaneClient>).close?.();
    },
  };
}
