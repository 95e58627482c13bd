import { randomUUID } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { setTimeout as sleepFor } from 'node:timers/promises';
import { context, propagation } from '@opentelemetry/api';
import type { z } from 'zod';
import {
  type AbuseRequest,
  type AbuseResponse,
  abuseResponseSchema,
} from '../../functions/contract/abuse.js';
import { type AuthRequest, type AuthResponse, authResponseSchema } from '../../functions/contract/auth.js';
import {
  type ResolveBackendRequest,
  type ResolveBackendResponse,
  resolveBackendResponseSchema,
} from '../../functions/contract/resolve-backend.js';
import {
  type SessionEventsRequest,
  type SessionEventsResponse,
  sessionEventsResponseSchema,
} from '../../functions/contract/session-events.js';
import {
  type SshHostKeyRequest,
  type SshHostKeyResponse,
  sshHostKeyResponseSchema,
} from '../../functions/contract/ssh-host-keys.js';
import {
  type TlsCacheRequest,
  type TlsCacheResponse,
  tlsCacheResponseSchema,
} from '../../functions/contract/tls-cache.js';
import type { Random } from '../../functions/core/random.js';
import type { Logger } from '../log/logger.js';
import {
  type ClosableControlPlaneClient,
  ControlPlaneError,
  ControlPlaneRejectedError,
} from './control-plane-client.js';

/** Extra headers for one request, e.g. an AWS Signature V4 for an IAM-authorized API. */
export type RequestSigner = (request: {
  method: string;
  url: string;
  headers: Readonly<Record<string, string>>;
  body: string;
}) => Record<string, string> | Promise<Record<string, string>>;

export interface HttpControlPlaneOptions {
  /** The control plane's base URL (http or https), e.g. `http://10.0.0.5:8080` or an API stage URL. */
  url: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** CA certificates (PEM) an https control plane's certificate must chain to, instead of the system's. */
  ca?: string | Buffer;
  /** Signs each request (after the bearer header is set); for gateways that authorize by signature. */
  sign?: RequestSigner;
  /** Per attempt: connect, send and the whole answer must fit in it. */
  timeoutMs: number;
  /** Attempts after the first, for failures worth retrying (see `retryable`). */
  retries: number;
  /** Backoff: attempt n waits uniform [0, min(maxMs, baseMs * 2^(n-1))) ("full jitter"). */
  backoff?: { baseMs?: number; maxMs?: number };
  /** Keep-alive connections to the control plane at most. Defaults to 16. */
  connections?: number;
  log: Logger;
  /** Uniform in [0, 1), for the jitter; defaults to Math.random. */
  random?: Random;
  /** Waits between attempts; defaults to a timer (tests pass one that records and returns at once). */
  sleep?: (ms: number) => Promise<void>;
}

export const DEFAULT_BACKOFF = { baseMs: 100, maxMs: 2000 } as const;

/** How long a keep-alive connection to the control plane stays open unused (undici's default). */
const IDLE_SOCKET_MS = 4000;

/** Largest answer accepted from the control plane. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

/** Network failures that happen before a request is sent: retrying them can never apply it twice. */
const UNSENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Network failures where the request may or may not have reached the control plane. */
const MAYBE_SENT_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

/** The error code of an answer longer than MAX_RESPONSE_BYTES (cut off unread). */
const RESPONSE_TOO_LARGE = 'FTPX_RESPONSE_TOO_LARGE';

/**
 * Whether a call may be repeated after a failure whose effect is unknown. resolve-backend may: a
 * repeat is one more selection, as a connect retry is. A heartbeat may: it only extends leases.
 * connected/ended/connect-failed may not: a repeat could count a session twice, so they are
 * repeated only when they surely were not applied (nothing sent, or a 429).
 */
export type Idempotency = 'repeatable' | 'once';

/** What one attempt ended with, when it did not end with an answer. */
export interface AttemptFailure {
  error: ControlPlaneError;
  /** The request surely did not take effect (not sent, or refused with 429). */
  notApplied: boolean;
  /** Worth another attempt if the call allows it. */
  transient: boolean;
  /** From Retry-After, when the control plane asked for a pause. */
  retryAfterMs?: number;
}

/** Attempt `attempt` (1-based) waits this long before the next one: full jitter over an exponential cap. */
export function backoffDelay(
  attempt: number,
  random: Random,
  backoff: { baseMs?: number; maxMs?: number } = {},
): number {
  const base = backoff.baseMs ?? DEFAULT_BACKOFF.baseMs;
  const max = backoff.maxMs ?? DEFAULT_BACKOFF.maxMs;
  const cap = Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * cap);
}

/** Whether a failed attempt is repeated, given how the call tolerates repeats. */
export function retryable(failure: AttemptFailure, idempotency: Idempotency): boolean {
  if (!failure.transient) return false;
  return idempotency === 'repeatable' || failure.notApplied;
}

export interface HttpControlPlane extends ClosableControlPlaneClient {
  /** The base URL, for logs (it carries no credentials). */
  readonly url: string;
}

/**
 * The control plane over HTTP, through a node:http agent of keep-alive connections: each call is a
 * POST of the contract's request as JSON; the answer is checked against the contract's schema.
 * Network failures, timeouts, 5xx and 429 are retried with exponential backoff and full jitter (see
 * Idempotency for which calls); other 4xx are refusals (ControlPlaneRejectedError), never retried.
 */
export function createHttpControlPlane(options: HttpControlPlaneOptions): HttpControlPlane {
  const base = parseBaseUrl(options.url);
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? ((ms: number) => sleepFor(ms));
  const log = options.log;
  const timeoutMs = options.timeoutMs;
  // node:http rather than undici: a worker that loads undici for this one client holds ~8 MiB more
  // (bench/README.md, "Before sessions"). An idle pooled socket is closed after 4 s, as undici did,
  // or sooner when the server's `Keep-Alive: timeout` hint says so (the agent honours it only below
  // its own timeout), so the server never cuts one under a request; on a socket in use the agent's
  // timeout does nothing (post's deadline bounds it). `ca` only replaces the roots: the
  // certificate and the host name are always verified.
  const agentOptions = { keepAlive: true, timeout: IDLE_SOCKET_MS, maxSockets: options.connections ?? 16 };
  const agent = base.secure
    ? new HttpsAgent({ ...agentOptions, ...(options.ca !== undefined ? { ca: options.ca } : {}) })
    : new HttpAgent(agentOptions);
  const send = base.secure ? httpsRequest : httpRequest;
  /** Calls under way: close() lets them finish (a drained worker's last session events) first. */
  const inFlight = new Set<Promise<unknown>>();

  /**
   * One POST and its whole answer; `deadline` bounds all of it (connect, send, headers, body) and
   * says whether it was what ended the attempt. A plain timer rather than `AbortSignal.timeout`:
   * measured on keep-alive loopback calls, that signal added 40–70 % to the CPU of a whole call,
   * and every login makes one (bench/README.md, "Login path").
   */
  function post(
    path: string,
    headers: Record<string, string>,
    body: string,
    deadline: { ms: number; expired: boolean },
  ): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
    let timer: NodeJS.Timeout | undefined;
    const answer = new Promise<{ status: number; headers: IncomingHttpHeaders; text: string }>(
      (resolve, reject) => {
        const request = send(
          `${base.origin}${path}`,
          {
            method: 'POST',
            agent,
            headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
          },
          (response) => {
            const chunks: Buffer[] = [];
            let size = 0;
            response.on('data', (chunk: Buffer) => {
              size += chunk.length;
              if (size > MAX_RESPONSE_BYTES) {
                const error = Object.assign(new Error(`answer larger than ${MAX_RESPONSE_BYTES} bytes`), {
                  code: RESPONSE_TOO_LARGE,
                });
                reject(error);
                response.destroy(error);
                return;
              }
              chunks.push(chunk);
            });
            response.on('end', () =>
              resolve({
                status: response.statusCode ?? 0,
                headers: response.headers,
                text: Buffer.concat(chunks, size).toString('utf8'),
              }),
            );
            response.on('error', reject);
            // The connection closed before the whole answer arrived.
            response.on('close', () => {
              if (!response.complete) {
                reject(
                  Object.assign(new Error('connection closed before the whole answer'), {
                    code: 'ECONNRESET',
                  }),
                );
              }
            });
          },
        );
        request.on('error', reject);
        timer = setTimeout(() => {
          deadline.expired = true;
          const error = Object.assign(new Error(`no answer within ${deadline.ms} ms`), { code: 'ETIMEDOUT' });
          reject(error);
          request.destroy(error);
        }, deadline.ms);
        request.end(body);
      },
    );
    const settled = answer.catch(() => {}).finally(() => clearTimeout(timer));
    inFlight.add(settled);
    void settled.then(() => inFlight.delete(settled));
    return answer;
  }

  async function attempt<S extends z.ZodType>(
    operation: string,
    path: string,
    body: string,
    schema: S,
  ): Promise<{ value: z.output<S> } | AttemptFailure> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
      'x-request-id': randomUUID(),
    };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    // W3C trace context of the session's login span (a no-op unless tracing was started).
    propagation.inject(context.active(), headers);
    if (options.sign) {
      Object.assign(headers, await options.sign({ method: 'POST', url: base.origin + path, headers, body }));
    }
    const deadline = { ms: timeoutMs, expired: false };
    let status: number;
    let text: string;
    let retryAfter: string | string[] | undefined;
    try {
      const response = await post(path, headers, body, deadline);
      status = response.status;
      retryAfter = response.headers['retry-after'];
      text = response.text;
    } catch (err) {
      return networkFailure(operation, err, deadline.expired, timeoutMs);
    }
    if (status === 200) {
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (err) {
        return {
          error: new ControlPlaneError(operation, 'malformed response: not JSON', { cause: err }),
          notApplied: false,
          transient: false,
        };
      }
      const parsed = schema.safeParse(json);
      if (!parsed.success) {
        return {
          error: new ControlPlaneError(operation, 'malformed response', { cause: parsed.error }),
          notApplied: false,
          transient: false,
        };
      }
      return { value: parsed.data };
    }
    const described = describeErrorBody(status, text);
    if (status === 429 || status >= 500) {
      const retryAfterMs = parseRetryAfter(retryAfter);
      return {
        error: new ControlPlaneError(operation, described),
        notApplied: status === 429,
        transient: true,
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      };
    }
    const hint = status === 401 || status === 403 ? ' (check the control plane token)' : '';
    return {
      error: new ControlPlaneRejectedError(operation, status, `${described}${hint}`),
      notApplied: true,
      transient: false,
    };
  }

  async function call<S extends z.ZodType>(
    operation: string,
    payload: unknown,
    schema: S,
    idempotency: Idempotency,
  ): Promise<z.output<S>> {
    const path = `${base.path}/v1/${operation}`;
    const body = JSON.stringify(payload);
    for (let n = 1; ; n++) {
      const outcome = await attempt(operation, path, body, schema);
      if ('value' in outcome) return outcome.value;
      if (n > options.retries || !retryable(outcome, idempotency)) {
        if (n === 1 || outcome.error instanceof ControlPlaneRejectedError) throw outcome.error;
        throw new ControlPlaneError(
          operation,
          `${stripPrefix(outcome.error, operation)} (after ${n} attempts)`,
          {
            cause: outcome.error,
          },
        );
      }
      const jittered = backoffDelay(n, random, options.backoff);
      const maxMs = options.backoff?.maxMs ?? DEFAULT_BACKOFF.maxMs;
      const delay = Math.max(jittered, Math.min(outcome.retryAfterMs ?? 0, maxMs));
      log.debug('control plane call failed, retrying', {
        operation,
        attempt: n,
        delayMs: delay,
        reason: stripPrefix(outcome.error, operation),
      });
      await sleep(delay);
    }
  }

  return {
    url: base.display,
    resolveBackend: (request: ResolveBackendRequest): Promise<ResolveBackendResponse> =>
      call('resolve-backend', request, resolveBackendResponseSchema, 'repeatable'),
    sessionEvent: (event: SessionEventsRequest): Promise<SessionEventsResponse> =>
      call(
        'session-events',
        event,
        sessionEventsResponseSchema,
        event.type === 'heartbeat' ? 'repeatable' : 'once',
      ),
    // Repeated only when surely not applied: each attempt may count as a failed login at an
    // identity hook's directory (lockouts), and the user can simply try again.
    authenticate: (request: AuthRequest): Promise<AuthResponse> =>
      call('authenticate', request, authResponseSchema, 'once'),
    // Every tls-cache operation may be repeated: puts replace the same entry, reads read, key
    // creation is first-writer-wins. Only the hit report would count twice, so it is sent once.
    tlsCache: (request: TlsCacheRequest): Promise<TlsCacheResponse> =>
      call(
        'tls-cache',
        request,
        tlsCacheResponseSchema,
        request.op === 'report-hits' ? 'once' : 'repeatable',
      ),
    // A get, or a put of the same key again: repeating either changes nothing.
    sshHostKey: (request: SshHostKeyRequest): Promise<SshHostKeyResponse> =>
      call('ssh-host-keys', request, sshHostKeyResponseSchema, 'repeatable'),
    // Acquire and ban-event count: repeating one would count twice. The rest change nothing when repeated.
    abuse: (request: AbuseRequest): Promise<AbuseResponse> =>
      call(
        'abuse',
        request,
        abuseResponseSchema,
        request.op === 'acquire' || request.op === 'ban-event' ? 'once' : 'repeatable',
      ),
    close: async () => {
      await Promise.all(inFlight);
      agent.destroy();
    },
  };
}

function parseBaseUrl(value: string): { origin: string; path: string; display: string; secure: boolean } {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`control plane URL "${value}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`control plane URL must be http or https (got ${url.protocol})`);
  }
  if (url.username || url.password) {
    throw new TypeError('control plane URL must not carry credentials: give a token instead');
  }
  if (url.search || url.hash) throw new TypeError('control plane URL must not have a query or fragment');
  const path = url.pathname.replace(/\/+$/, '');
  return { origin: url.origin, path, display: `${url.origin}${path}`, secure: url.protocol === 'https:' };
}

function networkFailure(
  operation: string,
  err: unknown,
  timedOut: boolean,
  timeoutMs: number,
): AttemptFailure {
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  if (timedOut) {
    return {
      error: new ControlPlaneError(operation, `no answer within ${timeoutMs} ms`, { cause: err }),
      notApplied: false,
      transient: true,
    };
  }
  if (typeof code === 'string' && UNSENT_CODES.has(code)) {
    return {
      error: new ControlPlaneError(operation, `unreachable: ${message}`, { cause: err }),
      notApplied: true,
      transient: true,
    };
  }
  if (typeof code === 'string' && MAYBE_SENT_CODES.has(code)) {
    return {
      error: new ControlPlaneError(operation, `connection failed: ${message}`, { cause: err }),
      notApplied: false,
      transient: true,
    };
  }
  if (code === RESPONSE_TOO_LARGE) {
    return {
      error: new ControlPlaneError(operation, 'malformed response: too large', { cause: err }),
      notApplied: false,
      transient: false,
    };
  }
  return {
    error: new ControlPlaneError(operation, message, { cause: err }),
    notApplied: false,
    transient: false,
  };
}

/** `HTTP 400 invalid_request: <message> (path: problem; ...)` from the control plane's error body. */
function describeErrorBody(status: number, text: string): string {
  try {
    const { error } = JSON.parse(text) as {
      error?: { code?: unknown; message?: unknown; issues?: { path?: unknown; message?: unknown }[] };
    };
    if (error && typeof error.message === 'string') {
      const code = typeof error.code === 'string' ? ` ${error.code}` : '';
      const issues = Array.isArray(error.issues)
        ? error.issues
            .slice(0, 5)
            .map((issue) => `${String(issue.path ?? '') || '(body)'}: ${String(issue.message ?? '')}`)
        : [];
      const detail =
        issues.length > 0 && !error.message.includes(issues[0] ?? '') ? ` (${issues.join('; ')})` : '';
      return `HTTP ${status}${code}: ${error.message.slice(0, 500)}${detail}`;
    }
  } catch {
    // Not our error body (a gateway or proxy answered): the status says enough.
  }
  return `HTTP ${status}`;
}

function parseRetryAfter(value: string | string[] | undefined): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined) return undefined;
  const seconds = Number(text);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** The message without the "control plane <operation>: " prefix ControlPlaneError adds. */
function stripPrefix(error: ControlPlaneError, operation: string): string {
  const prefix = `control plane ${operation}: `;
  return error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
}
