import { randomBytes } from 'node:crypto';
import { isIP, type Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { BackendUrl } from '../../functions/core/backend-url.js';
import { DestinationPolicy, parseAllowNetworks } from '../../functions/core/net/destination-policy.js';
import { type SessionHandle, untrackedSession } from '../admin/session-registry.js';
import type { ListenerConfig, PoolConfig } from '../config/schema.js';
import type { ControlPlaneClient } from '../control-plane/control-plane-client.js';
import { BackendLostError, describeReply } from '../ftp/backend-control.js';
import { BackendDataSetup } from '../ftp/backend-data.js';
import type { ClientDataOptions } from '../ftp/client-data.js';
import type { CommandLimits } from '../ftp/command-limits.js';
import { runCommandLoop, screenCommand } from '../ftp/command-loop.js';
import type { CommandEvent, FtpCommand } from '../ftp/command-parser.js';
import { DataTransfers } from '../ftp/data-transfers.js';
import { featReply } from '../ftp/feat.js';
import { FrontendControl } from '../ftp/frontend-control.js';
import { FrontendSecurity, SECURITY_COMMANDS } from '../ftp/frontend-security.js';
import { answerWithoutBackend, quitSession } from '../ftp/local-answers.js';
import type { PortRange } from '../ftp/port-range.js';
import { type FtpReply, localReply } from '../ftp/reply.js';
import { SessionTimeouts, type TimeoutKind, timeoutReplyText } from '../ftp/session-timeouts.js';
import { bridgedConnectTls, bridgeSecurityCommand } from '../ftp/tls-bridge.js';
import { TRANSFER_COMMANDS } from '../ftp/transfer.js';
import type { Logger } from '../log/logger.js';
import type { TransferLog } from '../log/transfer-log.js';
import type { ResolveAddresses } from '../net/destination-resolver.js';
import type { BackendTls } from '../tls/backend-tls-context.js';
import type { FrontendTls } from '../tls/frontend-tls-context.js';
import type { ClientClasses } from './client-class.js';
import {
  type Destination,
  formatHostPort,
  IMPLICIT_FTPS_PORT,
  parseDestination,
  splitUserAtHost,
} from './destination.js';
import { connectDestination, FORWARD_REFUSED_TEXT, type ForwardConnected } from './forward-connect.js';
import { DEFAULT_FORWARD_METHOD, type ForwardMethod, needsProxyAuth } from './forward-methods.js';
import { compileForwardTo, describeForwardTo } from './forward-to.js';
import type { LoopGuard } from './loop-guard.js';

/** Commands a client may send before it is logged in to the destination (reference 3.1). */
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

export interface ForwardSessionContext {
  listener: ListenerConfig;
  /** The listener's pool, of role forward: its data-channel, timeout and forward settings apply. */
  pool: PoolConfig;
  limits: CommandLimits;
  controlPlane: ControlPlaneClient;
  clientAddress: string;
  clientPort: number;
  portRange: PortRange | undefined;
  masqueradeIPv4: string | undefined;
  allowsForeignAddress: (host: string) => boolean;
  classes: ClientClasses;
  loopGuard: LoopGuard;
  /** How destination names are resolved (the YAML's dns.servers, else the system); the system's when absent. */
  resolveDestination?: ResolveAddresses;
  transferLog: TransferLog | undefined;
  log: Logger;
  /**
   * The listener's FTPS (absent: plain FTP only, security commands answered 502). With implicit
   * FTPS the session's socket is already the TLS socket.
   */
  frontendTls?: FrontendTls;
  /** The pool's destination FTPS client (its `tls` block, ProxyTLS*); undefined when its engine is off. */
  backendTls?: BackendTls;
  /** The session's entry in the worker's SessionRegistry (admin endpoint, metrics); its id is the session's. */
  tracked?: SessionHandle;
}

/** A connected destination with its data-channel setup. */
interface Connected extends ForwardConnected {
  dataSetup: BackendDataSetup;
  /** The destination as TLS bridging sees it (tls-bridge.ts). */
  url: BackendUrl;
  key: string;
}

/**
 * One client's forward-proxy FTP session (ProxyRole forward, reference 1.3 and 3.2): the client names
 * the destination in its USER command (or in the proxy login, by ProxyForwardMethod), may first have
 * to log in to the proxy itself, and is then relayed to that destination as in the reverse role: the
 * proxy owns the data channel (so active-only clients reach passive-only servers, and IPv4 clients
 * IPv6 servers), FEAT is filtered, transfers flow through the proxy.
 *
 * Who may forward where is checked at every step: the client's class at connect (RFC 1918 only by
 * default), ProxyForwardTo when the destination is named, and when it is resolved the destination
 * address policy (functions/core/net/destination-policy.ts), ProxyForwardTo again on each canonical address, and
 * loop protection. Every refusal and connect failure gets the same 530 text; the reason is logged.
 *
 * FTPS bridges as in the reverse role (ftp/tls-bridge.ts): the listener's TLS towards the client
 * (AUTH TLS, PROT, implicit FTPS, TLSRequired; the SNI name is the destination under user@sni), the
 * pool's ProxyTLS* towards the destination (port 990 implicit, MatchClient following the client).
 */
export class ForwardFtpSession {
  readonly id: string;
  private readonly tracked: SessionHandle;
  private readonly frontend: FrontendControl;
  private readonly method: ForwardMethod;
  private readonly allowsDestination: (hostPort: string) => boolean;
  private readonly destinationPolicy: DestinationPolicy;
  /** The session's log, with the client; `log` adds the proxy user and destination once known. */
  private readonly sessionLog: Logger;
  private log: Logger;
  private readonly timeouts: SessionTimeouts;
  private readonly data: DataTransfers;
  private readonly security: FrontendSecurity;
  private backend: Connected | undefined;
  /** Logged in to the destination. */
  private loggedIn = false;
  private failedLogins = 0;
  /** The proxy user of a proxy-auth method: given by USER, waiting for PASS. */
  private proxyUser: string | undefined;
  private proxyAuthenticated = false;
  /** proxyuser@host,user: the destination named at the proxy login. */
  private pendingDestination: Destination | undefined;
  private fixedDestination: Destination | undefined;
  /** The user name the destination was last sent. */
  private userName = '';
  private binary = false;
  private endedByProxy: string | undefined;
  private backendSaidGoodbye = false;

  constructor(
    socket: Socket,
    private readonly ctx: ForwardSessionContext,
  ) {
    this.tracked = ctx.tracked ?? untrackedSession;
    this.id = ctx.tracked?.id || randomBytes(6).toString('hex');
    this.method = ctx.pool.forward?.method ?? DEFAULT_FORWARD_METHOD;
    const rule = ctx.pool.forward?.to;
    const compiled = rule ? compileForwardTo(rule) : undefined;
    // The config schema compiled the rule already; this guards against a caller that skipped it.
    if (compiled && !compiled.ok) throw new Error(compiled.error);
    this.allowsDestination = compiled?.ok ? compiled.test : () => true;
    this.destinationPolicy = new DestinationPolicy({
      allowNetworks: parseAllowNetworks(ctx.pool.allowDestinationNetworks ?? []),
      ownAddresses: () => ctx.loopGuard.ownAddresses(),
    });
    this.frontend = new FrontendControl(socket, ctx.listener.maxCommandLength);
    this.sessionLog = ctx.log.child({
      session: this.id,
      client: `${ctx.clientAddress}:${ctx.clientPort}`,
      role: 'forward',
      ...(ctx.clientAddress !== socket.remoteAddress
        ? { via: `${socket.remoteAddress}:${socket.remotePort}` }
        : {}),
    });
    this.log = this.sessionLog;
    this.security = new FrontendSecurity(
      ctx.frontendTls,
      socket instanceof TLSSocket ? socket : undefined,
      this.sessionLog,
      ctx.listener.dataConnectTimeout,
    );
    this.timeouts = new SessionTimeouts(ctx.listener.timeouts, (kind) => this.timedOut(kind));
    const clientData: ClientDataOptions = {
      control: socket,
      clientAddress: ctx.clientAddress,
      portRange: ctx.portRange,
      masqueradeIPv4: ctx.masqueradeIPv4,
      allowsForeignAddress: ctx.allowsForeignAddress,
      dataConnectTimeoutMs: ctx.listener.dataConnectTimeout,
      log: this.log,
    };
    this.data = new DataTransfers({
      frontend: this.frontend,
      clientData,
      timeouts: this.timeouts,
      transferRate: ctx.listener.transferRate,
      transferLog: ctx.transferLog,
      clientAddress: ctx.clientAddress,
      tracked: this.tracked,
      protectClientData: (endpoint) => this.security.protectClientData(endpoint),
      transferRefusal: () => this.security.transferRefusal(),
    });
  }

  async run(): Promise<void> {
    const started = performance.now();
    let endReason = 'client quit';
    try {
      const access = this.ctx.classes.forwardAccess(this.ctx.clientAddress);
      if (!access.allowed) {
        endReason = 'forward proxying not allowed';
        this.log.warn('forward proxying refused for this client', { reason: access.reason });
        await this.frontend.sendAndClose(
          localReply(421, `Forward proxying is not allowed from ${this.ctx.clientAddress}.`),
        );
        return;
      }
      this.log.info('session started', {
        pool: this.ctx.pool.name,
        method: this.method,
        access: access.reason,
      });
      await this.frontend.reply(220, 'FTP forward proxy ready.');
      endReason = await this.commandLoop();
    } catch (err) {
      endReason = this.endedByProxy ?? (err instanceof Error ? err.message : String(err));
      if (this.endedByProxy) {
        // The proxy closed the session on purpose; what failed afterwards is the consequence.
      } else if (err instanceof BackendLostError && this.backendSaidGoodbye) {
        this.log.info('destination closed the session', { reason: err.message });
        this.frontend.end();
      } else if (err instanceof BackendLostError) {
        this.log.warn('destination connection lost', { reason: err.message });
        await this.frontend.sendAndClose(
          localReply(421, 'Service not available, destination connection lost.'),
        );
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
    this.endedByProxy = `${kind} timeout`;
    this.log.info('session timed out', { timeout: kind });
    void this.frontend.sendAndClose(localReply(421, timeoutReplyText(kind, this.ctx.listener.timeouts)));
    this.dispose();
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
      const ended = await bridgeSecurityCommand(command, {
        security: this.security,
        frontend: this.frontend,
        backend: this.backend,
        backendTls: this.ctx.backendTls,
        log: this.log,
      });
      if (ended !== undefined) this.endedByProxy = ended;
      return false;
    }
    const tlsRefusal = this.security.controlRefusal(command.verb);
    if (tlsRefusal) {
      await this.frontend.send(tlsRefusal);
      return false;
    }
    // After a proxy login, <Limit> user rules see the proxy user (mod_proxy: limits by user and group
    // only work with proxy authentication); otherwise the destination's user name.
    const limitUser = (this.proxyAuthenticated ? this.proxyUser : this.userName) || undefined;
    const limit = this.ctx.limits.check(command.verb, limitUser, this.ctx.clientAddress);
    if (!limit.allowed) {
      this.log.info('command refused by a limit', { verb: command.verb });
      await this.frontend.reply(limit.code, `${command.verb}: Operation not permitted`);
      return false;
    }
    if (!this.loggedIn && !BEFORE_LOGIN.has(command.verb)) {
      await this.frontend.reply(530, 'Please login with USER and PASS.');
      return false;
    }
    switch (command.verb) {
      case 'USER':
        await this.user(command.arg);
        return false;
      case 'PASS':
        await this.pass(command.arg);
        return false;
      case 'HOST':
        await this.host(command.arg);
        return false;
    }
    const backend = this.backend;
    if (!backend) {
      await this.beforeBackend(command);
      return false;
    }
    switch (command.verb) {
      case 'FEAT':
        if (this.ctx.pool.showFeatures) await this.relay(command);
        else
          await this.frontend.send(
            featReply(await backend.control.command('FEAT'), undefined, this.security.features()),
          );
        break;
      case 'PASV':
      case 'EPSV':
      case 'PORT':
      case 'EPRT':
        if (this.ctx.pool.directDataTransfers) await this.relay(command);
        else await this.data.prepare(command, backend.dataSetup, this.log);
        break;
      case 'LPRT':
      case 'LPSV':
        await this.frontend.reply(502, `${command.verb} is not supported; use EPRT or EPSV.`);
        break;
      case 'TYPE': {
        const reply = await this.relay(command);
        if (reply.code === 200) this.binary = /^\s*[IL]/i.test(command.arg);
        break;
      }
      case 'REIN':
        this.data.close();
        this.loggedOut();
        await this.relay(command);
        break;
      case 'ABOR':
        this.data.close();
        await this.relay(command);
        break;
      default:
        if (TRANSFER_COMMANDS.has(command.verb) && !this.ctx.pool.directDataTransfers) {
          await this.data.transfer(command, {
            backend: backend.control,
            lingerMs: this.ctx.pool.lingerTimeout,
            user: this.userName,
            binary: this.binary,
            loggedIn: this.loggedIn,
            log: this.log,
          });
        } else await this.relay(command);
    }
    return false;
  }

  /** Commands answered by the proxy while no destination is connected. */
  private async beforeBackend(command: FtpCommand): Promise<void> {
    await answerWithoutBackend(this.frontend, command, undefined, this.security.features());
  }

  /**
   * HOST before USER (RFC 7151) names a virtual host of the proxy itself, as ProFTPD's core answers
   * it in mod_proxy's forward role: the pool's name, one of its hostNames, or the address the client
   * connected to; anything else is `504` (ProFTPD: "Unknown hostname provided"). The destination
   * comes from USER. After USER, HOST is out of sequence.
   */
  private async host(arg: string): Promise<void> {
    if (this.userName !== '' || this.proxyUser !== undefined || this.loggedIn) {
      await this.frontend.reply(503, 'HOST must come before USER.');
      return;
    }
    const name = arg
      .trim()
      .replace(/^\[(.*)\]$/, '$1')
      .toLowerCase();
    if (name === '') {
      await this.frontend.reply(501, 'HOST needs a host name.');
      return;
    }
    const local = (this.frontend.socket.localAddress ?? '').replace(/^::ffff:/, '');
    const known = [this.ctx.pool.name, ...this.ctx.pool.hostNames, local].map((known) => known.toLowerCase());
    if (!known.includes(name)) {
      this.log.info('HOST names no virtual host of this proxy', { host: arg.trim() });
      await this.frontend.reply(504, `Unknown host ${arg.trim()}.`);
      return;
    }
    this.log.info('HOST accepted', { host: arg.trim() });
    await this.frontend.reply(220, 'HOST command successful.');
  }

  private async user(arg: string): Promise<void> {
    this.data.close();
    if (this.loggedIn) {
      // mod_proxy answers this itself (ProFTPD's mod_auth), whatever the destination would say.
      await this.frontend.reply(501, 'Reauthentication not supported');
      return;
    }
    switch (this.method) {
      case 'user@sni':
        await this.userAtSni(arg);
        return;
      case 'user@host':
        await this.userAtHost(arg);
        return;
      case 'proxyuser,user@host':
        if (this.proxyAuthenticated) await this.userAtHost(arg);
        else await this.proxyLoginUser(arg, arg);
        return;
      case 'proxyuser@host,user':
        if (this.proxyAuthenticated) await this.userAfterProxyDestination(arg);
        else await this.proxyUserAtHost(arg);
        return;
    }
  }

  /** `USER user@host[:port]`: connect there (dropping any earlier destination), then log in as `user`. */
  private async userAtHost(arg: string): Promise<void> {
    const { user, destination } = splitUserAtHost(arg);
    if (destination === undefined) {
      if (this.backend) {
        // Same destination, another user (after a refused PASS, say).
        await this.sendUser(this.backend, arg);
        return;
      }
      await this.loginFailed(
        localReply(530, 'Login incorrect: name the destination as USER user@host[:port].'),
        'USER without a destination',
      );
      return;
    }
    const checked = await this.namedDestination(destination);
    const backend = checked ? await this.connectTo(checked) : undefined;
    if (backend) await this.sendUser(backend, user);
  }

  /**
   * user@sni (reference 3.2): the destination is the SNI name the client's TLS handshake carried
   * (`host` or `host:port`), USER is relayed unchanged. Without TLS on the control connection, or
   * without an SNI name, there is no destination and the login is refused.
   */
  private async userAtSni(user: string): Promise<void> {
    const sni = this.security.serverName;
    if (!this.security.isProtected || sni === undefined || sni === '') {
      const why = !this.security.offered
        ? 'this listener has no FTPS (tls block)'
        : !this.security.isProtected
          ? 'send AUTH TLS first'
          : 'the TLS handshake carried no SNI name';
      await this.loginFailed(
        localReply(530, `Login incorrect: ProxyForwardMethod user@sni needs FTPS with an SNI name: ${why}.`),
        `user@sni: ${why}`,
      );
      return;
    }
    if (this.backend) {
      await this.sendUser(this.backend, user);
      return;
    }
    const checked = await this.namedDestination(sni);
    const backend = checked ? await this.connectTo(checked) : undefined;
    if (backend) await this.sendUser(backend, user);
  }

  /** proxyuser@host,user: the first USER names the proxy user and the destination. */
  private async proxyUserAtHost(arg: string): Promise<void> {
    const { user, destination } = splitUserAtHost(arg);
    if (destination === undefined || user === '') {
      await this.loginFailed(
        localReply(530, 'Login incorrect: log in to the proxy as USER proxyuser@host[:port].'),
        'proxy USER without a destination',
      );
      return;
    }
    const checked = await this.namedDestination(destination);
    if (checked) await this.proxyLoginUser(user, arg, checked);
  }

  /** The destination text of a USER, checked; undefined (and the client told why) when refused. */
  private async namedDestination(text: string): Promise<Destination | undefined> {
    const checked = this.checkDestination(text);
    if (checked.ok) return checked.destination;
    await this.loginFailed(checked.reply, checked.reason);
    return undefined;
  }

  /** The USER of a proxy login: answered by the proxy, checked at PASS. */
  private async proxyLoginUser(user: string, asGiven: string, destination?: Destination): Promise<void> {
    this.proxyUser = user;
    this.pendingDestination = destination;
    this.log = this.sessionLog.child({ proxyUser: user });
    await this.frontend.reply(331, `Password required for ${asGiven}.`);
  }

  /** proxyuser@host,user: after the proxy login, USER is the destination's, relayed unchanged. */
  private async userAfterProxyDestination(arg: string): Promise<void> {
    const backend =
      this.backend ?? (this.fixedDestination ? await this.connectTo(this.fixedDestination) : undefined);
    if (backend) await this.sendUser(backend, arg);
  }

  private async sendUser(backend: Connected, user: string): Promise<void> {
    this.loggedOut();
    this.userName = user;
    await this.destinationLoginStep(await backend.control.command(`USER ${user}`));
  }

  /**
   * The destination's reply to USER or PASS, relayed: 230 (232 to USER, 202 to PASS) completes the
   * login, an error counts as a refused login, anything else (331, 332) waits for the next step.
   */
  private async destinationLoginStep(reply: FtpReply): Promise<void> {
    if (reply.code === 230 || reply.code === 232 || reply.code === 202) {
      this.loginSucceeded();
      await this.frontend.send(reply);
    } else if (reply.code >= 400) {
      await this.loginFailed(reply, describeReply(reply));
    } else {
      await this.frontend.send(reply);
    }
  }

  private async pass(password: string): Promise<void> {
    if (this.loggedIn) {
      await this.frontend.reply(503, 'You are already logged in');
      return;
    }
    if (this.backend && this.userName !== '') {
      await this.destinationLoginStep(await this.backend.control.command(`PASS ${password}`));
      return;
    }
    if (needsProxyAuth(this.method) && !this.proxyAuthenticated) {
      // Without a proxy user (its USER was refused), mod_proxy's local authentication says 530 too.
      if (this.proxyUser === undefined) await this.frontend.reply(530, 'Login incorrect.');
      else await this.proxyAuthenticate(this.proxyUser, password);
      return;
    }
    await this.frontend.reply(503, 'Login with USER first.');
  }

  /** PASS of a proxy login: the proxy users of this pool (store, AuthUserFile, identity hook) decide. */
  private async proxyAuthenticate(user: string, password: string): Promise<void> {
    const auth = await this.ctx.controlPlane
      .authenticate({
        pool: this.ctx.pool.name,
        user,
        password,
        clientAddress: this.ctx.clientAddress,
        protocol: 'ftp',
      })
      .catch(
        (err: unknown) => ({ allowed: false, reason: `control plane: ${(err as Error).message}` }) as const,
      );
    if (!auth.allowed) {
      this.proxyUser = undefined;
      this.pendingDestination = undefined;
      await this.loginFailed(localReply(530, 'Login incorrect.'), `proxy login: ${auth.reason ?? 'refused'}`);
      return;
    }
    this.proxyAuthenticated = true;
    this.fixedDestination = this.pendingDestination;
    this.log.info('proxy login succeeded', {
      ...(this.fixedDestination ? { destination: this.fixedDestination.hostPort } : {}),
    });
    await this.frontend.reply(230, `User ${user} logged in.`);
  }

  /**
   * The destination text after `@` (or the SNI name): parsed (reference 3.2), then refused when it
   * does not pass ProxyForwardTo, or is implicit FTPS (port 990) while the pool's tls.engine is off.
   */
  private checkDestination(
    text: string,
  ): { ok: true; destination: Destination } | { ok: false; reply: FtpReply; reason: string } {
    const parsed = parseDestination(text);
    if (!parsed.ok) {
      return {
        ok: false,
        reply: localReply(530, `Login incorrect: bad destination: ${parsed.error}.`),
        reason: `bad destination: ${parsed.error}`,
      };
    }
    const { destination } = parsed;
    const rule = this.ctx.pool.forward?.to;
    if (rule && !this.allowsDestination(destination.hostPort)) {
      const reason = `host/port ${destination.hostPort} did not match ProxyForwardTo ${describeForwardTo(rule)}`;
      this.log.warn('forward destination refused', { reason });
      return { ok: false, reply: localReply(530, FORWARD_REFUSED_TEXT), reason };
    }
    if (destination.port === IMPLICIT_FTPS_PORT && !this.ctx.backendTls) {
      return {
        ok: false,
        reply: localReply(
          530,
          `Unable to connect to ${destination.hostPort}: port ${IMPLICIT_FTPS_PORT} is implicit FTPS, and this proxy's tls.engine (ProxyTLSEngine) is off`,
        ),
        reason: 'implicit FTPS destination (port 990) with tls.engine off',
      };
    }
    return { ok: true, destination };
  }

  /**
   * ProxyForwardTo on a resolved address, written `address:port` (`[v6]:port`): a negated rule must
   * pass for it as it did for the name typed (so `!^127\.` also refuses `2130706433`); a positive
   * rule that matches it is the explicit permission loopback and private addresses need.
   */
  private addressRule(
    address: string,
    port: number,
  ): { allowed: boolean; explicit: boolean; reason?: string } {
    const rule = this.ctx.pool.forward?.to;
    if (!rule) return { allowed: true, explicit: false };
    const hostPort = formatHostPort(address, port);
    const passes = this.allowsDestination(hostPort);
    if (rule.negate && !passes) {
      return {
        allowed: false,
        explicit: false,
        reason: `resolved address ${hostPort} did not match ProxyForwardTo ${describeForwardTo(rule)}`,
      };
    }
    return { allowed: true, explicit: !rule.negate && passes };
  }

  /**
   * Connects to the destination, replacing any earlier one. A failure or refusal is answered with
   * the one generic `530` (FORWARD_REFUSED_TEXT), the reason logged, and the session stays open for
   * another try.
   */
  private async connectTo(destination: Destination): Promise<Connected | undefined> {
    this.releaseBackend();
    const pool = this.ctx.pool;
    // Reference 3.2 and 1.6: port 990 is implicit FTPS; ProxyTLSEngine (MatchClient: as the client
    // came in) decides the rest; the TLS session cache key is mod_proxy's "ftp://host:port".
    const url: BackendUrl = {
      protocol: 'ftp',
      host: destination.host,
      port: destination.port,
      implicitTls: destination.port === IMPLICIT_FTPS_PORT,
    };
    const key = `ftp://${destination.hostPort}`;
    const tls = bridgedConnectTls(this.ctx.backendTls, url, key, this.security, this.log);
    let connected: ForwardConnected;
    try {
      connected = await connectDestination(destination, {
        timeoutMs: pool.connectTimeout,
        retryCount: pool.retryCount,
        sourceAddress: pool.sourceAddress,
        loopGuard: this.ctx.loopGuard,
        log: this.log,
        policy: this.destinationPolicy,
        addressRule: (address, port) => this.addressRule(address, port),
        ...(this.ctx.resolveDestination ? { resolve: this.ctx.resolveDestination } : {}),
        ...(tls ? { tls } : {}),
      });
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      await this.loginFailed(
        localReply(530, FORWARD_REFUSED_TEXT),
        `cannot connect to ${destination.hostPort}: ${reason}`,
      );
      return undefined;
    }
    if (connected.control.tls) {
      this.log.info('destination control connection secured', {
        mode: tls?.mode,
        protocol: connected.control.tls.protocol,
        prot: connected.control.tls.dataProtected ? 'P' : 'C',
      });
    }
    const backend: Connected = {
      ...connected,
      url,
      key,
      dataSetup: new BackendDataSetup(connected.control, {
        policy: pool.dataTransferPolicy,
        foreignDataAddress: pool.foreignDataAddress,
        sourceAddress: pool.sourceAddress,
        connectTimeoutMs: this.ctx.listener.dataConnectTimeout,
        log: this.log,
      }),
    };
    this.backend = backend;
    this.tracked.setBackend(destination.hostPort, {
      connectMs: connected.connectMs,
      address: connected.address,
      port: destination.port,
    });
    this.log = this.sessionLog.child({
      ...(this.proxyUser !== undefined ? { proxyUser: this.proxyUser } : {}),
      destination: destination.hostPort,
    });
    backend.control.onUnsolicited = (reply) => {
      this.log.info('unsolicited destination reply relayed', { reply: describeReply(reply) });
      if (reply.code === 421) this.backendSaidGoodbye = true;
      void this.frontend.send(reply);
    };
    void backend.control.lost.then(() => this.frontend.commands.interrupt());
    await this.sendDestinationHost(backend);
    return backend;
  }

  /**
   * Reference 3.2: after connecting, `HOST <destination>` when the destination lists HOST, so a
   * server with name-based virtual hosts serves the one the client named. Not for IP addresses.
   */
  private async sendDestinationHost(backend: Connected): Promise<void> {
    if (isIP(backend.destination.host) !== 0) return;
    await backend.control.featuresReady;
    if (!backend.control.features.has('HOST')) return;
    const reply = await backend.control.command(`HOST ${backend.destination.host}`);
    this.log.info('HOST sent to the destination', { reply: describeReply(reply) });
  }

  private async relay(command: FtpCommand): Promise<FtpReply> {
    const backend = this.backend;
    if (!backend) throw new Error('no destination connected');
    const line = command.arg === '' ? command.verb : `${command.verb} ${command.arg}`;
    const reply = await backend.control.command(line, {
      onPreliminary: (preliminary) => void this.frontend.send(preliminary),
    });
    await this.frontend.send(reply);
    return reply;
  }

  private loginSucceeded(): void {
    this.loggedIn = true;
    this.failedLogins = 0;
    this.timeouts.loggedIn();
    this.tracked.setUser(this.userName);
    this.tracked.login(true);
    this.log.info('login succeeded', { user: this.userName });
  }

  private loggedOut(): void {
    if (this.loggedIn) this.timeouts.loggedOut();
    this.loggedIn = false;
  }

  /** A refused login (or destination): counted for MaxLoginAttempts, whose last refusal closes the connection. */
  private async loginFailed(reply: FtpReply, reason: string): Promise<void> {
    this.failedLogins += 1;
    this.tracked.login(false);
    this.log.warn('login failed', { reason, attempt: this.failedLogins });
    if (this.failedLogins >= this.ctx.listener.maxLoginAttempts) {
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

  /** Drops the destination (a USER naming a new one). */
  private releaseBackend(): void {
    this.data.close();
    this.loggedOut();
    this.userName = '';
    this.backend?.control.destroy();
    this.backend = undefined;
    this.tracked.clearBackend();
  }

  private dispose(): void {
    this.timeouts.dispose();
    this.data.close();
    this.backend?.control.destroy();
    this.frontend.destroy();
  }
}
