import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Transform } from 'node:stream';
import { TLSSocket } from 'node:tls';
import type { BackendUrl } from '../../functions/core/backend-url.js';
import { type SessionHandle, untrackedSession } from '../admin/session-registry.js';
import type { ListenerConfig } from '../config/schema.js';
import type { ControlPlaneClient } from '../control-plane/control-plane-client.js';
import type { Logger } from '../log/logger.js';
import type { TransferLog } from '../log/transfer-log.js';
import { outboundProxyHeader } from '../proxy-protocol/outbound.js';
import {
  BackendRefusedError,
  NoBackendAvailableError,
  type SelectedBackend,
  selectAndConnect,
} from '../reverse/backend-selection.js';
import { type ConnectionReporter, needsReports } from '../reverse/connection-reporter.js';
import type { Pool } from '../reverse/pool.js';
import type { FrontendTls } from '../tls/frontend-tls-context.js';
import type { ConnectOptions } from './backend-connect.js';
import { BackendLostError, describeReply } from './backend-control.js';
import { BackendDataSetup } from './backend-data.js';
import type { ClientDataOptions } from './client-data.js';
import type { CommandLimits } from './command-limits.js';
import { runCommandLoop, screenCommand } from './command-loop.js';
import type { CommandEvent, FtpCommand } from './command-parser.js';
import { DataTransfers } from './data-transfers.js';
import {
  DEFAULT_MLST_FACTS,
  formatFeatMlst,
  formatOptsMlstReply,
  type MlstFact,
  parseOptsMlst,
} from './dirlist/facts.js';
import { createMlsdTransform, listCommandFor } from './dirlist/mlsd-transform.js';
import { featReply } from './feat.js';
import { FrontendControl } from './frontend-control.js';
import { FrontendSecurity, SECURITY_COMMANDS } from './frontend-security.js';
import { answerWithoutBackend, quitSession } from './local-answers.js';
import type { PortRange } from './port-range.js';
import { type FtpReply, localReply } from './reply.js';
import { SessionTimeouts, type TimeoutKind, timeoutReplyText } from './session-timeouts.js';
import { bridgedConnectTls, bridgeSecurityCommand } from './tls-bridge.js';
import { TRANSFER_COMMANDS } from './transfer.js';
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
  'HOST',
]);

export interface ReverseSessionContext {
  listener: ListenerConfig;
  pool: Pool;
  /** Pools HOST may select on this listener (the listener's own pool among them). */
  hostPools: Pool[];
  /** The listener's `<Limit>` rules. */
  limits: CommandLimits;
  controlPlane: ControlPlaneClient;
  /** The client's address and port: the socket's peer, or what a trusted PROXY header said. */
  clientAddress: string;
  clientPort: number;
  /** The listener's PassivePorts range, shared by its sessions. */
  portRange: PortRange | undefined;
  /** MasqueradeAddress resolved to IPv4. */
  masqueradeIPv4: string | undefined;
  allowsForeignAddress: (host: string) => boolean;
  reporter: ConnectionReporter;
  transferLog: TransferLog | undefined;
  log: Logger;
  /**
   * The listener's FTPS (absent: plain FTP only, security commands answered 502). With implicit
   * FTPS the session's socket is already the TLS socket.
   */
  frontendTls?: FrontendTls;
  /** Pools the client's TLS SNI name may select (the listener's tls.sniPools). */
  sniPools?: Pool[];
  /** The session's entry in the worker's SessionRegistry (admin endpoint, metrics); its id is the session's. */
  tracked?: SessionHandle;
}

/**
 * One client's reverse-proxy FTP session. The backend is chosen when the client connects (balancing
 * policies, reference 3.3), its banner is relayed, and from then on commands are relayed in order,
 * except for the ones the proxy must own: data-channel setup (the client only ever sees the proxy's
 * addresses), transfers (bytes flow through the proxy), FEAT (filtered to what the proxy supports),
 * and login credentials from the backend URL.
 */
export class ReverseFtpSession {
  readonly id: string;
  private readonly tracked: SessionHandle;
  private readonly frontend: FrontendControl;
  private log: Logger;
  private backend: SelectedBackend | undefined;
  private loggedIn = false;
  private failedLogins = 0;
  private dataSetup: BackendDataSetup | undefined;
  /** The data channel (PASV/EPSV/PORT/EPRT and transfers), shared with the forward session. */
  private readonly data: DataTransfers;
  private mlstFacts: ReadonlySet<MlstFact> = DEFAULT_MLST_FACTS;
  /** TYPE as last accepted by the backend; ASCII until a client says otherwise (RFC 959). */
  private binary = false;
  private userName = '';
  /** The client's HOST argument, once accepted. */
  private hostName: string | undefined;
  private readonly timeouts: SessionTimeouts;
  /** The listener's pool, until HOST names another one. */
  private pool: Pool;
  private readonly clientData: ClientDataOptions;
  /** Set when the proxy itself ends the session (a timeout), so the aftermath is not logged as a failure. */
  private endedByProxy: string | undefined;
  private backendSaidGoodbye = false;
  private reportedEnd = false;
  private readonly security: FrontendSecurity;

  constructor(
    private readonly socket: Socket,
    private readonly ctx: ReverseSessionContext,
  ) {
    this.tracked = ctx.tracked ?? untrackedSession;
    this.id = ctx.tracked?.id || randomBytes(6).toString('hex');
    this.pool = ctx.pool;
    this.frontend = new FrontendControl(socket, ctx.listener.maxCommandLength);
    this.log = ctx.log.child({
      session: this.id,
      client: `${ctx.clientAddress}:${ctx.clientPort}`,
      ...(ctx.clientAddress !== socket.remoteAddress
        ? { via: `${socket.remoteAddress}:${socket.remotePort}` }
        : {}),
    });
    this.security = new FrontendSecurity(
      ctx.frontendTls,
      socket instanceof TLSSocket ? socket : undefined,
      this.log,
      ctx.listener.dataConnectTimeout,
    );
    // Implicit FTPS: the SNI name is known before anything else, so it may choose the pool at once.
    this.pool = this.sniPool() ?? this.pool;
    this.timeouts = new SessionTimeouts(ctx.listener.timeouts, (kind) => this.timedOut(kind));
    this.clientData = {
      control: socket,
      clientAddress: ctx.clientAddress,
      portRange: ctx.portRange,
      masqueradeIPv4: ctx.masqueradeIPv4,
      allowsForeignAddress: ctx.allowsForeignAddress,
      epsv: ctx.listener.epsv,
      dataConnectTimeoutMs: ctx.listener.dataConnectTimeout,
      log: this.log,
    };
    this.data = new DataTransfers({
      frontend: this.frontend,
      clientData: this.clientData,
      timeouts: this.timeouts,
      transferRate: ctx.listener.transferRate,
      transferLog: ctx.transferLog,
      clientAddress: ctx.clientAddress,
      tracked: this.tracked,
      protectClientData: (endpoint) => this.security.protectClientData(endpoint),
      transferRefusal: () => this.security.transferRefusal(),
    });
  }

  /**
   * Reference 3.3: balancing policies and PerHost choose the backend when the client connects (and its
   * banner is relayed); PerUser chooses at USER, so the client first gets the proxy's own greeting.
   */
  private get connectsAtStart(): boolean {
    return this.pool.config.connectPolicy !== 'PerUser' && !this.pool.config.proxyAuth;
  }

  async run(): Promise<void> {
    const started = performance.now();
    let endReason = 'client quit';
    try {
      this.log.info('session started', { pool: this.pool.config.name });
      if (this.connectsAtStart) {
        const stickyKey = this.pool.config.connectPolicy === 'PerHost' ? this.ctx.clientAddress : undefined;
        const backend = await this.connect(stickyKey).catch(async (err: unknown) => {
          await this.frontend.sendAndClose(localReply(421, noBackendText(err)));
          return undefined;
        });
        if (!backend) {
          endReason = 'no backend';
          return;
        }
        await this.frontend.send(backend.banner);
      } else {
        await this.frontend.reply(220, 'FTP proxy ready.');
      }
      endReason = await this.commandLoop();
    } catch (err) {
      endReason = this.endedByProxy ?? (err instanceof Error ? err.message : String(err));
      if (this.endedByProxy) {
        // The proxy closed the session on purpose; what failed afterwards is the consequence.
      } else if (err instanceof BackendLostError && this.backendSaidGoodbye) {
        this.log.info('backend closed the session', { reason: err.message });
        this.frontend.end();
      } else if (err instanceof BackendLostError) {
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

  /** Ends the session at once (worker shutdown, an operator's kick), with `421 reason` when given. */
  close(reason?: string): void {
    if (reason !== undefined) {
      this.endedByProxy = reason;
      void this.frontend.sendAndClose(localReply(421, reason));
    }
    this.dispose();
  }

  private timedOut(kind: TimeoutKind): void {
    const text = timeoutReplyText(kind, this.ctx.listener.timeouts);
    this.endedByProxy = `${kind} timeout`;
    this.log.info('session timed out', { timeout: kind });
    void this.frontend.sendAndClose(localReply(421, text));
    this.dispose();
  }

  /** Chooses and connects the backend; throws when none can be reached (the caller tells the client). */
  private async connect(stickyKey: string | undefined): Promise<SelectedBackend> {
    const version = this.pool.config.sendProxyProtocol;
    const ssl = this.security.proxyProtocolSsl();
    const source = {
      client: { address: this.ctx.clientAddress, port: this.ctx.clientPort },
      frontend: { address: this.socket.localAddress ?? '', port: this.socket.localPort ?? 0 },
      protocol: this.security.isProtected ? ('ftps' as const) : ('ftp' as const),
      sessionId: this.id,
      ...(ssl ? { ssl } : {}),
    };
    let backend: SelectedBackend;
    try {
      backend = await selectAndConnect(this.pool, {
        controlPlane: this.ctx.controlPlane,
        reporter: this.ctx.reporter,
        log: this.log,
        ...(stickyKey !== undefined ? { stickyKey } : {}),
        ...(this.pool.tls ? { tls: (url: BackendUrl, key: string) => this.backendTlsFor(url, key) } : {}),
        ...(version === 'off'
          ? {}
          : { prelude: (backendAddress: string) => outboundProxyHeader(version, source, backendAddress) }),
      });
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      // A refusal on purpose (perUserFallback refuse, an unusable user name) is not an outage.
      if (err instanceof BackendRefusedError)
        this.log.warn('login refused: no backend for this user', { reason });
      else this.log.error('no backend available', { reason });
      throw err;
    }
    this.backend = backend;
    this.tracked.setBackend(backend.key, {
      connectMs: backend.connectMs,
      address: backend.address,
      port: backend.url.port,
    });
    this.log = this.log.child({ backend: backend.key });
    const pool = this.pool.config;
    this.dataSetup = new BackendDataSetup(backend.control, {
      policy: pool.dataTransferPolicy,
      foreignDataAddress: pool.foreignDataAddress,
      sourceAddress: pool.sourceAddress,
      connectTimeoutMs: this.ctx.listener.dataConnectTimeout,
      log: this.log,
    });
    backend.control.onUnsolicited = (reply) => {
      this.log.info('unsolicited backend reply relayed', { reply: describeReply(reply) });
      // A backend 421 (its idle timeout, say) already told the client the session is over.
      if (reply.code === 421) this.backendSaidGoodbye = true;
      void this.frontend.send(reply);
    };
    // Losing the backend while the client is idle must end the session at once, not at the next command.
    void backend.control.lost.then(() => this.frontend.commands.interrupt());
    return backend;
  }

  private commandLoop(): Promise<string> {
    return runCommandLoop({
      frontend: this.frontend,
      backend: () => this.backend?.control,
      endedByProxy: () => this.endedByProxy,
      timeouts: this.timeouts,
      tracked: this.tracked,
      handle: (event) => this.handle(event),
    });
  }

  /** Handles one command; true when the session is over. */
  private async handle(event: CommandEvent): Promise<boolean> {
    const screened = await screenCommand(event, this.frontend, this.ctx.listener.maxCommandLength, this.log);
    if (screened.kind === 'answered') return false;
    if (screened.kind === 'untrusted-proxy-header') {
      this.endedByProxy = 'PROXY header from an untrusted source';
      return true;
    }
    const { command } = screened;
    if (command.verb === 'QUIT') {
      await this.quit();
      return true;
    }
    if (SECURITY_COMMANDS.has(command.verb)) {
      await this.securityCommand(command);
      return false;
    }
    const tlsRefusal = this.security.controlRefusal(command.verb);
    if (tlsRefusal) {
      await this.frontend.send(tlsRefusal);
      return false;
    }
    const limit = this.ctx.limits.check(command.verb, this.userName || undefined, this.ctx.clientAddress);
    if (!limit.allowed) {
      this.log.info('command refused by a limit', { verb: command.verb });
      await this.frontend.reply(limit.code, `${command.verb}: Operation not permitted`);
      return false;
    }
    if (!this.loggedIn && !BEFORE_LOGIN.has(command.verb)) {
      await this.frontend.reply(530, 'Please login with USER and PASS.');
      return false;
    }
    if (!this.backend && !['USER', 'PASS', 'HOST'].includes(command.verb)) {
      await this.beforeBackend(command);
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
        if (this.pool.config.showFeatures) await this.relay(command);
        else {
          await this.frontend.send(
            featReply(
              await this.requireBackend().control.command('FEAT'),
              this.listingFeature(),
              this.security.features(),
            ),
          );
        }
        break;
      case 'OPTS':
        if (this.translatesListings && /^MLST(\s|$)/i.test(command.arg)) await this.optsMlst(command.arg);
        else await this.relay(command);
        break;
      case 'PASV':
      case 'EPSV':
      case 'PORT':
      case 'EPRT':
        // UseDirectDataTransfers: the client and the backend connect to each other, bypassing the proxy.
        if (this.pool.config.directDataTransfers) await this.relay(command);
        else await this.prepareData(command);
        break;
      case 'LPRT':
      case 'LPSV':
        await this.frontend.reply(502, `${command.verb} is not supported; use EPRT or EPSV.`);
        break;
      case 'HOST':
        await this.host(command);
        break;
      case 'TYPE': {
        const reply = await this.relay(command);
        if (reply.code === 200) this.binary = /^\s*[IL]/i.test(command.arg);
        break;
      }
      case 'REIN':
        this.closeData();
        if (this.loggedIn) this.timeouts.loggedOut();
        this.loggedIn = false;
        await this.relay(command);
        break;
      case 'ABOR':
        this.closeData();
        await this.relay(command);
        break;
      default:
        if (TRANSFER_COMMANDS.has(command.verb) && !this.pool.config.directDataTransfers)
          await this.transfer(command);
        else await this.relay(command);
    }
    return false;
  }

  /**
   * HOST (RFC 7151), before USER: names the virtual host. Another pool of this listener means the
   * session starts over there (mod_proxy re-initialises the session the same way). A backend whose
   * FEAT lists HOST then gets `HOST <its own host name from the backend URL>`, as mod_proxy sends:
   * the name the client used is the proxy's, which the backend need not know.
   */
  private async host(command: FtpCommand): Promise<void> {
    if (this.loggedIn || this.userName !== '') {
      await this.frontend.reply(503, 'HOST must come before USER.');
      return;
    }
    const name = command.arg
      .trim()
      .replace(/^\[(.*)\]$/, '$1')
      .toLowerCase();
    const pool = this.ctx.hostPools.find(
      (candidate) =>
        candidate.config.name.toLowerCase() === name ||
        candidate.config.hostNames.some((alias) => alias.toLowerCase() === name),
    );
    if (!pool) {
      this.log.info('HOST names no pool of this listener', { host: command.arg });
      await this.frontend.reply(504, `Unknown host ${command.arg}.`);
      return;
    }
    if (pool !== this.pool) {
      this.log.info('HOST switches pool', { from: this.pool.config.name, to: pool.config.name });
      if (!(await this.switchPool(pool))) return;
    }
    this.hostName = command.arg.trim();
    await this.forwardHost(localReply(220, 'HOST command successful.'));
  }

  /**
   * Moves the session to another pool before login (HOST, or the TLS SNI name): the backend of the
   * old pool is let go and, under a policy that connects at once, one of the new pool's is connected.
   * False when none could be reached: the client was told and the session is over.
   */
  private async switchPool(pool: Pool): Promise<boolean> {
    this.releaseBackend();
    this.pool = pool;
    if (!this.connectsAtStart) return true;
    const stickyKey = pool.config.connectPolicy === 'PerHost' ? this.ctx.clientAddress : undefined;
    const connected = await this.connect(stickyKey).catch(() => undefined);
    if (connected) return true;
    await this.frontend.sendAndClose(localReply(421, 'Service not available, no backend server reachable.'));
    return false;
  }

  /** The pool the client's SNI name selects (listener tls.sniPools), if another one. */
  private sniPool(): Pool | undefined {
    const name = this.ctx.frontendTls?.poolFor(this.security.serverName);
    return name === undefined ? undefined : this.ctx.sniPools?.find((pool) => pool.config.name === name);
  }

  private backendTlsFor(url: BackendUrl, key: string): ConnectOptions['tls'] {
    return bridgedConnectTls(this.pool.tls, url, key, this.security, this.log);
  }

  /** AUTH, PBSZ, PROT, CCC and the other RFC 2228 commands: the proxy's, never the backend's (tls-bridge.ts). */
  private async securityCommand(command: FtpCommand): Promise<void> {
    const ended = await bridgeSecurityCommand(command, {
      security: this.security,
      frontend: this.frontend,
      backend: this.backend,
      backendTls: this.pool.tls,
      log: this.log,
      onTlsStarted: async () => {
        const pool = this.loggedIn ? undefined : this.sniPool();
        if (!pool || pool === this.pool) return false;
        this.log.info('TLS SNI switches pool', { sni: this.security.serverName, to: pool.config.name });
        await this.switchPool(pool);
        return true;
      },
    });
    if (ended !== undefined) this.endedByProxy = ended;
  }

  /** Sends HOST to the backend when it supports it; relays its reply, else `fallback`. */
  private async forwardHost(fallback: FtpReply): Promise<void> {
    const reply = this.backend ? await sendBackendHost(this.backend) : undefined;
    await this.frontend.send(reply ?? fallback);
  }

  /** Drops the backend (HOST switching pools): its end is reported like a session end. */
  private releaseBackend(): void {
    this.closeData();
    this.reportEnd();
    this.backend?.control.destroy();
    this.backend = undefined;
    this.tracked.clearBackend();
    this.dataSetup = undefined;
    this.reportedEnd = false;
  }

  /** Commands before USER under PerUser: no backend yet, so the proxy answers them itself. */
  private async beforeBackend(command: FtpCommand): Promise<void> {
    await answerWithoutBackend(this.frontend, command, this.listingFeature(), this.security.features());
  }

  private get translatesListings(): boolean {
    return this.pool.config.directoryListPolicy === 'LIST';
  }

  /** Under the LIST policy the proxy owns the MLST facts, so FEAT shows its own. */
  private listingFeature(): string | undefined {
    return this.translatesListings ? formatFeatMlst(this.mlstFacts).trim() : undefined;
  }

  /** OPTS MLST under the LIST policy: the facts the translated MLSD listings carry. */
  private async optsMlst(arg: string): Promise<void> {
    const facts = parseOptsMlst(arg.replace(/^MLST\s*/i, ''));
    if (!facts) {
      await this.frontend.reply(501, 'Invalid OPTS MLST argument.');
      return;
    }
    this.mlstFacts = facts;
    await this.frontend.reply(200, formatOptsMlstReply(facts));
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
    this.log = this.log.child({ user: name });
    this.userName = name;
    this.tracked.setUser(name);
    if (this.pool.config.proxyAuth) {
      // UseReverseProxyAuth: USER is the proxy's; the backend is chosen and logged in to after PASS.
      if (this.backend) this.releaseBackend();
      if (this.loggedIn) this.timeouts.loggedOut();
      this.loggedIn = false;
      this.closeData();
      await this.frontend.reply(331, `Password required for ${name}.`);
      return;
    }
    if (!this.backend) {
      // PerUser: the user name picks the backend. A failure looks like any refused login (mod_proxy).
      const connected = await this.connect(name).catch(() => undefined);
      if (!connected) {
        await this.frontend.reply(530, 'Login incorrect.');
        return;
      }
      // The client's HOST came before there was a backend to tell.
      if (this.hostName) await sendBackendHost(connected);
    }
    const backend = this.requireBackend();
    if (this.loggedIn) this.timeouts.loggedOut();
    this.loggedIn = false;
    this.closeData();
    const reply = await this.sendBackendUser(backend, name);
    if (reply.code === 230) this.loginSucceeded();
    await this.frontend.send(reply);
  }

  /** USER to the backend, with the URL's user name if it has one (rewritten back in the reply). */
  private async sendBackendUser(backend: SelectedBackend, name: string): Promise<FtpReply> {
    const urlUser = backend.url.user === undefined ? undefined : utf8AsWire(backend.url.user);
    const reply = await backend.control.command(`USER ${urlUser ?? name}`);
    return urlUser !== undefined && urlUser !== name ? rewriteFirstLine(reply, urlUser, name) : reply;
  }

  /**
   * PASS under UseReverseProxyAuth (reference 3.3): the proxy checks the password (store or identity
   * hook); then the policy chooses the backend (PerUser by user, PerGroup by primary group), USER is
   * replayed to it with its reply hidden, and PASS is relayed. Every refusal looks the same to the
   * client: 530 Login incorrect.
   */
  private async proxyAuthenticate(password: string): Promise<void> {
    if (this.userName === '') {
      await this.frontend.reply(503, 'Login with USER first.');
      return;
    }
    const auth = await this.ctx.controlPlane
      .authenticate({
        pool: this.pool.config.name,
        user: this.userName,
        password,
        clientAddress: this.ctx.clientAddress,
        protocol: 'ftp',
      })
      .catch(
        (err: unknown) => ({ allowed: false, reason: `control plane: ${(err as Error).message}` }) as const,
      );
    if (!auth.allowed) {
      await this.loginFailed(localReply(530, 'Login incorrect.'), auth.reason ?? 'refused');
      return;
    }
    const policy = this.pool.config.connectPolicy;
    const stickyKey =
      policy === 'PerUser'
        ? this.userName
        : policy === 'PerGroup'
          ? auth.primaryGroup
          : policy === 'PerHost'
            ? this.ctx.clientAddress
            : undefined;
    if (policy === 'PerGroup' && stickyKey === undefined) {
      await this.loginFailed(
        localReply(530, 'Login incorrect.'),
        'PerGroup, but the user has no primary group',
      );
      return;
    }
    const backend = await this.connect(stickyKey).catch(() => undefined);
    if (!backend) {
      await this.frontend.reply(530, 'Login incorrect.');
      return;
    }
    if (this.hostName) await sendBackendHost(backend);
    const userReply = await this.sendBackendUser(backend, this.userName);
    if (userReply.code === 230) {
      this.loginSucceeded();
      await this.frontend.send(userReply);
      return;
    }
    await this.backendPass(backend, password);
  }

  private loginSucceeded(): void {
    this.loggedIn = true;
    this.failedLogins = 0;
    this.timeouts.loggedIn();
    this.tracked.login(true);
    this.log.info('login succeeded');
  }

  private async pass(password: string): Promise<void> {
    if (this.backend) await this.backendPass(this.backend, password);
    else if (this.pool.config.proxyAuth) await this.proxyAuthenticate(password);
    else await this.frontend.reply(503, 'Login with USER first.');
  }

  private async backendPass(backend: SelectedBackend, password: string): Promise<void> {
    // A "user:@host" URL keeps the client's password; "user:secret@host" replaces it.
    const urlPassword = backend.url.password ? utf8AsWire(backend.url.password) : undefined;
    const reply = await backend.control.command(`PASS ${urlPassword ?? password}`);
    if (reply.code === 230 || reply.code === 202) {
      this.loginSucceeded();
      await this.frontend.send(reply);
    } else if (reply.code >= 500) {
      await this.loginFailed(reply, describeReply(reply));
    } else {
      await this.frontend.send(reply);
    }
  }

  /** A refused login: counted for MaxLoginAttempts, whose last refusal closes the connection. */
  private async loginFailed(reply: FtpReply, reason: string): Promise<void> {
    this.failedLogins += 1;
    this.tracked.login(false);
    this.log.warn('login failed', { reason, attempt: this.failedLogins });
    if (this.failedLogins >= this.ctx.listener.maxLoginAttempts) {
      // ProFTPD's MaxLoginAttempts: the last refusal is the last word.
      this.endedByProxy = 'too many failed logins';
      this.log.warn('maximum login attempts reached; closing', { max: this.ctx.listener.maxLoginAttempts });
      await this.frontend.sendAndClose(reply);
      return;
    }
    await this.frontend.send(reply);
  }

  private async quit(): Promise<void> {
    await quitSession(this.frontend, this.backend?.control);
  }

  /** PASV/EPSV/PORT/EPRT: both ends of the next transfer's data connection (data-transfers.ts). */
  private async prepareData(command: FtpCommand): Promise<void> {
    await this.data.prepare(command, this.requireDataSetup(), this.log);
  }

  private async transfer(command: FtpCommand): Promise<void> {
    await this.data.transfer(command, {
      backend: this.requireBackend().control,
      lingerMs: this.pool.config.lingerTimeout,
      listing: command.verb === 'MLSD' && this.translatesListings ? this.mlsdFromList(command) : undefined,
      user: this.userName,
      binary: this.binary,
      loggedIn: this.loggedIn,
      log: this.log,
    });
  }

  /** MLSD under the LIST policy: LIST goes to the backend, its listing comes back as MLSD lines. */
  private mlsdFromList(command: FtpCommand): { backendLine: string; through: Transform } {
    const pool = this.pool.config;
    return {
      backendLine: listCommandFor(this.mlstFacts, command.arg === '' ? undefined : command.arg),
      through: createMlsdTransform({
        facts: this.mlstFacts,
        useSlink: pool.useSlink,
        onSkippedLine: (line, reason) =>
          this.log.warn('listing line not translated to MLSD', { line, reason }),
      }),
    };
  }

  private closeData(): void {
    this.data.close();
  }

  private requireDataSetup(): BackendDataSetup {
    if (!this.dataSetup) throw new Error('no backend connected');
    return this.dataSetup;
  }

  private requireBackend(): SelectedBackend {
    if (!this.backend) throw new Error('no backend connected');
    return this.backend;
  }

  private reportEnd(): void {
    if (this.backend && !this.reportedEnd) {
      this.reportedEnd = true;
      if (needsReports(this.pool.config.connectPolicy)) {
        this.ctx.reporter.ended(this.pool.config.name, this.backend.key);
      }
    }
  }

  private dispose(): void {
    this.reportEnd();
    this.timeouts.dispose();
    this.closeData();
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

function noBackendText(err: unknown): string {
  return err instanceof NoBackendAvailableError
    ? 'Service not available, no backend server reachable.'
    : 'Service not available, backend selection failed.';
}

/** `HOST <backend host>` when the backend's FEAT lists HOST; its reply, or undefined when not sent. */
async function sendBackendHost(backend: SelectedBackend): Promise<FtpReply | undefined> {
  await backend.control.featuresReady;
  if (!backend.control.features.has('HOST')) return undefined;
  const host = backend.url.host.includes(':') ? `[${backend.url.host}]` : backend.url.host;
  return backend.control.command(`HOST ${host}`);
}
