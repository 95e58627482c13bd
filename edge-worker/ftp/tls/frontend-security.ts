import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../../log/logger.js';
import type { SslTlvInfo } from '../../proxy-protocol/encode.js';
import {
  clientCertificateRefusal,
  ForeignSessionError,
  type FrontendTls,
} from '../../tls/frontend-tls-context.js';
import { refusedWithoutTls } from '../../tls/tls-policy.js';
import type { FtpCommand } from '../control/command-parser.js';
import type { ControlChannel } from '../control/frontend-control.js';
import { type FtpReply, localReply } from '../control/reply.js';
import type { DataEndpoint } from '../data/data-endpoint.js';
import { DataConnectionError } from '../data/data-errors.js';
import type { ClientTlsState } from './backend-tls.js';

/** RFC 2228 / RFC 4217 commands: the proxy owns them, they never reach the backend. */
export const SECURITY_COMMANDS: ReadonlySet<string> = new Set([
  'AUTH',
  'ADAT',
  'CCC',
  'CONF',
  'ENC',
  'MIC',
  'PBSZ',
  'PROT',
]);

/** AUTH mechanisms (RFC 4217 and the older drafts ProFTPD accepts); SSL and TLS-P also mean PROT P. */
const MECHANISMS = new Map<string, 'C' | 'P'>([
  ['TLS', 'C'],
  ['TLS-C', 'C'],
  ['SSL', 'P'],
  ['TLS-P', 'P'],
]);

/** Data connections with someone else's TLS session a passive port closes before it gives up. */
const MAX_FOREIGN_DATA_CONNECTIONS = 3;

/** What a security command did: the session acts on a new TLS control connection or a PROT change. */
export type SecurityOutcome = 'tls-started' | 'tls-failed' | 'prot-changed' | 'done';

/**
 * One session's FTPS towards the client (mod_tls's part): AUTH TLS upgrades the control connection,
 * PBSZ and PROT set data protection, CCC is refused (the control connection stays protected, as
 * after `TLSRequired on`), and TLSRequired decides what an unprotected session may do. Data
 * connections under PROT P run TLS and must resume the control connection's own session
 * (edge-worker/tls/session-binding.ts).
 */
export class FrontendSecurity {
  /** The control connection's TLS socket, once TLS is on. */
  private controlTls: TLSSocket | undefined;
  private pbszDone = false;
  private protection: 'C' | 'P' = 'C';

  constructor(
    private readonly tls: FrontendTls | undefined,
    implicitSocket: TLSSocket | undefined,
    private readonly log: Logger,
    /** A data connection's handshake is bounded like its TCP connect (dataConnectTimeout). */
    private readonly dataTimeoutMs?: number,
  ) {
    this.controlTls = implicitSocket;
  }

  get offered(): boolean {
    return this.tls !== undefined;
  }

  get isProtected(): boolean {
    return this.controlTls !== undefined;
  }

  /** For ProxyTLSEngine MatchClient and the client transfer-protection policy. */
  get clientState(): ClientTlsState {
    if (!this.controlTls) return 'none';
    return this.tls?.config.mode === 'implicit' ? 'implicit' : 'explicit';
  }

  get prot(): 'C' | 'P' {
    return this.protection;
  }

  /** The SNI name the client sent, if any. */
  get serverName(): string | undefined {
    const name = this.controlTls?.servername;
    return typeof name === 'string' ? name : undefined;
  }

  /** What a PROXY v2 SSL TLV says about the client's TLS, or undefined without TLS. */
  proxyProtocolSsl(): SslTlvInfo | undefined {
    const control = this.controlTls;
    if (!control) return undefined;
    const peer = control.getPeerCertificate();
    const hasCertificate = peer?.raw !== undefined;
    const commonName = hasCertificate ? peer.subject?.CN : undefined;
    return {
      tls: true,
      clientCertificate: hasCertificate,
      certificateInSession: hasCertificate,
      verify: hasCertificate && clientCertificateRefusal(control, true) === undefined ? 0 : 1,
      ...(control.getProtocol() ? { version: control.getProtocol() as string } : {}),
      ...(typeof commonName === 'string' ? { commonName } : {}),
      cipher: control.getCipher().name,
    };
  }

  /** FEAT lines the proxy adds when it offers TLS. */
  features(): string[] {
    return this.tls ? ['AUTH TLS', 'PBSZ', 'PROT'] : [];
  }

  /** The reply refusing `verb` on an unprotected control connection (TLSRequired), if it is refused. */
  controlRefusal(verb: string): FtpReply | undefined {
    if (!this.tls || this.controlTls || !refusedWithoutTls(this.tls.policy, verb)) return undefined;
    return localReply(550, 'SSL/TLS required on the control channel');
  }

  /** The reply refusing a transfer whose data connection would be clear under TLSRequired data. */
  transferRefusal(): FtpReply | undefined {
    if (this.tls?.policy.data === 'required' && this.protection !== 'P') {
      return localReply(522, 'SSL/TLS required on the data channel');
    }
    return undefined;
  }

  /** Handles one of SECURITY_COMMANDS and replies to it. */
  async handle(command: FtpCommand, frontend: ControlChannel): Promise<SecurityOutcome> {
    const tls = this.tls;
    if (!tls) {
      await frontend.reply(502, `${command.verb} is not supported on this listener.`);
      return 'done';
    }
    const arg = command.arg.trim().toUpperCase();
    switch (command.verb) {
      case 'AUTH': {
        const protection = MECHANISMS.get(arg);
        if (protection === undefined) {
          await frontend.reply(504, `AUTH ${command.arg.trim()} unsupported`);
          return 'done';
        }
        if (this.controlTls) {
          await frontend.reply(503, 'TLS is already in use on the control connection');
          return 'done';
        }
        const failure = await frontend.startTls(localReply(234, `AUTH ${arg} successful`), async (socket) => {
          const secured = await tls.accept(socket);
          this.controlTls = secured;
          return secured;
        });
        if (failure !== undefined) {
          this.log.warn('client TLS handshake failed after AUTH', { reason: failure });
          return 'tls-failed';
        }
        // AUTH SSL and TLS-P predate PBSZ/PROT and mean protected data (mod_tls does the same).
        if (protection === 'P') {
          this.protection = 'P';
          this.pbszDone = true;
        }
        const secured = this.controlTls as TLSSocket | undefined;
        this.log.info('client control connection secured', {
          protocol: secured?.getProtocol(),
          cipher: secured?.getCipher().name,
          ...(this.serverName ? { sni: this.serverName } : {}),
        });
        return 'tls-started';
      }
      case 'PBSZ':
        if (!this.controlTls) {
          await frontend.reply(503, 'PBSZ not allowed on insecure control connection');
          return 'done';
        }
        if (!/^\d+$/.test(arg)) {
          await frontend.reply(501, 'PBSZ needs a number');
          return 'done';
        }
        this.pbszDone = true;
        // RFC 4217: a TLS buffer size is meaningless; 0 is the only answer.
        await frontend.reply(200, 'PBSZ=0');
        return 'done';
      case 'PROT':
        return this.setProtection(arg, frontend);
      case 'CCC':
        // Clearing the control channel would let a middlebox rewrite the session; mod_tls refuses it too
        // whenever the control channel is required, and ftpx always keeps it.
        await frontend.reply(534, 'CCC refused: the control connection stays protected');
        return 'done';
      default:
        await frontend.reply(502, `${command.verb} is not implemented`);
        return 'done';
    }
  }

  private async setProtection(arg: string, frontend: ControlChannel): Promise<SecurityOutcome> {
    if (!this.controlTls) {
      await frontend.reply(503, 'PROT not allowed on insecure control connection');
      return 'done';
    }
    if (!this.pbszDone) {
      await frontend.reply(503, 'PBSZ needed before PROT');
      return 'done';
    }
    const policy = this.tls?.policy.data;
    if (arg === 'C' || arg === 'P') {
      if ((arg === 'P' && policy === 'refused') || (arg === 'C' && policy === 'required')) {
        await frontend.reply(534, 'Unwilling to accept security parameters');
        return 'done';
      }
      this.protection = arg;
      await frontend.reply(200, `Protection set to ${arg === 'P' ? 'Private' : 'Clear'}`);
      return 'prot-changed';
    }
    if (arg === 'S' || arg === 'E') {
      await frontend.reply(536, `PROT ${arg} unsupported`);
      return 'done';
    }
    await frontend.reply(504, `PROT ${arg} unsupported`);
    return 'done';
  }

  /**
   * The client side of a data connection, with TLS on top under PROT P. A connection that resumed
   * another connection's session (a client behind the same address racing for this passive port)
   * is closed and the port keeps waiting for its own client, so that client's transfer goes on; one
   * that resumed no session at all fails the transfer with a 425 that says why (mod_tls refuses it
   * the same way), as does every other handshake failure.
   */
  protectClientData(endpoint: DataEndpoint): DataEndpoint {
    const tls = this.tls;
    const control = this.controlTls;
    if (!tls || !control || this.protection !== 'P') return endpoint;
    const secure = async (raw: Socket): Promise<TLSSocket> => {
      try {
        return await tls.accept(raw, {
          resumes: control,
          ...(this.dataTimeoutMs !== undefined ? { timeoutMs: this.dataTimeoutMs } : {}),
        });
      } catch (err) {
        raw.destroy();
        throw err;
      }
    };
    /** The handshake's or the binding's refusal, logged; the endpoint's own errors (timeouts) pass as they are. */
    const refused = (err: unknown): DataConnectionError => {
      if (err instanceof DataConnectionError) return err;
      this.log.warn('client data connection refused', { reason: (err as Error).message });
      return new DataConnectionError((err as Error).message, { cause: err });
    };
    return {
      description: `${endpoint.description} (TLS)`,
      open: async (signal) => {
        let foreign = 0;
        try {
          if (!endpoint.openVetted) return await secure(await endpoint.open(signal));
          return await endpoint.openVetted(
            signal,
            (raw) =>
              secure(raw).catch((err: unknown) => {
                if (!(err instanceof ForeignSessionError)) throw err;
                foreign += 1;
                this.log.warn(
                  'client data connection with a foreign TLS session closed; waiting for the client',
                  {
                    peer: raw.remoteAddress,
                    reason: err.message,
                  },
                );
                return undefined;
              }),
            MAX_FOREIGN_DATA_CONNECTIONS,
          );
        } catch (err) {
          if (foreign === 0) throw refused(err);
          // The client gets told what happened, not only that its data connection never came.
          const reason = `refused ${foreign} data connection(s) that resumed a TLS session other than the control connection's (${(err as Error).message})`;
          this.log.warn('client data connection refused', { reason });
          throw new DataConnectionError(reason, { cause: err });
        }
      },
      dispose: () => endpoint.dispose(),
    };
  }
}
