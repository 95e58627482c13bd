import type { Serializable } from 'node:child_process';
import type { Worker } from 'node:cluster';
import { z } from 'zod';
import { abuseResponseSchema } from '../../functions/contract/abuse.js';
import { authResponseSchema } from '../../functions/contract/auth.js';
import { resolveBackendResponseSchema } from '../../functions/contract/resolve-backend.js';
import { sessionEventsResponseSchema } from '../../functions/contract/session-events.js';
import { sshHostKeyResponseSchema } from '../../functions/contract/ssh-host-keys.js';
import { tlsCacheResponseSchema } from '../../functions/contract/tls-cache.js';
import type { Logger } from '../log/logger.js';
import {
  type ClosableControlPlaneClient,
  type ControlPlaneClient,
  ControlPlaneError,
} from './control-plane-client.js';

/**
 * The control plane over the IPC channel every node:cluster worker has to its primary: the
 * `--workers N` mode with the embedded control plane. The primary runs the in-process control plane
 * (the `--workers 1` one) on the store it owns; a worker's call is one message there and one back,
 * instead of an HTTP request on a loopback port (bench/README.md, "Logins over the IPC channel").
 *
 * Both ends check every message on arrival: a worker or a primary that sends garbage gets an error
 * or is ignored, and neither crashes. The request itself is checked against the contract by the
 * handler it reaches (as for HTTP and Lambda), the answer by the worker.
 */

/** The handler's own deadline is 5 s (in-process-transport.ts): its error arrives first. */
export const IPC_CALL_TIMEOUT_MS = 6000;
/** Calls a worker may have waiting for the primary; more fail at once instead of queueing. */
export const IPC_MAX_PENDING = 4096;
/** Calls the primary runs at once for one worker; more are answered 503 (a worker gone wrong). */
export const IPC_MAX_IN_FLIGHT_PER_WORKER = 4096;
/** Longest error text carried back to a worker. */
const MAX_ERROR_MESSAGE = 2048;

export const CALL_TYPE = 'control-plane';
export const REPLY_TYPE = 'control-plane-reply';

/** The operations, by the names the in-process transport gives its errors. */
const OPERATIONS = {
  'resolve-backend': { method: 'resolveBackend', response: resolveBackendResponseSchema },
  'session-events': { method: 'sessionEvent', response: sessionEventsResponseSchema },
  authenticate: { method: 'authenticate', response: authResponseSchema },
  'tls-cache': { method: 'tlsCache', response: tlsCacheResponseSchema },
  'ssh-host-keys': { method: 'sshHostKey', response: sshHostKeyResponseSchema },
  abuse: { method: 'abuse', response: abuseResponseSchema },
} as const satisfies Record<string, { method: keyof ControlPlaneClient; response: z.ZodType }>;
type Operation = keyof typeof OPERATIONS;
const operationNames = Object.keys(OPERATIONS) as [Operation, ...Operation[]];

const callId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/** Worker → primary. */
const callSchema = z
  .object({
    type: z.literal(CALL_TYPE),
    id: callId,
    op: z.enum(operationNames),
    request: z.record(z.string(), z.unknown()),
  })
  .strict();
export type IpcCall = z.output<typeof callSchema>;

/** The error a call ended with, as much of it as the worker needs to raise the in-process one. */
const errorSchema = z
  .object({
    message: z.string().max(MAX_ERROR_MESSAGE),
    /** A handler's HTTP status (4xx: a refusal, not an outage). */
    status: z.number().int().min(400).max(599).optional(),
  })
  .strict();

/** Primary → worker. */
const replySchema = z.union([
  z.object({ type: z.literal(REPLY_TYPE), id: callId, result: z.unknown() }).strict(),
  z.object({ type: z.literal(REPLY_TYPE), id: callId, error: errorSchema }).strict(),
]);
export type IpcReply = z.output<typeof replySchema>;

/** One end of an IPC channel: the worker's `process`, or the primary's `cluster.Worker`. */
export interface IpcEndpoint {
  send(message: unknown, callback: (error: Error | null) => void): void;
  onMessage(listener: (message: unknown) => void): () => void;
  /** Called once when the channel closes (the other end exited or disconnected). */
  onClose(listener: () => void): () => void;
}

/** The worker's end: this process's channel to its primary. */
export function primaryEndpoint(): IpcEndpoint {
  return {
    send: (message, callback) => {
      if (!process.send || !process.connected) {
        callback(new Error('no IPC channel to the primary'));
        return;
      }
      process.send(message, undefined, undefined, callback);
    },
    onMessage: (listener) => {
      process.on('message', listener);
      return () => process.off('message', listener);
    },
    onClose: (listener) => {
      process.once('disconnect', listener);
      return () => process.off('disconnect', listener);
    },
  };
}

/** The primary's end of one worker's channel. */
export function workerEndpoint(worker: Worker): IpcEndpoint {
  return {
    send: (message, callback) => {
      if (!worker.isConnected()) {
        callback(new Error('the worker is gone'));
        return;
      }
      worker.send(message as Serializable, undefined, undefined, callback);
    },
    onMessage: (listener) => {
      worker.on('message', listener);
      return () => worker.off('message', listener);
    },
    onClose: (listener) => {
      worker.once('disconnect', listener);
      return () => worker.off('disconnect', listener);
    },
  };
}

interface Pending {
  operation: Operation;
  timer: NodeJS.Timeout;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/**
 * The worker's control-plane client over IPC. Every call has a deadline; when the channel closes
 * (the primary is gone) every waiting call fails and new ones fail at once; at most `maxPending`
 * calls wait. Errors are the in-process transport's: a ControlPlaneError whose cause carries the
 * handler's status, so a refusal (4xx) and an outage are told apart as before.
 */
export function createIpcControlPlane(
  endpoint: IpcEndpoint,
  options: { timeoutMs?: number; maxPending?: number; log?: Logger } = {},
): ClosableControlPlaneClient {
  const timeoutMs = options.timeoutMs ?? IPC_CALL_TIMEOUT_MS;
  const maxPending = options.maxPending ?? IPC_MAX_PENDING;
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let closed: string | undefined;

  const failAll = (reason: string) => {
    closed ??= reason;
    for (const [id, call] of pending) {
      pending.delete(id);
      clearTimeout(call.timer);
      call.reject(new ControlPlaneError(call.operation, reason));
    }
  };
  const stopMessages = endpoint.onMessage((message) => {
    if ((message as { type?: unknown } | null)?.type !== REPLY_TYPE) return;
    const parsed = replySchema.safeParse(message);
    const id = parsed.success ? parsed.data.id : (message as { id?: unknown }).id;
    const call = typeof id === 'number' ? pending.get(id) : undefined;
    if (!call) {
      // Late (after its deadline) or never asked for: nobody waits for it.
      options.log?.debug('control-plane reply for no waiting call dropped', { id: String(id) });
      return;
    }
    pending.delete(id as number);
    clearTimeout(call.timer);
    if (!parsed.success) {
      call.reject(new ControlPlaneError(call.operation, 'malformed reply', { cause: parsed.error }));
      return;
    }
    const reply = parsed.data;
    if ('error' in reply) {
      call.reject(rebuildError(call.operation, reply.error));
      return;
    }
    const result = OPERATIONS[call.operation].response.safeParse(reply.result);
    if (!result.success) {
      call.reject(new ControlPlaneError(call.operation, 'malformed response', { cause: result.error }));
      return;
    }
    call.resolve(result.data);
  });
  const stopClose = endpoint.onClose(() => failAll('the cluster primary is gone'));

  const call = (operation: Operation, request: unknown): Promise<unknown> => {
    if (closed !== undefined) return Promise.reject(new ControlPlaneError(operation, closed));
    if (pending.size >= maxPending) {
      return Promise.reject(
        new ControlPlaneError(operation, `${maxPending} calls already wait for the cluster primary`),
      );
    }
    const id = nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new ControlPlaneError(operation, `no answer from the cluster primary within ${timeoutMs} ms`));
      }, timeoutMs);
      pending.set(id, { operation, timer, resolve, reject });
      endpoint.send({ type: CALL_TYPE, id, op: operation, request }, (err) => {
        if (!err) return;
        const waiting = pending.get(id);
        if (!waiting) return;
        pending.delete(id);
        clearTimeout(waiting.timer);
        reject(
          new ControlPlaneError(operation, `not sent to the cluster primary: ${err.message}`, { cause: err }),
        );
      });
    });
  };
  const typed =
    <R>(operation: Operation) =>
    (request: unknown) =>
      call(operation, request) as Promise<R>;
  return {
    resolveBackend: typed('resolve-backend'),
    sessionEvent: typed('session-events'),
    authenticate: typed('authenticate'),
    tlsCache: typed('tls-cache'),
    sshHostKey: typed('ssh-host-keys'),
    abuse: typed('abuse'),
    close: async () => {
      stopMessages();
      stopClose();
      failAll('the control-plane client is closed');
    },
  };
}

/** The in-process error again: same class, same message, the status where the handler gave one. */
function rebuildError(operation: Operation, error: z.output<typeof errorSchema>): ControlPlaneError {
  if (error.status === undefined) return new ControlPlaneError(operation, error.message);
  const cause = Object.assign(new Error(error.message), { statusCode: error.status });
  return new ControlPlaneError(operation, error.message, { cause });
}

/** What the primary sends back for a ControlPlaneError (or anything else a call threw). */
function errorReply(operation: Operation, err: unknown): z.output<typeof errorSchema> {
  const prefix = `control plane ${operation}: `;
  const text = err instanceof Error ? err.message : String(err);
  const message = (text.startsWith(prefix) ? text.slice(prefix.length) : text).slice(0, MAX_ERROR_MESSAGE);
  const status = (err as { cause?: { statusCode?: unknown } } | null)?.cause?.statusCode;
  return typeof status === 'number' && Number.isInteger(status) && status >= 400 && status <= 599
    ? { message, status }
    : { message };
}

/**
 * The primary's end: answers one worker's calls with `controlPlane` (the in-process one). A
 * malformed call is answered with a 400 when it names an id, else dropped; either way logged.
 * Returns a function that stops listening.
 */
export function answerControlPlaneCalls(
  endpoint: IpcEndpoint,
  controlPlane: ControlPlaneClient,
  options: { log: Logger; maxInFlight?: number },
): () => void {
  const { log } = options;
  const maxInFlight = options.maxInFlight ?? IPC_MAX_IN_FLIGHT_PER_WORKER;
  let inFlight = 0;
  const reply = (message: IpcReply) =>
    endpoint.send(message, () => {
      // The worker exited meanwhile: nobody is left to answer.
    });
  return endpoint.onMessage((message) => {
    if ((message as { type?: unknown } | null)?.type !== CALL_TYPE) return;
    const parsed = callSchema.safeParse(message);
    if (!parsed.success) {
      const id = callId.safeParse((message as { id?: unknown }).id);
      log.warn('malformed control-plane call from a worker refused', {
        issues: parsed.error.issues.slice(0, 5).map((issue) => `${issue.path.join('.')}: ${issue.message}`),
      });
      if (id.success)
        reply({ type: REPLY_TYPE, id: id.data, error: { message: 'malformed call', status: 400 } });
      return;
    }
    const { id, op, request } = parsed.data;
    if (inFlight >= maxInFlight) {
      reply({
        type: REPLY_TYPE,
        id,
        error: { message: `${maxInFlight} calls of this worker already running`, status: 503 },
      });
      return;
    }
    const method = controlPlane[OPERATIONS[op].method] as
      | ((request: unknown) => Promise<unknown>)
      | undefined;
    if (!method) {
      reply({ type: REPLY_TYPE, id, error: { message: 'not served here', status: 404 } });
      return;
    }
    inFlight += 1;
    method.call(controlPlane, request).then(
      (result) => {
        inFlight -= 1;
        reply({ type: REPLY_TYPE, id, result });
      },
      (err: unknown) => {
        inFlight -= 1;
        reply({ type: REPLY_TYPE, id, error: errorReply(op, err) });
      },
    );
  });
}
