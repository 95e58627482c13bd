import type { Socket } from 'node:net';
import type { DataTransferPolicy } from '../../config/schema.js';
import type { Logger } from '../../log/logger.js';
import { type BackendControl, describeReply } from '../control/backend-control.js';
import { type FtpReply, isSuccess, localReply } from '../control/reply.js';
import {
  asIPv4,
  type DataAddress,
  formatEprtArgument,
  formatPortArgument,
  isIPv6Only,
  parseEpsvReply,
  parsePasvReply,
  sameHost,
} from './data-address.js';
import { acceptingEndpoint, connectingEndpoint, type DataEndpoint } from './data-endpoint.js';
import { DataListener } from './data-listener.js';

export type DataCommand = 'PASV' | 'EPSV' | 'PORT' | 'EPRT';

export interface BackendDataOptions {
  policy: DataTransferPolicy;
  foreignDataAddress: 'refuse' | 'allow' | 'ignore';
  /** ProxySourceAddress: where backend data connections come from and active listeners listen. */
  sourceAddress: string | undefined;
  connectTimeoutMs: number;
  log: Logger;
}

/**
 * Sets up the backend side of each transfer under ProxyDataTransferPolicy, independently of what the
 * client used (http://www.proftpd.org/docs/contrib/mod_proxy.html#ProxyDataTransferPolicy): the policy names the first command to try; EPSV falls back to PASV and
 * EPRT to PORT when the backend's FEAT lacks them or it refuses them (and then for the rest of the
 * session); PASV becomes EPSV and PORT becomes EPRT for an IPv6 backend, where the old commands
 * cannot carry the address.
 */
export class BackendDataSetup {
  private epsvRefused = false;
  private eprtRefused = false;

  constructor(
    private readonly control: BackendControl,
    private readonly options: BackendDataOptions,
  ) {}

  /** The endpoint for the next transfer, or the reply to give the client when the backend refused. */
  async prepare(clientCommand: DataCommand): Promise<DataEndpoint | FtpReply> {
    const command = this.firstCommand(clientCommand);
    const prepared =
      command === 'EPSV' || command === 'PASV' ? await this.passive(command) : await this.active(command);
    if ('code' in prepared) return prepared;
    // PROT P with the backend: the data connection runs TLS, resuming the control connection's session.
    const tls = this.control.tls;
    const endpoint = traceOpen(tls?.dataProtected ? tls.protect(prepared) : prepared, this.options.log);
    this.options.log.debug('backend data ready', { client: clientCommand, backend: endpoint.description });
    return endpoint;
  }

  private get backendHost(): string {
    return this.control.socket.remoteAddress ?? '';
  }

  private firstCommand(clientCommand: DataCommand): DataCommand {
    const byPolicy: Record<Exclude<DataTransferPolicy, 'client'>, DataCommand> = {
      active: 'EPRT',
      passive: 'EPSV',
      PASV: 'PASV',
      EPSV: 'EPSV',
      PORT: 'PORT',
      EPRT: 'EPRT',
    };
    let command = this.options.policy === 'client' ? clientCommand : byPolicy[this.options.policy];
    const features = this.control.features;
    const ipv6 = isIPv6Only(this.backendHost);
    if (command === 'PASV' && ipv6) command = 'EPSV';
    if (command === 'PORT' && ipv6) command = 'EPRT';
    if (!ipv6) {
      // pure-ftpd lists EPRT but not EPSV and supports both: either one means extended passive works.
      const hasEpsv = features.size === 0 || features.has('EPSV') || features.has('EPRT');
      const hasEprt = features.size === 0 || features.has('EPRT');
      if (command === 'EPSV' && (this.epsvRefused || !hasEpsv)) command = 'PASV';
      if (command === 'EPRT' && (this.eprtRefused || !hasEprt)) command = 'PORT';
      if ((command === 'PASV' && !hasEpsv) || (command === 'PORT' && !hasEprt))
        this.options.log.trace(
          'proxy.ftp.xfer',
          19,
          () =>
            `${command === 'PASV' ? 'EPSV' : 'EPRT'} not supported by backend server (via FEAT), using ${command}`,
        );
    }
    return command;
  }

  private async passive(first: 'EPSV' | 'PASV'): Promise<DataEndpoint | FtpReply> {
    const ipv6 = isIPv6Only(this.backendHost);
    let address: DataAddress | undefined;
    let reply: FtpReply | undefined;
    let used: DataCommand = first;
    if (first === 'EPSV') {
      reply = await this.control.command('EPSV');
      address = parseEpsvReply(reply);
      if (!address && !ipv6) {
        this.options.log.info('backend refused EPSV; using PASV for the rest of the session', {
          reply: describeReply(reply),
        });
        this.epsvRefused = true;
      }
    }
    if (!address && !ipv6) {
      used = 'PASV';
      reply = await this.control.command('PASV');
      address = parsePasvReply(reply);
    }
    if (!address) {
      if (reply && reply.code >= 400) return reply;
      return localReply(425, 'Backend did not offer a usable passive data port.');
    }
    let host = address.host ?? this.backendHost;
    this.options.log.trace(
      'proxy.ftp.msg',
      9,
      () => `parsed '${reply ? describeReply(reply) : ''}' into ${host}#${address.port}`,
    );
    if (!sameHost(host, this.backendHost)) {
      if (this.options.foreignDataAddress === 'refuse') {
        this.options.log.warn('refused backend passive address: not the backend control address', {
          offered: host,
          backendHost: this.backendHost,
        });
        return localReply(425, 'Backend offered a foreign data address; refused.');
      }
      if (this.options.foreignDataAddress === 'ignore') host = this.backendHost;
    }
    if (address.port < 1024) {
      this.options.log.warn('refused backend passive address: privileged port', { port: address.port });
      return localReply(425, 'Backend offered a privileged data port; refused.');
    }
    this.options.log.trace(
      'proxy.ftp.xfer',
      12,
      () => `obtained address ${host}#${address.port} for passive data transfer`,
    );
    return connectingEndpoint(
      host,
      address.port,
      this.options.connectTimeoutMs,
      this.options.sourceAddress,
      used,
      !this.control.tls?.dataProtected,
    );
  }

  private async active(first: 'EPRT' | 'PORT'): Promise<DataEndpoint | FtpReply> {
    const bindAddress = this.options.sourceAddress ?? this.control.socket.localAddress ?? '';
    const listener = await DataListener.open({
      bindAddress,
      expectedPeer: this.backendHost,
      log: this.options.log,
      purpose: 'backend active',
    });
    const ipv4 = asIPv4(bindAddress);
    let reply: FtpReply | undefined;
    let used: DataCommand = first === 'EPRT' || !ipv4 ? 'EPRT' : 'PORT';
    if (first === 'EPRT' || !ipv4) {
      reply = await this.control.command(`EPRT ${formatEprtArgument(bindAddress, listener.port)}`);
      if (!isSuccess(reply) && ipv4) {
        this.options.log.info('backend refused EPRT; using PORT for the rest of the session', {
          reply: describeReply(reply),
        });
        this.eprtRefused = true;
        reply = undefined;
      }
    }
    if (reply === undefined && ipv4) {
      used = 'PORT';
      reply = await this.control.command(`PORT ${formatPortArgument(ipv4, listener.port)}`);
    }
    if (!reply || !isSuccess(reply)) {
      listener.dispose();
      return reply && reply.code >= 400 ? reply : localReply(425, 'Backend refused active mode.');
    }
    return acceptingEndpoint(listener, bindAddress, this.options.connectTimeoutMs, used);
  }
}

/** proxy.ftp.conn: the backend data connection's open, as mod_proxy traces it (only when traced). */
function traceOpen(endpoint: DataEndpoint, log: Logger): DataEndpoint {
  if (!log.traces('proxy.ftp.conn', 9)) return endpoint;
  const traced = <T extends Socket>(socket: T): T => {
    log.trace(
      'proxy.ftp.conn',
      9,
      () => `connected to server '${socket.remoteAddress}#${socket.remotePort}'`,
    );
    return socket;
  };
  const openVetted = endpoint.openVetted?.bind(endpoint);
  return {
    description: endpoint.description,
    open: (signal) => {
      log.trace('proxy.ftp.conn', 9, endpoint.description);
      return endpoint.open(signal).then(traced);
    },
    ...(openVetted
      ? {
          openVetted: <T extends Socket>(
            signal: AbortSignal,
            vet: (socket: Socket) => Promise<T | undefined>,
            maxRefused: number,
          ) => {
            log.trace('proxy.ftp.conn', 9, endpoint.description);
            return openVetted(signal, vet, maxRefused).then(traced);
          },
        }
      : {}),
    dispose: () => endpoint.dispose(),
  };
}
