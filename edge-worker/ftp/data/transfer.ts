import type { Socket } from 'node:net';
import type { Transform } from 'node:stream';
import type { Logger } from '../../log/logger.js';
import { withTimeout } from '../../net/with-timeout.js';
import { type BackendChannel, describeReply } from '../control/backend-control.js';
import type { CommandEvent, FtpCommand } from '../control/command-parser.js';
import type { FrontendControl } from '../control/frontend-control.js';
import { type FtpReply, localReply } from '../control/reply.js';
import type { DataEndpoint } from './data-endpoint.js';
import { DataConnectionError } from './data-errors.js';
import { relayData, releaseDataSocket, type SinkClose } from './data-relay.js';

/** Backend to client. */
const DOWNLOADS = new Set(['RETR', 'LIST', 'NLST', 'MLSD']);
/** Client to backend. */
const UPLOADS = new Set(['STOR', 'APPE', 'STOU']);
export const TRANSFER_COMMANDS: ReadonlySet<string> = new Set([...DOWNLOADS, ...UPLOADS]);

export interface TransferRequest {
  command: FtpCommand;
  /** What is sent to the backend, when not the client's command (MLSD served from LIST). */
  backendLine?: string;
  /** Rewrites or paces the bytes on their way, in order (MLSD from LIST, TransferRate). */
  through?: Transform[];
  backend: BackendChannel;
  backendData: DataEndpoint;
  clientData: DataEndpoint;
  frontend: FrontendControl;
  /**
   * ProxyTimeoutLinger: after the data connection's end (or a failed relay), how long the backend's
   * final reply is waited for (mod_proxy then answers `500 <verb>: Connection timed out`; after a
   * failed relay ftpx sends ABOR). 0: no limit after a normal end.
   */
  lingerMs: number;
  /** Called as bytes move (TimeoutStalled, the transfer log, TransferRate). */
  onProgress: (bytes: number) => void;
  log: Logger;
}

export type TransferOutcome = 'completed' | 'failed' | 'aborted' | 'client-gone';

/** What can happen during a transfer, and which of the three things we wait on produced it. */
type Event =
  | { source: 'relay'; kind: 'relayed'; bytes: number }
  | { source: 'relay'; kind: 'relay-failed'; error: Error }
  | { source: 'backend'; kind: 'final'; reply: FtpReply }
  | { source: 'client'; kind: 'abor' }
  | { source: 'client'; kind: 'client-gone' }
  | { source: 'linger'; kind: 'linger-timeout' };

const isAbor = (event: CommandEvent) => event.kind === 'command' && event.command.verb === 'ABOR';

/**
 * Runs one transfer command: the command goes to the backend, both data connections are opened
 * right after it (a passive backend may accept before it replies 1xx; an active one connects to us),
 * bytes are relayed with backpressure, and the backend's final reply reaches the client only after
 * the last byte did, so a racing 226 can never truncate a download. ABOR from the client during the
 * transfer takes priority over other commands, which wait their turn.
 */
export async function runTransfer(request: TransferRequest): Promise<TransferOutcome> {
  const { command, backend, frontend, log } = request;
  const started = performance.now();
  const download = DOWNLOADS.has(command.verb);
  const relayAbort = new AbortController();
  const waitAbort = new AbortController();

  const line = request.backendLine ?? (command.arg === '' ? command.verb : `${command.verb} ${command.arg}`);
  const finalReply = backend.command(line, {
    onPreliminary: (reply) => frontend.send(reply),
    preliminaryLimit: 1,
  });
  log.trace(
    'proxy',
    17,
    () =>
      `${/ connect to /.test(request.backendData.description) ? 'connecting to backend server for passive' : 'accepting connection from backend server for active'} data transfer for ${command.verb}`,
  );
  const backendSocket = request.backendData.open(relayAbort.signal);
  const clientSocket = request.clientData.open(relayAbort.signal);
  // Whichever side connected is closed on every path, including when the other side never came.
  const sockets = [backendSocket, clientSocket];
  for (const socket of sockets) socket.catch(() => {});

  const onSinkClosed = (how: SinkClose) =>
    log.debug('data connection closed', { verb: command.verb, side: download ? 'client' : 'backend', how });
  const relay = Promise.all(sockets).then(([fromBackend, fromClient]: Socket[]) =>
    download
      ? relayData(
          fromBackend as Socket,
          fromClient as Socket,
          relayAbort.signal,
          request.onProgress,
          request.through,
          onSinkClosed,
        )
      : relayData(
          fromClient as Socket,
          fromBackend as Socket,
          relayAbort.signal,
          request.onProgress,
          // TransferRate STOR/APPE/STOU paces uploads the same way (a listing's rewrite is never here).
          request.through,
          onSinkClosed,
        ),
  );
  const relayEvent: Promise<Event> = relay.then(
    (bytes) => {
      // Once per transfer, never per chunk: mod_proxy's per-read line would cost on the hot path.
      log.trace('proxy.ftp.data', 15, () => `received ${bytes} bytes of data (whole transfer), read EOF`);
      return { source: 'relay', kind: 'relayed', bytes };
    },
    (error: Error) => ({ source: 'relay', kind: 'relay-failed', error }),
  );
  // A lost backend rejects finalReply: that propagates to the session, which ends with a 421.
  const finalEvent: Promise<Event> = finalReply.then((reply) => ({
    source: 'backend',
    kind: 'final',
    reply,
  }));
  const clientEvent: Promise<Event> = frontend.commands
    .waitFor(isAbor, waitAbort.signal)
    .then((event) => ({ source: 'client', kind: event === undefined ? 'client-gone' : 'abor' }));

  let lingerTimer: NodeJS.Timeout | undefined;
  const cleanUp = () => {
    clearTimeout(lingerTimer);
    relayAbort.abort();
    waitAbort.abort();
    request.clientData.dispose();
    request.backendData.dispose();
    for (const socket of sockets) socket.then(releaseDataSocket, () => {});
  };

  try {
    const pending = new Map<Event['source'], Promise<Event>>([
      ['relay', relayEvent],
      ['backend', finalEvent],
      ['client', clientEvent],
    ]);
    let final: FtpReply | undefined;
    let relayed: number | undefined;
    for (;;) {
      const event = await Promise.race(pending.values());
      pending.delete(event.source);
      log.debug('transfer event', { verb: command.verb, event: event.kind });
      switch (event.kind) {
        case 'client-gone':
          cleanUp();
          swallow(finalReply);
          return 'client-gone';
        case 'abor':
          log.trace('proxy', 19, 'received ABOR on frontend connection, closing backend data connection');
          return await abort(request, finalReply, cleanUp);
        case 'final':
          final = event.reply;
          if (final.code < 200) {
            // A second 1xx instead of a final reply: the backend gave up on the transfer (see preliminaryLimit).
            cleanUp();
            await relay.catch(() => {});
            await frontend.reply(426, 'Connection closed; transfer aborted.');
            log.warn('backend ended the transfer without a final reply', {
              verb: command.verb,
              reply: describeReply(final),
            });
            return 'failed';
          }
          if (final.code >= 400) {
            // The backend refused or failed the transfer: nothing more will flow.
            cleanUp();
            await relay.catch(() => {});
            await frontend.send(final);
            log.info('transfer refused by backend', { verb: command.verb, reply: describeReply(final) });
            return 'failed';
          }
          if (relayed !== undefined) return await finish(request, final, relayed, started, cleanUp);
          break;
        case 'relayed':
          relayed = event.bytes;
          if (final !== undefined) return await finish(request, final, relayed, started, cleanUp);
          if (request.lingerMs > 0) {
            pending.set(
              'linger',
              new Promise<Event>((resolve) => {
                lingerTimer = setTimeout(
                  () => resolve({ source: 'linger', kind: 'linger-timeout' }),
                  request.lingerMs,
                );
              }),
            );
          }
          break;
        case 'linger-timeout':
          // The data ended but the backend did not say how: its late reply is consumed in order.
          cleanUp();
          swallow(finalReply);
          await frontend.reply(500, `${command.verb}: Connection timed out`);
          log.warn('timed out waiting for the end-of-transfer reply from the backend', {
            verb: command.verb,
            lingerMs: request.lingerMs,
          });
          return 'failed';
        case 'relay-failed':
          cleanUp();
          return await relayFailed(request, event.error, final, finalReply);
      }
    }
  } finally {
    cleanUp();
    // The splice relay hands over its last bytes when its thread has let go of the sockets, a moment
    // after an abort: waited for (bounded), so the TransferLog entry and the byte counters the caller
    // writes after this returns include them, as the JS relay's per-chunk counts always did.
    await settledWithin(relay, RELAY_SETTLE_MS);
  }
}

/** How long an ended transfer waits for its relay to report the last bytes it moved. */
const RELAY_SETTLE_MS = 2000;

async function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise.then(
      () => {},
      () => {},
    ),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}

async function finish(
  request: TransferRequest,
  final: FtpReply,
  bytes: number,
  started: number,
  cleanUp: () => void,
): Promise<TransferOutcome> {
  cleanUp();
  await request.frontend.send(final);
  request.log.info('transfer completed', {
    verb: request.command.verb,
    path: request.command.arg,
    bytes,
    ms: Math.round(performance.now() - started),
    reply: final.code,
  });
  return 'completed';
}

/**
 * The data connection failed (client never connected, a peer reset, the backend's port refused).
 * The backend's own final reply is waited for, up to the linger time: when it is an error, it says
 * best what went wrong (550 for a missing file, whose data connection the backend just drops) and the
 * client gets it; otherwise the client gets one clear final reply of ours. A backend that has not
 * answered by then gets ABOR, so it gives up too; its late replies are consumed in order.
 */
async function relayFailed(
  request: TransferRequest,
  error: Error,
  final: FtpReply | undefined,
  finalReply: Promise<FtpReply>,
): Promise<TransferOutcome> {
  const { frontend, backend, log } = request;
  const backendFinal =
    final ??
    (await withTimeout(
      finalReply.then((reply): FtpReply | undefined => reply),
      request.lingerMs,
      () => undefined,
    ));
  if (backendFinal === undefined) swallow(backend.command('ABOR'));
  if (backendFinal !== undefined && backendFinal.code >= 400) {
    await frontend.send(backendFinal);
    log.info('transfer refused by backend', {
      verb: request.command.verb,
      reply: describeReply(backendFinal),
    });
    return 'failed';
  }
  const neverConnected = error instanceof DataConnectionError;
  log.warn('transfer failed', { verb: request.command.verb, reason: error.message });
  await frontend.reply(
    neverConnected ? 425 : 426,
    neverConnected ? `Can't open data connection: ${error.message}.` : 'Connection closed; transfer aborted.',
  );
  return 'failed';
}

/** Client ABOR mid-transfer: close the data connections, abort the backend, relay both final replies. */
async function abort(
  request: TransferRequest,
  finalReply: Promise<FtpReply>,
  cleanUp: () => void,
): Promise<TransferOutcome> {
  const { frontend, backend, log } = request;
  cleanUp();
  const aborReply = backend.command('ABOR');
  aborReply.catch(() => {});
  const transferReply = await finalReply;
  await frontend.send(
    transferReply.code < 200 ? localReply(426, 'Connection closed; transfer aborted.') : transferReply,
  );
  await frontend.send(await aborReply);
  log.info('transfer aborted by client', { verb: request.command.verb, path: request.command.arg });
  return 'aborted';
}

function swallow(reply: Promise<FtpReply>): void {
  reply.catch(() => {});
}
