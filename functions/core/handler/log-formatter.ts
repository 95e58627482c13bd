import { LogFormatter, LogItem } from '@aws-lambda-powertools/logger';
import type { LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';

/**
 * Powertools' log lines with the edge worker's field names (docs/operating.md, "Log fields"): `level`
 * in lower case, `time`, `msg`, then the function's own (`service`, `requestId`, `coldStart`,
 * `function`, `xrayTraceId`, `samplingRate`) and the line's fields (`pool`, `backend`, `user`,
 * `client`, `session`, ... as the caller named them). One scheme, so that one CloudWatch Logs
 * Insights query reads both the edge workers' and the functions' lines.
 */
export class FtpxLogFormatter extends LogFormatter {
  formatAttributes(attributes: UnformattedAttributes, additionalLogAttributes: LogAttributes): LogItem {
    const context = attributes.lambdaContext;
    const base: LogAttributes = {
      level: String(attributes.logLevel).toLowerCase(),
      time: this.formatTimestamp(attributes.timestamp),
      msg: attributes.message,
      service: attributes.serviceName,
      ...(context
        ? {
            requestId: context.awsRequestId,
            function: context.functionName,
            coldStart: context.coldStart,
          }
        : {}),
      ...(attributes.xRayTraceId ? { xrayTraceId: attributes.xRayTraceId } : {}),
      ...(attributes.sampleRateValue ? { samplingRate: attributes.sampleRateValue } : {}),
    };
    return new LogItem({ attributes: base }).addAttributes(additionalLogAttributes);
  }
}
