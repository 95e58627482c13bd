import { randomBytes } from 'node:crypto';
import { isIPv6, type Socket } from 'node:net';
import type { ListenerConfig } from '../config/schema.js';
import type { ControlPlaneClient } from '../control-plane/control-plane-client.js';
import type { Logger } from '../log/logger.js';
import {
  NoBackendAvailableError,
  type SelectedBackend,
  selectAndConnect,
} from '../reverse/backend-selection.js';
import type { Pool } from '../reverse/pool.js';
import { withTimeout } from '../runtime/with-timeout.js';
import { BackendLostError, describeReply } from './backend-control.js';
import type { CommandEvent, FtpCommand } from './command-parser.js';
import { featReply } from './feat.js';
import { FrontendControl } from './frontend-control.js';
import {
  asIPv4,
  type DataAddress,
  formatEpsvReply,
  formatPasvReply,
  parseEpsvReply,
  parsePasvReply,
  sameHost,
} from './passive-address.js';
import { PassiveListener } from './passive-listener.js';
import { type FtpReply, localReply } from './reply.js';
import { runTransfer, TRANSFER_COMMANDS } from './transfer.js';
import { utf8AsWire } from './wire.js';

/** Commands a client may send before it is logged in to the backend (reference 3.1). */
const BEFORE_LOGIN = new Set([
  'USER',
  'PASS',
  'ACCT',
  'QUIT',
  'FEAT',
  'SYST',
  'HELP',
  'NOOP',
  'OPTS',
  'CLNT',
  'LANG',
]);
/** RFC 2228 security commands: frontend TLS is not offered by this listener. */
const SECURITY_COMMANDS = new Set(['AUTH', 'ADAT', 'CCC', 'CONF', 'ENC', 'MIC', 'PBSZ', 'PROT']);
const QUIT_TIMEOUT_MS = 5000;

export interface ReverseSessionContext {
  listener: ListenerConfig;
  pool: Pool;
  controlPlane: ControlPlaneClient;
  log: Logger;
}

/** A backend passive endpoint waiting for its transfer command, plus our listener for the client. */
interface PreparedPassive {
  backend: Required<DataAddress>;
  listener: PassiveListener;
}

/**
 * One client's reverse-proxy FTP session. The backend is chosen when the client connects (balancing
 * policies, reference 3.3), its banner is relayed, and from then on commands are relayed in order,
 * except for the ones the proxy must own: data-channel setup (the client only ever sees the proxy's
 * addresses), transfers (bytes flow through the proxy), FEAT (filtered to what the proxy supports),
 * and login credentials from the backend URL.
 */
export class ReverseFtpSession {
  readonly id = randomBytes(6).toString('hex');
  private readonly frontend: FrontendControl;
  private log: Logger;
  private backend: SelectedBackend | undefined;
  private loggedIn = false;
  private passive: PreparedPassive | undefined;
  private epsvAll = false;
  /** Set after the backend refused EPSV once: PASV from then on (mod_proxy downgrades the session too). */
  private backendPasvOnly = false;

  constructor(
    private readonly socket: Socket,
    private readonly ctx: ReverseSessionContext,
  ) {
    this.frontend = new FrontendControl(socket, ctx.listener.maxCommandLength);
    this.log = ctx.log.child({ session: this.id, client: `${socket.remoteAddress}:${socket.remotePort}` });
  }

  async run(): Promise<void> {
    const started = performance.now();
    let endReason = 'client quit';
    try {
      this.log.info('session started', { pool: this.ctx.pool.config.name });
      if (!(await this.connect())) {
        endReason = 'no backend';
        return;
      }
      endReason = await this.commandLoop();
    } catch (err) {
      endReason = err instanceof Error ? err.message : String(err);
      if (err instanceof BackendLostError) {
        this.log.warn('backend connection lost', { reason: err.message });
        await this.frontend.sendAndClose(localReply(421, 'Service not available, backend connection lost.'));
      } else {
        this.log.error('session failed', { error: err });
        await this.frontend.sendAndClose(localReply(421, 'Service not available, internal proxy error.'));
      }
    } finally {
      this.dispose();
      this.log.info('session ended', { reason: endReason, ms: Math.round(performance.now() - started) });
    }
  }

  /** Ends the session at once (worker shutdown). */
  close(): void {
    this.dispose();
  }

  private async connect(): Promise<boolean> {
    try {
      this.backend = await selectAndConnect(this.ctx.pool, this.ctx.controlPlane, this.log);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.log.error('no backend available', { reason });
      const text =
        err instanceof NoBackendAvailableError
          ? 'Service not available, no backend server reachable.'
          : 'Service not available, backend selection failed.';
      await this.frontend.sendAndClose(localReply(421, text));
      return false;
    }
    this.log = this.log.child({ backend: this.backend.key });
    this.backend.control.onUnsolicited = (reply) => {
      this.log.info('unsolicited backend reply relayed', { reply: describeReply(reply) });
      void this.frontend.send(reply);
    };
    await this.frontend.send(this.backend.banner);
    return true;
  }

  private async commandLoop(): Promise<string> {
    const backend = this.requireBackend();
    // Losing the backend while the client is idle must end the session at once, not at the next command.
    void backend.control.lost.then(() => this.frontend.commands.interrupt());
    for (;;) {
      await this.frontend.commands.ready();
      if (backend.control.isLost) throw await backend.control.lost;
      const event = await this.frontend.commands.next();
      if (event === undefined) return this.frontend.closeReason ?? 'client closed the connection';
      if (await this.handle(event)) return 'client quit';
    }
  }

  /** Handles one command; true when the session is over. */
  private async handle(event: CommandEvent): Promise<boolean> {
    if (event.kind === 'too-long') {
      this.log.warn('command line too long', { limit: this.ctx.listener.maxCommandLength });
      await this.frontend.reply(
        500,
        `Command line too long (limit ${this.ctx.listener.maxCommandLength} bytes).`,
      );
      return false;
    }
    const { command } = event;
    this.log.debug('command', {
      verb: command.verb,
      ...(command.verb === 'PASS' ? {} : { arg: command.arg }),
    });
    if (command.verb === 'QUIT') {
      await this.quit();
      return true;
    }
    if (SECURITY_COMMANDS.has(command.verb)) {
      await this.frontend.reply(502, `${command.verb} is not supported on this listener.`);
      return false;
    }
    if (!this.loggedIn && !BEFORE_LOGIN.has(command.verb)) {
      await this.frontend.reply(530, 'Please login with USER and PASS.');
      return false;
    }
    switch (command.verb) {
      case 'USER':
        await this.user(command.arg);
        break;
      case 'PASS':
        await this.pass(command.arg);
        break;
      case 'FEAT':
        await this.frontend.send(featReply(await this.requireBackend().control.command('FEAT')));
        break;
      case 'PASV':
      case 'EPSV':
        await this.preparePassive(command);
        break;
      case 'PORT':
      case 'EPRT':
      case 'LPRT':
        await this.frontend.reply(
          502,
          'Active mode is not supported by ftpx yet; use passive mode (PASV or EPSV).',
        );
        break;
      case 'HOST':
        await this.frontend.reply(502, 'HOST is not supported by ftpx yet.');
        break;
      case 'REIN':
        this.closePassive();
        this.loggedIn = false;
        await this.relay(command);
        break;
      case 'ABOR':
        this.closePassive();
        await this.relay(command);
        break;
      default:
        if (TRANSFER_COMMANDS.has(command.verb)) await this.transfer(command);
        else await this.relay(command);
    }
    return false;
  }

  private async relay(command: FtpCommand): Promise<FtpReply> {
    const line = command.arg === '' ? command.verb : `${command.verb} ${command.arg}`;
    const reply = await this.requireBackend().control.command(line, {
      onPreliminary: (preliminary) => void this.frontend.send(preliminary),
    });
    await this.frontend.send(reply);
    return reply;
  }

  private async user(name: string): Promise<void> {
    const backend = this.requireBackend();
    this.loggedIn = false;
    this.closePassive();
    this.log = this.log.child({ user: name });
    const urlUser = backend.url.user === undefined ? undefined : utf8AsWire(backend.url.user);
    let reply = await backend.control.command(`USER ${urlUser ?? name}`);
    if (urlUser !== undefined && urlUser !== name) reply = rewriteFirstLine(reply, urlUser, name);
    if (reply.code === 230) this.loggedIn = true;
    await this.frontend.send(reply);
  }

  private async pass(password: string): Promise<void> {
    const backend = this.requireBackend();
    // A "user:@host" URL keeps the client's password; "user:secret@host" replaces it.
    const urlPassword = backend.url.password ? utf8AsWire(backend.url.password) : undefined;
    const reply = await backend.control.command(`PASS ${urlPassword ?? password}`);
    if (reply.code === 230 || reply.code === 202) {
      this.loggedIn = true;
      this.log.info('login succeeded');
    } else if (reply.code >= 400) {
      this.log.warn('login failed', { reply: describeReply(reply) });
    }
    await this.frontend.send(reply);
  }

  private async quit(): Promise<void> {
    const backend = this.backend;
    let reply = localReply(221, 'Goodbye.');
    if (backend && !backend.control.isLost) {
      const goodbye = () => localReply(221, 'Goodbye.');
      reply = await withTimeout(backend.control.command('QUIT'), QUIT_TIMEOUT_MS, goodbye).catch(goodbye);
    }
    await this.frontend.sendAndClose(reply);
  }

  private async preparePassive(command: FtpCommand): Promise<void> {
    this.closePassive();
    const localAddress = this.socket.localAddress ?? '';
    const localIPv4 = asIPv4(localAddress);
    if (command.verb === 'EPSV' && command.arg !== '') {
      const arg = command.arg.trim().toUpperCase();
      if (arg === 'ALL') {
        this.epsvAll = true;
        await this.frontend.reply(200, 'EPSV ALL command successful.');
        return;
      }
      const family = localIPv4 ? '1' : '2';
      if (arg !== '1' && arg !== '2') {
        await this.frontend.reply(501, 'Illegal EPSV command.');
        return;
      }
      if (arg !== family) {
        await this.frontend.reply(522, `Network protocol not supported, use (${family})`);
        return;
      }
    }
    if (command.verb === 'PASV') {
      if (this.epsvAll) {
        await this.frontend.reply(503, 'PASV not allowed after EPSV ALL.');
        return;
      }
      if (!localIPv4) {
        await this.frontend.reply(501, 'PASV is not possible on an IPv6 connection; use EPSV.');
        return;
      }
    }
    const backendAddress = await this.backendPassive(command.verb === 'EPSV');
    if ('code' in backendAddress) {
      await this.frontend.send(backendAddress);
      return;
    }
    const listener = await PassiveListener.open(localAddress, this.socket.remoteAddress ?? '', this.log);
    this.passive = { backend: backendAddress, listener };
    if (command.verb === 'PASV' && localIPv4) {
      await this.frontend.reply(227, formatPasvReply(localIPv4, listener.port));
    } else {
      await this.frontend.reply(229, formatEpsvReply(listener.port));
    }
  }

  /**
   * Asks the backend for a passive endpoint, mirroring the client (ProxyDataTransferPolicy "client"):
   * EPSV when the client used EPSV or the backend is IPv6, falling back to PASV when the backend lacks
   * or refuses EPSV. The address offered must be the backend's own, on an unprivileged port.
   * Returns the endpoint, or the reply to give the client.
   */
  private async backendPassive(clientUsedEpsv: boolean): Promise<Required<DataAddress> | FtpReply> {
    const control = this.requireBackend().control;
    const backendHost = control.socket.remoteAddress ?? '';
    const backendIPv6 = isIPv6(backendHost) && asIPv4(backendHost) === undefined;
    const advertisesEpsv =
      control.features.size === 0 || control.features.has('EPSV') || control.features.has('EPRT');
    let address: DataAddress | undefined;
    let reply: FtpReply | undefined;
    if (backendIPv6 || (clientUsedEpsv && advertisesEpsv && !this.backendPasvOnly)) {
      reply = await control.command('EPSV');
      address = parseEpsvReply(reply);
      if (!address && !backendIPv6) {
        this.log.info('backend refused EPSV; using PASV for the rest of the session', {
          reply: describeReply(reply),
        });
        this.backendPasvOnly = true;
      }
    }
    if (!address && !backendIPv6) {
      reply = await control.command('PASV');
      address = parsePasvReply(reply);
    }
    if (!address) {
      if (reply && reply.code >= 400) return reply;
      return localReply(425, 'Backend did not offer a usable passive data port.');
    }
    const host = address.host ?? backendHost;
    if (!sameHost(host, backendHost)) {
      this.log.warn('refused backend passive address: not the backend control address', {
        offered: host,
        backendHost,
      });
      return localReply(425, 'Backend offered a foreign data address; refused.');
    }
    if (address.port < 1024) {
      this.log.warn('refused backend passive address: privileged port', { port: address.port });
      return localReply(425, 'Backend offered a privileged data port; refused.');
    }
    return { host, port: address.port };
  }

  private async transfer(command: FtpCommand): Promise<void> {
    const passive = this.passive;
    this.passive = undefined;
    if (!passive) {
      await this.frontend.reply(425, 'Use PASV or EPSV first.');
      return;
    }
    const outcome = await runTransfer({
      command,
      backend: this.requireBackend().control,
      backendData: passive.backend,
      clientData: passive.listener,
      frontend: this.frontend,
      dataConnectTimeoutMs: this.ctx.listener.dataConnectTimeout,
      log: this.log,
    });
    if (outcome === 'client-gone') this.frontend.destroy();
  }

  private closePassive(): void {
    this.passive?.listener.dispose();
    this.passive = undefined;
  }

  private requireBackend(): SelectedBackend {
    if (!this.backend) throw new Error('no backend connected');
    return this.backend;
  }

  private dispose(): void {
    this.closePassive();
    this.backend?.control.destroy();
    this.frontend.destroy();
  }
}

/** mod_proxy rewrites the URL's user name back to the client's in the first reply line only. */
function rewriteFirstLine(reply: FtpReply, from: string, to: string): FtpReply {
  const [first, ...rest] = reply.lines;
  if (first === undefined) return reply;
  return { code: reply.code, lines: [first.split(from).join(to), ...rest] };
}
