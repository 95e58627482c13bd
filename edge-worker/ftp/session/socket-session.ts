import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { newSessionId, type SessionHandle, untrackedSession } from '../../admin/session-registry.js';
import type { ListenerConfig } from '../../config/schema.js';
import type { Logger } from '../../log/logger.js';
import type { TransferLog } from '../../log/transfer-log.js';
import type { FrontendTls } from '../../tls/frontend-tls-context.js';
import { FrontendControl } from '../control/frontend-control.js';
import { DataTransfers } from '../data/data-transfers.js';
import type { PortRange } from '../data/port-range.js';
import { FrontendSecurity } from '../tls/frontend-security.js';
import type { CommandLimits } from './command-limits.js';
import type { FtpSessionParts } from './ftp-session.js';
import type { SessionGuard } from './session-guard.js';

/** What sessions of either role get from their listener. */
export interface SocketSessionContext {
  listener: ListenerConfig;
  /** The listener's `<Limit>` rules. */
  limits: CommandLimits;
  /** The client's address and port: the socket's peer, or what a trusted PROXY header said. */
  clientAddress: string;
  clientPort: number;
  /** The listener's PassivePorts range, shared by its sessions. */
  portRange: PortRange | undefined;
  /** MasqueradeAddress resolved to IPv4. */
  masqueradeIPv4: string | undefined;
  allowsForeignAddress: (host: string) => boolean;
  transferLog: TransferLog | undefined;
  log: Logger;
  /**
   * The listener's FTPS (absent: plain FTP only, security commands answered 502). With implicit
   * FTPS the session's socket is already the TLS socket.
   */
  frontendTls?: FrontendTls;
  /** The session's entry in the worker's SessionRegistry (admin endpoint, metrics); its id is the session's. */
  tracked?: SessionHandle;
  /** The connection limits and bans of this client's connection (edge-worker/limits/). */
  guard?: SessionGuard;
}

/** A session's parts on a client's socket: its control connection, FTPS, log and data channel. */
export function socketSessionParts(
  socket: Socket,
  ctx: SocketSessionContext,
  options: { logFields?: Record<string, unknown>; epsv?: boolean | undefined } = {},
): FtpSessionParts & { security: FrontendSecurity } {
  const id = ctx.tracked?.id || newSessionId();
  const tracked = ctx.tracked ?? untrackedSession;
  const frontend = new FrontendControl(socket, ctx.listener.maxCommandLength);
  const log = ctx.log.child({
    session: id,
    client: `${ctx.clientAddress}:${ctx.clientPort}`,
    ...options.logFields,
    ...(ctx.clientAddress !== socket.remoteAddress
      ? { via: `${socket.remoteAddress}:${socket.remotePort}` }
      : {}),
  });
  const security = new FrontendSecurity(
    ctx.frontendTls,
    socket instanceof TLSSocket ? socket : undefined,
    log,
    ctx.listener.dataConnectTimeout,
  );
  return {
    id,
    tracked,
    frontend,
    log,
    security,
    listener: ctx.listener,
    limits: ctx.limits,
    clientAddress: ctx.clientAddress,
    ...(ctx.guard ? { guard: ctx.guard } : {}),
    data: (timeouts) =>
      new DataTransfers({
        frontend,
        clientData: {
          control: socket,
          clientAddress: ctx.clientAddress,
          portRange: ctx.portRange,
          masqueradeIPv4: ctx.masqueradeIPv4,
          allowsForeignAddress: ctx.allowsForeignAddress,
          ...(options.epsv !== undefined ? { epsv: options.epsv } : {}),
          dataConnectTimeoutMs: ctx.listener.dataConnectTimeout,
          log,
        },
        timeouts,
        transferRate: ctx.listener.transferRate,
        transferLog: ctx.transferLog,
        clientAddress: ctx.clientAddress,
        tracked,
        protectClientData: (endpoint) => security.protectClientData(endpoint),
        transferRefusal: () => security.transferRefusal(),
      }),
  };
}
