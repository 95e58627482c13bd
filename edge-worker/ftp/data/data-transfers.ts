import type { Transform } from 'node:stream';
import { type SessionHandle, untrackedSession } from '../../admin/session-registry.js';
import type { ListenerConfig } from '../../config/schema.js';
import type { Logger } from '../../log/logger.js';
import type { TransferLog } from '../../log/transfer-log.js';
import type { BackendChannel } from '../control/backend-control.js';
import type { FtpCommand } from '../control/command-parser.js';
import type { FrontendControl } from '../control/frontend-control.js';
import type { FtpReply } from '../control/reply.js';
import type { SessionTimeouts } from '../session/session-timeouts.js';
import type { BackendDataSetup } from './backend-data.js';
import {
  type ClientDataOptions,
  checkClientDataCommand,
  isPortRangeExhausted,
  openClientSide,
} from './client-data.js';
import type { DataEndpoint } from './data-endpoint.js';
import { Throttle } from './throttle.js';
import { runTransfer, type TransferOutcome } from './transfer.js';

/** What the TransferLog records (ProFTPD logs file transfers, not listings). */
const FILE_TRANSFERS = new Set(['RETR', 'STOR', 'APPE', 'STOU']);
const UPLOADS = new Set(['STOR', 'APPE', 'STOU']);

export interface DataTransfersOptions {
  frontend: FrontendControl;
  clientData: ClientDataOptions;
  timeouts: SessionTimeouts;
  transferRate: ListenerConfig['transferRate'];
  transferLog: TransferLog | undefined;
  clientAddress: string;
  /** The session's entry in the worker's SessionRegistry: bytes and transfer times for the metrics. */
  tracked?: SessionHandle | undefined;
  /** Frontend FTPS: wraps the client side in TLS when the client chose PROT P. */
  protectClientData?: (endpoint: DataEndpoint) => DataEndpoint;
  /** Frontend FTPS: a TLSRequired policy may refuse a transfer on a clear data channel. */
  transferRefusal?: () => FtpReply | undefined;
}

/** The session's state a transfer depends on, read when it runs. */
export interface TransferContext {
  backend: BackendChannel;
  /** ProxyTimeoutLinger. */
  lingerMs: number;
  /** MLSD served from a backend LIST (ProxyDirectoryListPolicy LIST). */
  listing?: { backendLine: string; through: Transform } | undefined;
  user: string;
  binary: boolean;
  loggedIn: boolean;
  log: Logger;
}

/** Both ends of the next transfer's data connection, set up by PASV/EPSV/PORT/EPRT. */
interface PreparedData {
  client: DataEndpoint;
  backend: DataEndpoint;
}

/**
 * A session's data channel, as both proxy roles run it: PASV/EPSV/PORT/EPRT from the client set up
 * the backend side under ProxyDataTransferPolicy and the client side on the proxy (so an active-only
 * client can reach a passive-only server, and an IPv4 client an IPv6 server), then the next transfer
 * command relays the bytes between the two.
 */
export class DataTransfers {
  private prepared: PreparedData | undefined;
  private epsvAll = false;

  constructor(private readonly options: DataTransfersOptions) {}

  /**
   * PASV/EPSV/PORT/EPRT: the client's request is checked first (bounce protection costs the backend
   * nothing), then the backend side is set up under the data-transfer policy, then the client side.
   */
  async prepare(
    command: FtpCommand,
    dataSetup: Pick<BackendDataSetup, 'prepare'>,
    log: Logger,
  ): Promise<void> {
    const { frontend, clientData } = this.options;
    this.close();
    const request = checkClientDataCommand(command, this.epsvAll, clientData);
    if ('code' in request) {
      await frontend.send(request);
      return;
    }
    if (request.kind === 'epsv-all') {
      this.epsvAll = true;
      await frontend.reply(200, 'EPSV ALL command successful');
      return;
    }
    const backend = await dataSetup.prepare(request.verb);
    if ('code' in backend) {
      await frontend.send(backend);
      return;
    }
    try {
      const client = await openClientSide(request, clientData);
      const protect = this.options.protectClientData;
      this.prepared = { client: protect ? protect(client.endpoint) : client.endpoint, backend };
      await frontend.send(client.reply);
    } catch (err) {
      backend.dispose();
      if (!isPortRangeExhausted(err)) throw err;
      log.warn('no free passive port', { reason: err.message });
      await frontend.reply(425, 'No free passive port; try again later.');
    }
  }

  /** A transfer command (RETR, STOR, LIST...): relays its data over the prepared connections. */
  async transfer(command: FtpCommand, context: TransferContext): Promise<void> {
    const { frontend, timeouts } = this.options;
    const prepared = this.prepared;
    this.prepared = undefined;
    if (!prepared) {
      await frontend.reply(425, 'Use PORT, EPRT, PASV or EPSV first.');
      return;
    }
    const refusal = this.options.transferRefusal?.();
    if (refusal) {
      prepared.client.dispose();
      prepared.backend.dispose();
      await frontend.send(refusal);
      return;
    }
    timeouts.transferStarted();
    const { listing } = context;
    const rate = this.options.transferRate.find((rule) => (rule.commands as string[]).includes(command.verb));
    const through = [
      ...(listing ? [listing.through] : []),
      ...(rate ? [new Throttle(rate.kibPerSecond * 1024, rate.freeBytes)] : []),
    ];
    const tracked = this.options.tracked ?? untrackedSession;
    const direction = UPLOADS.has(command.verb) ? 'in' : 'out';
    const started = performance.now();
    let bytes = 0;
    let outcome: TransferOutcome = 'failed';
    try {
      outcome = await runTransfer({
        command,
        ...(listing ? { backendLine: listing.backendLine } : {}),
        through,
        backend: context.backend,
        backendData: prepared.backend,
        clientData: prepared.client,
        frontend,
        lingerMs: context.lingerMs,
        onProgress: (moved) => {
          bytes += moved;
          tracked.addBytes(direction, moved);
          timeouts.progress();
        },
        log: context.log,
      });
      if (outcome === 'client-gone') frontend.destroy();
    } finally {
      timeouts.transferEnded(context.loggedIn);
      tracked.transferEnded({ ms: performance.now() - started, ok: outcome === 'completed' });
      if (FILE_TRANSFERS.has(command.verb)) {
        this.options.transferLog?.write({
          finishedAt: new Date(),
          durationMs: performance.now() - started,
          clientAddress: this.options.clientAddress,
          bytes,
          path: command.arg,
          binary: context.binary,
          direction: command.verb === 'RETR' ? 'outgoing' : 'incoming',
          user: context.user,
          completed: outcome === 'completed',
        });
      }
    }
  }

  /** Drops a prepared but unused data connection (ABOR, REIN, a new data command, session end). */
  close(): void {
    this.prepared?.client.dispose();
    this.prepared?.backend.dispose();
    this.prepared = undefined;
  }
}
