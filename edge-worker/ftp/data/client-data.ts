import type { Socket } from 'node:net';
import type { Logger } from '../../log/logger.js';
import type { FtpCommand } from '../control/command-parser.js';
import { type FtpReply, localReply } from '../control/reply.js';
import type { DataCommand } from './backend-data.js';
import {
  asIPv4,
  type DataAddress,
  formatEpsvReply,
  formatPasvReply,
  isIPv6Only,
  isRfc1918,
  parseEprtArgument,
  parsePortArgument,
  sameHost,
} from './data-address.js';
import { acceptingEndpoint, connectingEndpoint, type DataEndpoint } from './data-endpoint.js';
import { DataListener } from './data-listener.js';
import { type PortRange, PortRangeExhaustedError } from './port-range.js';

export interface ClientDataOptions {
  control: Socket;
  /** The client's address: the control connection's peer, or what a trusted PROXY header said. */
  clientAddress: string;
  portRange: PortRange | undefined;
  /** MasqueradeAddress, resolved to IPv4: what 227 replies carry instead of the local address. */
  masqueradeIPv4: string | undefined;
  /** AllowForeignAddress: may PORT/EPRT name this host, which is not the client? */
  allowsForeignAddress: (host: string) => boolean;
  /** The listener's `epsv`: false refuses EPSV so clients use PASV (a load balancer in front). */
  epsv?: boolean | undefined;
  dataConnectTimeoutMs: number;
  log: Logger;
}

/** What a client data command asks for, once it passed every check. */
export type ClientDataRequest =
  | { kind: 'passive'; verb: 'PASV' | 'EPSV' }
  | { kind: 'active'; verb: 'PORT' | 'EPRT'; address: Required<DataAddress> }
  | { kind: 'epsv-all' };

/**
 * Checks PASV/EPSV/PORT/EPRT from the client before anything is set up (as mod_proxy's lib/proxy/ftp/xfer.c does): syntax,
 * address family, EPSV ALL, and FTP bounce protection: an active address must be the client's own
 * (unless AllowForeignAddress says otherwise) and never a privileged port. Returns the request, or the
 * reply that refuses it.
 */
export function checkClientDataCommand(
  command: FtpCommand,
  epsvAll: boolean,
  options: ClientDataOptions,
): ClientDataRequest | FtpReply {
  const verb = command.verb as DataCommand;
  const localAddress = options.control.localAddress ?? '';
  const ipv6Connection = isIPv6Only(localAddress);
  if (epsvAll && verb !== 'EPSV') return localReply(503, `${verb} not allowed after EPSV ALL.`);
  switch (verb) {
    case 'PASV':
      if (ipv6Connection) return localReply(501, 'PASV is not possible on an IPv6 connection; use EPSV.');
      return { kind: 'passive', verb };
    case 'EPSV': {
      // 502 (not implemented): RFC 2428 clients then use PASV, whose reply carries an address.
      if (options.epsv === false) return localReply(502, 'EPSV not available here; use PASV.');
      const arg = command.arg.trim().toUpperCase();
      if (arg === '') return { kind: 'passive', verb };
      if (arg === 'ALL') return { kind: 'epsv-all' };
      const family = ipv6Connection ? '2' : '1';
      if (arg !== '1' && arg !== '2') return localReply(501, 'Illegal EPSV command.');
      if (arg !== family) return localReply(522, `Network protocol not supported, use (${family})`);
      return { kind: 'passive', verb };
    }
    case 'PORT':
    case 'EPRT': {
      let address: Required<DataAddress>;
      if (verb === 'PORT') {
        if (ipv6Connection) return refuseActive(verb, options, 'PORT on an IPv6 connection');
        const parsed = parsePortArgument(command.arg);
        if (!parsed) return localReply(501, 'Illegal PORT command');
        address = parsed;
      } else {
        const parsed = parseEprtArgument(command.arg);
        if (!parsed.ok) {
          return parsed.reason === 'family'
            ? localReply(522, 'Network protocol not supported, use (1,2)')
            : localReply(501, 'Illegal EPRT command');
        }
        address = parsed.address;
      }
      // NAT fix-up: a client behind NAT names its private address; use the address it comes from.
      if (!isRfc1918(localAddress) && !isRfc1918(options.clientAddress) && isRfc1918(address.host)) {
        options.log.info('client named a private data address; using its public one', {
          named: address.host,
        });
        address = { host: options.clientAddress, port: address.port };
      }
      if (!sameHost(address.host, options.clientAddress) && !options.allowsForeignAddress(address.host)) {
        return refuseActive(verb, options, `foreign address ${address.host}`);
      }
      if (address.port < 1024) return refuseActive(verb, options, `privileged port ${address.port}`);
      return { kind: 'active', verb, address };
    }
  }
}

function refuseActive(verb: 'PORT' | 'EPRT', options: ClientDataOptions, reason: string): FtpReply {
  options.log.warn('refused active data address (FTP bounce protection)', { verb, reason });
  return localReply(500, `Illegal ${verb} command`);
}

/**
 * Sets up the client side once the backend side is ready: a listener for PASV/EPSV (on the address
 * the client reached us at, in the PassivePorts range), or the address to connect to for PORT/EPRT.
 */
export async function openClientSide(
  request: Exclude<ClientDataRequest, { kind: 'epsv-all' }>,
  options: ClientDataOptions,
): Promise<{ endpoint: DataEndpoint; reply: FtpReply }> {
  if (request.kind === 'active') {
    return {
      endpoint: connectingEndpoint(
        request.address.host,
        request.address.port,
        options.dataConnectTimeoutMs,
        undefined,
      ),
      reply: localReply(200, `${request.verb} command successful`),
    };
  }
  const bindAddress = options.control.localAddress ?? '';
  const listener = await DataListener.open({
    bindAddress,
    expectedPeer: options.clientAddress,
    log: options.log,
    purpose: 'client passive',
    ...(options.portRange ? { portRange: options.portRange } : {}),
  });
  const endpoint = acceptingEndpoint(listener, bindAddress, options.dataConnectTimeoutMs);
  if (request.verb === 'EPSV') return { endpoint, reply: localReply(229, formatEpsvReply(listener.port)) };
  const ipv4 = options.masqueradeIPv4 ?? asIPv4(bindAddress) ?? '';
  return { endpoint, reply: localReply(227, formatPasvReply(ipv4, listener.port)) };
}

export function isPortRangeExhausted(err: unknown): err is PortRangeExhaustedError {
  return err instanceof PortRangeExhaustedError;
}
