import type { FtpxConfig } from '../config/schema.js';
import { fileSink, Logger, type LogLevel, type LogSink, stderrSink } from './logger.js';

/**
 * The serving process's logger from `log`: ProxyLog (log.file, else standard error; none when false), its level (the
 * command line's --log-level first), the trace channels and the TraceLog.
 */
export function createServiceLogger(
  settings: FtpxConfig['log'],
  levelOverride: LogLevel | undefined,
): { log: Logger; close(): Promise<void> } {
  // `file: false` is ProxyLog none: nothing is written.
  const sink: LogSink =
    settings.file === false ? { write: () => {} } : settings.file ? fileSink(settings.file) : stderrSink();
  const traceSink = settings.traceFile ? fileSink(settings.traceFile) : undefined;
  const log = new Logger(
    sink,
    levelOverride ?? settings.level,
    {},
    {
      ...(settings.traces ? { traces: settings.traces } : {}),
      ...(traceSink ? { traceSink } : {}),
    },
  );
  return {
    log,
    close: async () => {
      await sink.close?.();
      await traceSink?.close?.();
    },
  };
}
