import { createWriteStream, type WriteStream } from 'node:fs';
import { type Logger as PinoLogger, pino } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type LogFields = Record<string, unknown>;

/** Keys whose values never reach a log line, whatever a caller passes in. */
const SECRET_KEYS = /pass(word)?|secret|token|credential|authorization|privatekey|passphrase/i;
/** `scheme://user:password@` in any string: the password goes. */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*):[^\s@/]*@/gi;
/** An FTP PASS command line (a trace of the control connection, an error quoting it); mod_proxy's `PASS (hidden)` stays. */
const PASS_COMMAND = /\b(PASS|ACCT|ADAT)\s+(?!\(hidden\))[^\r\n"]+/gi;
/** An Authorization header's value. */
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g;
export const REDACTED = '[redacted]';

export interface LogSink {
  write(line: string): void;
  /** Flushes and releases the destination, where there is one to release. */
  close?(): Promise<void>;
}

/**
 * Trace channels (ProFTPD's `Trace proxy.ftp.ctrl:20`): per channel, the highest trace level to
 * write. A channel inherits from its parents (`proxy.ftp.ctrl` from `proxy.ftp`, then `proxy`).
 */
export type TraceChannels = Record<string, number>;

/**
 * What a trace level means as a log level: 1-4 info, 5 and up debug. A channel traced at level N
 * lets through its lines of that log level even when log.level is higher (warn and error always pass).
 */
export function traceLevelAsLogLevel(level: number): LogLevel {
  return level >= 5 ? 'debug' : 'info';
}

const PINO_LEVELS: Record<LogLevel, number> = { debug: 20, info: 30, warn: 40, error: 50 };

interface Shared {
  sink: LogSink;
  level: LogLevel;
  traces: TraceChannels;
  /** Each channel's effective level, resolved once (parents, `*`): a disabled channel costs one map read. */
  traceLevels: Map<string, number>;
  /** Where trace() lines go (TraceLog); the main sink when absent. */
  traceRoot: PinoLogger | undefined;
}

/**
 * Structured JSON-lines logger on pino: `{"level":"info","time":"<ISO>",...context,...fields,"msg":...}`.
 * Child loggers carry context (session id, client, backend, user) so every line of a session can be
 * found by one field. Secrets are removed from every line: values under secret-looking keys, URL
 * passwords, PASS command arguments and bearer tokens inside any string, Error messages included.
 */
export class Logger {
  private readonly root: PinoLogger;
  private readonly shared: Shared;
  /**
   * The context, scrubbed, once a line needs it. A child is made per session and per login step
   * (session, backend, user), and most never write a line at the usual levels: its fields are
   * copied and scrubbed when the first line is written, not when the child is made.
   */
  private resolved: LogFields | undefined;
  /** Until then: the parent and the fields this logger adds to its context (not yet scrubbed). */
  private readonly parent: Logger | undefined;
  private readonly added: LogFields | undefined;
  private readonly channelName: string | undefined;
  private readonly minLevel: LogLevel;

  constructor(sink: LogSink, level: LogLevel = 'info', context: LogFields = {}, options: LoggerOptions = {}) {
    const shared: Shared = {
      sink,
      level,
      traces: options.traces ?? {},
      traceLevels: new Map(),
      traceRoot: options.traceSink ? createPino(options.traceSink) : undefined,
    };
    this.shared = shared;
    this.root = createPino(sink);
    this.resolved = undefined;
    this.parent = undefined;
    this.added = context;
    this.channelName = undefined;
    this.minLevel = level;
  }

  /** A child logger with more context, sharing this logger's destination, level and traces. */
  child(fields: LogFields): Logger {
    return Logger.derive(this, fields, this.channelName);
  }

  /**
   * A child logger for a trace channel (`proxy.ftp.sess`): its lines carry `channel`, and its level
   * is the lower of log.level and what the channel's trace level allows.
   */
  channel(name: string): Logger {
    return Logger.derive(this, { channel: name }, name);
  }

  /**
   * The same logger (level, traces, context) writing to another destination: a listener's own
   * ProxyLog. Trace lines still go to the TraceLog when there is one.
   */
  withSink(sink: LogSink): Logger {
    const logger = Object.create(Logger.prototype) as Logger;
    Object.assign(logger, {
      root: createPino(sink),
      shared: { ...this.shared, sink },
      resolved: this.context,
      parent: undefined,
      added: undefined,
      channelName: this.channelName,
      minLevel: this.minLevel,
    });
    return logger;
  }

  private get context(): LogFields {
    this.resolved ??= {
      ...this.parent?.context,
      ...(this.added ? (scrub(this.added) as LogFields) : {}),
    };
    return this.resolved;
  }

  isEnabled(level: LogLevel): boolean {
    return PINO_LEVELS[level] >= PINO_LEVELS[this.minLevel];
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

  /** Whether `channel` is traced at `level` or more: check it before building costly fields. */
  traces(channel: string, level: number): boolean {
    return tracedLevel(this.shared, channel) >= level;
  }

  /**
   * A trace line (`Trace channel:level`): written, to the TraceLog when there is one, when the channel's
   * configured level is at least `level`, whatever log.level says. `msg` and `fields` may be functions,
   * called only when the line is written (a disabled channel builds nothing).
   */
  trace(
    channel: string,
    level: number,
    msg: string | (() => string),
    fields?: LogFields | (() => LogFields),
  ): void {
    if (tracedLevel(this.shared, channel) < level) return;
    const target = this.shared.traceRoot ?? this.root;
    const extra = typeof fields === 'function' ? fields() : fields;
    target.debug(
      { ...this.context, channel, trace: level, ...(extra ? (scrub(extra) as LogFields) : {}) },
      scrubText(typeof msg === 'function' ? msg() : msg),
    );
  }

  private log(level: LogLevel, msg: string, fields?: LogFields): void {
    if (!this.isEnabled(level)) return;
    this.root[level]({ ...this.context, ...(fields ? (scrub(fields) as LogFields) : {}) }, scrubText(msg));
  }

  private static derive(parent: Logger, added: LogFields, channel: string | undefined): Logger {
    const logger = Object.create(Logger.prototype) as Logger;
    const traced = channel === undefined ? undefined : tracedLevel(parent.shared, channel);
    const channelLevel = traced === undefined || traced === 0 ? undefined : traceLevelAsLogLevel(traced);
    const minLevel =
      channelLevel !== undefined && PINO_LEVELS[channelLevel] < PINO_LEVELS[parent.shared.level]
        ? channelLevel
        : parent.shared.level;
    Object.assign(logger, {
      root: parent.root,
      shared: parent.shared,
      resolved: undefined,
      parent,
      added,
      channelName: channel,
      minLevel,
    });
    return logger;
  }
}

export interface LoggerOptions {
  traces?: TraceChannels;
  /** TraceLog: where trace() lines go instead of the main sink. */
  traceSink?: LogSink;
}

function tracedLevel(shared: Shared, channel: string): number {
  let level = shared.traceLevels.get(channel);
  if (level === undefined) {
    level = traceLevelOf(shared.traces, channel);
    // Channel names are ftpx's own constants: the map stays as small as the channel list.
    shared.traceLevels.set(channel, level);
  }
  return level;
}

function traceLevelOf(traces: TraceChannels, channel: string): number {
  let name = channel;
  for (;;) {
    const level = traces[name];
    if (level !== undefined) return level;
    const dot = name.lastIndexOf('.');
    if (dot < 0) return traces['*'] ?? 0;
    name = name.slice(0, dot);
  }
}

function createPino(sink: LogSink): PinoLogger {
  return pino(
    {
      level: 'debug',
      base: null,
      messageKey: 'msg',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    { write: (line: string) => sink.write(line) },
  );
}

/** Removes secrets from a string (see Logger). */
export function scrubText(text: string): string {
  return text
    .replace(URL_CREDENTIALS, `$1:${REDACTED}@`)
    .replace(PASS_COMMAND, `$1 ${REDACTED}`)
    .replace(BEARER, `$1 ${REDACTED}`);
}

/** Deep copy of `value` with secrets removed and Errors as plain objects. */
function scrub(value: unknown, key = '', depth = 0): unknown {
  if (key !== '' && SECRET_KEYS.test(key)) return REDACTED;
  if (typeof value === 'string') return scrubText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 8) return '[too deep]';
  if (value instanceof Error) {
    const cause = (value as { cause?: unknown }).cause;
    const code = (value as { code?: unknown }).code;
    return {
      name: value.name,
      message: scrubText(value.message),
      ...(code !== undefined ? { code } : {}),
      ...(cause !== undefined ? { cause: scrub(cause, 'cause', depth + 1) } : {}),
    };
  }
  if (value instanceof URL) return scrubText(value.href);
  if (Array.isArray(value)) return value.map((item) => scrub(item, '', depth + 1));
  if (value instanceof Date) return value.toISOString();
  const out: Record<string, unknown> = {};
  for (const [name, item] of Object.entries(value)) out[name] = scrub(item, name, depth + 1);
  return out;
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
