import { createWriteStream, type WriteStream } from 'node:fs';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

/** Keys whose values never reach a log line, whatever a caller passes in. */
const SECRET_KEYS = /pass(word)?|secret|token|credential|authorization|privatekey/i;

export interface LogSink {
  write(line: string): void;
  /** Flushes and releases the destination, where there is one to release. */
  close?(): Promise<void>;
}

/**
 * Structured JSON-lines logger. Child loggers carry context (session id, client, backend, user) so
 * every line of a session can be found by one field.
 */
export class Logger {
  constructor(
    private readonly sink: LogSink,
    private readonly level: LogLevel = 'info',
    private readonly context: LogFields = {},
  ) {}

  child(fields: LogFields): Logger {
    return new Logger(this.sink, this.level, { ...this.context, ...fields });
  }

  isEnabled(level: LogLevel): boolean {
    return LEVELS[level] >= LEVELS[this.level];
  }

  debug(msg: string, fields?: LogFields): void {
    this.log('debug', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.log('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.log('warn', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.log('error', msg, fields);
  }

  private log(level: LogLevel, msg: string, fields?: LogFields): void {
    if (!this.isEnabled(level)) return;
    const entry = { time: new Date().toISOString(), level, msg, ...this.context, ...fields };
    this.sink.write(`${JSON.stringify(entry, redact)}\n`);
  }
}

function redact(key: string, value: unknown): unknown {
  if (key !== '' && SECRET_KEYS.test(key)) return '[redacted]';
  if (value instanceof Error) {
    const cause = (value as { cause?: unknown }).cause;
    return { name: value.name, message: value.message, ...(cause !== undefined ? { cause } : {}) };
  }
  return value;
}

export function stderrSink(): LogSink {
  return { write: (line) => process.stderr.write(line) };
}

/** Appends to a file (ProxyLog). Writes are buffered by the stream; a full disk must not stop the proxy. */
export function fileSink(path: string): LogSink {
  const stream: WriteStream = createWriteStream(path, { flags: 'a', mode: 0o640 });
  stream.on('error', (err) => process.stderr.write(`ftpx: cannot write log file ${path}: ${err.message}\n`));
  return {
    write: (line) => {
      stream.write(line);
    },
    close: () => new Promise((resolve) => stream.end(resolve)),
  };
}

/** A logger that drops everything: for tools and tests that do not want output. */
export const silentLogger = new Logger({ write: () => {} }, 'error');
