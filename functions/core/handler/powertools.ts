import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import {
  type FunctionLog,
  type FunctionMetrics,
  type FunctionTelemetry,
  maskSecretFields,
  parseTraceparent,
  traceLogFields,
} from '../telemetry/index.js';
import { FtpxLogFormatter } from './log-formatter.js';

/** Namespace of the functions' CloudWatch metrics: the one the CDK dashboard graphs (infra/lib/monitoring.ts). */
export const METRIC_NAMESPACE = 'ftpx';

/** Powertools' Logger and Metrics of one function, and the telemetry its domain code is given. */
export interface LambdaObservability {
  logger: Logger;
  metrics: Metrics;
  telemetry: FunctionTelemetry;
  /** Log every event (masked); undefined: as POWERTOOLS_LOGGER_LOG_EVENT says (off by default). */
  logEvent?: boolean;
}

/**
 * Logger and Metrics for the function `name` (service `ftpx-<name>`). The Logger takes its level,
 * sampling and event logging from Powertools' environment variables (POWERTOOLS_LOG_LEVEL,
 * POWERTOOLS_LOGGER_SAMPLE_RATE, POWERTOOLS_LOGGER_LOG_EVENT) and masks secret fields in every line,
 * logged events included. Metrics carry no `service` dimension: the dashboard's metrics have none.
 */
export function lambdaObservability(name: string, options: { logEvent?: boolean } = {}): LambdaObservability {
  const serviceName = `ftpx-${name}`;
  const logger = new Logger({
    serviceName,
    jsonReplacerFn: maskSecretFields,
    logFormatter: new FtpxLogFormatter(),
  });
  const metrics = new Metrics({
    namespace: METRIC_NAMESPACE,
    serviceName,
    // Its warnings as the function's structured lines; an invocation with nothing to count (a
    // tls-cache put, an auth) is normal here, not worth a warning per request.
    logger: {
      debug: (message: string) => logger.debug(message),
      info: (message: string) => logger.info(message),
      warn: (message: string) => {
        if (!message.startsWith('No application metrics')) logger.warn(message);
      },
      error: (message: string) => logger.error(message),
    },
  });
  metrics.clearDefaultDimensions();
  const log: FunctionLog = {
    debug: (msg, fields) => logger.debug(msg, fields ?? {}),
    info: (msg, fields) => logger.info(msg, fields ?? {}),
    warn: (msg, fields) => logger.warn(msg, fields ?? {}),
    error: (msg, fields) => logger.error(msg, fields ?? {}),
  };
  const measured: FunctionMetrics = {
    add(metric, unit, value, dimensions) {
      const powertoolsUnit = unit === 'Milliseconds' ? MetricUnit.Milliseconds : MetricUnit.Count;
      if (dimensions === undefined || Object.keys(dimensions).length === 0) {
        metrics.addMetric(metric, powertoolsUnit, value);
        return;
      }
      // Dimensions belong to a whole EMF document: one of its own for this metric.
      const single = metrics.singleMetric();
      single.addDimensions(dimensions);
      single.addMetric(metric, powertoolsUnit, value);
    },
  };
  return {
    logger,
    metrics,
    telemetry: { log, metrics: measured },
    ...(options.logEvent !== undefined ? { logEvent: options.logEvent } : {}),
  };
}

/**
 * The Lambda entry point around a function's handler: Powertools' middy middlewares add the Lambda
 * context to every log line (request id, cold start, function name; sampling decided per
 * invocation), log the event when asked, and flush the metrics (with a ColdStart metric) at the
 * end of every invocation, failed ones too. An API Gateway event's `traceparent` header (the edge
 * worker's control-plane span) puts `traceId` and `parentSpanId` on the invocation's lines; the
 * keys go with the invocation (resetKeys).
 */
export function observedHandler<TEvent, TResult>(
  inner: (event: TEvent, context: Context) => Promise<TResult>,
  observability: LambdaObservability,
) {
  return (
    middy<TEvent, TResult>((event: TEvent, context: Context) => inner(event, context))
      // First, so that the logged event carries the trace too; injectLambdaContext resets the keys.
      .before((request) => {
        const trace = traceLogFields(parseTraceparent(traceparentOf(request.event)));
        if (Object.keys(trace).length > 0) observability.logger.appendKeys(trace);
      })
      .use(
        injectLambdaContext(observability.logger, {
          resetKeys: true,
          ...(observability.logEvent !== undefined ? { logEvent: observability.logEvent } : {}),
        }),
      )
      .use(logMetrics(observability.metrics, { captureColdStartMetric: true }))
  );
}

/** The `traceparent` header of an API Gateway (HTTP API) event; API Gateway lowercases header names. */
function traceparentOf(event: unknown): unknown {
  if (typeof event !== 'object' || event === null || !('headers' in event)) return undefined;
  const { headers } = event as { headers?: unknown };
  if (typeof headers !== 'object' || headers === null) return undefined;
  return (headers as Record<string, unknown>).traceparent;
}
