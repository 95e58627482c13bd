import { isIP, type Socket } from 'node:net';
import type { BackendUrl } from '../../functions/core/backend-url.js';
import type { PoolConfig } from '../config/schema.js';
import type { ControlPlaneClient } from '../control-plane/control-plane-client.js';
import { describeReply } from '../ftp/control/backend-control.js';
import type { FtpCommand } from '../ftp/control/command-parser.js';
import { localReply } from '../ftp/control/reply.js';
import type { BackendDataSetup } from '../ftp/data/backend-data.js';
import { FtpSession } from '../ftp/session/ftp-session.js';
import { hostCommandName } from '../ftp/session/host-command.js';
import { authenticateProxyUser } from '../ftp/session/proxy-login.js';
import type { SessionRole } from '../ftp/session/session-role.js';
import { type SocketSessionContext, socketSessionParts } from '../ftp/session/socket-session.js';
import type { FrontendSecurity } from '../ftp/tls/frontend-security.js';
import { bridgedConnectTls, bridgeSecurityCommand } from '../ftp/tls/tls-bridge.js';
import type { Logger } from '../log/logger.js';
import type { ResolveAddresses } from '../net/destination-resolver.js';
import type { BackendTls } from '../tls/backend-tls-context.js';
import type { ClientClasses } from './client-class.js';
import { type Destination, IMPLICIT_FTPS_PORT, splitUserAtHost } from './destination.js';
import { DestinationAccess } from './destination-access.js';
import { connectDestination, FORWARD_REFUSED_TEXT, type ForwardConnected } from './forward-connect.js';
import { DEFAULT_FORWARD_METHOD, type ForwardMethod, needsProxyAuth } from './forward-methods.js';
import type { LoopGuard } from './loop-guard.js';

export interface ForwardSessionContext extends SocketSessionContext {
  /** The listener's pool, of role forward: its data-channel, timeout and forward settings apply. */
  pool: PoolConfig;
  controlPlane: ControlPlaneClient;
  classes: ClientClasses;
  loopGuard: LoopGuard;
  /** How destination names are resolved (the YAML's dns.servers, else the system); the system's when absent. */
  resolveDestination?: ResolveAddresses;
  /** The pool's destination FTPS client (its `tls` block, ProxyTLS*); undefined when its engine is off. */
  backendTls?: BackendTls;
}

/** A connected destination with its data-channel setup. */
interface Connected extends ForwardConnected {
  dataSetup: BackendDataSetup;
  /** The destination as TLS bridging sees it (tls-bridge.ts). */
  url: BackendUrl;
  key: string;
}

/** Where the login to the proxy itself stands, under a ProxyForwardMethod that has one. */
type ProxyLogin =
  | { step: 'none' }
  /** USER named the proxy user (and, for proxyuser@host,user, the destination); PASS checks it. */
  | { step: 'user-given'; user: string; destination: Destination | undefined }
  | { step: 'authenticated'; user: string; destination: Destination | undefined };

/**
 * One client's forward-proxy FTP session (ProxyRole forward,
 * http://www.proftpd.org/docs/contrib/mod_proxy.html#ProxyForwardMethod): the client names the
 * destination in its USER command (or in the proxy login, by ProxyForwardMethod), may first have to
 * log in to the proxy itself, and is then relayed to that destination as in the reverse role: the
 * proxy owns the data channel (so active-only clients reach passive-only servers, and IPv4 clients
 * IPv6 servers), FEAT is filtered, transfers flow through the proxy.
 *
 * Who may forward where is checked at every step: the client's class at connect (RFC 1918 only by
 * default), ProxyForwardTo when the destination is named, and when it is resolved the destination
 * address policy (net/destination-policy.ts), ProxyForwardTo again on each canonical address, and
 * loop protection. Every refusal and connect failure gets the same 530 text; the reason is logged.
 *
 * FTPS bridges as in the reverse role (ftp/tls/tls-bridge.ts): the listener's TLS towards the client
 * (AUTH TLS, PROT, implicit FTPS, TLSRequired; the SNI name is the destination under user@sni), the
 * pool's ProxyTLS* towards the destination (port 990 implicit, MatchClient following the client).
 */
export class ForwardFtpSession extends FtpSession<Connected> {
  constructor(socket: Socket, ctx: ForwardSessionContext) {
    const parts = socketSessionParts(socket, ctx, { logFields: { role: 'forward' } });
    super(parts, (session) => new ForwardRole(session, socket, ctx, parts.security, parts.log));
  }
}

class ForwardRole implements SessionRole {
  readonly peer = 'destination';
  readonly login = {
    USER: (command: FtpCommand) => this.user(command),
    PASS: (command: FtpCommand) => this.pass(command.arg),
    HOST: (command: FtpCommand) => this.host(command.arg),
  };
  private readonly method: ForwardMethod;
  private readonly access: DestinationAccess;
  private proxyLogin: ProxyLogin = { step: 'none' };

  constructor(
    private readonly session: FtpSession<Connected>,
    private readonly socket: Socket,
    private readonly ctx: ForwardSessionContext,
    private readonly security: FrontendSecurity,
    /** The session's log, with the client; the session's log adds the proxy user and destination once known. */
    private readonly sessionLog: Logger,
  ) {
    this.method = ctx.pool.forward?.method ?? DEFAULT_FORWARD_METHOD;
    this.access = new DestinationAccess(ctx.pool, ctx.loopGuard);
  }

  get pool(): PoolConfig {
    return this.ctx.pool;
  }

  async greet(): Promise<string | undefined> {
    const { session } = this;
    const access = this.ctx.classes.forwardAccess(this.ctx.clientAddress);
    if (!access.allowed) {
      session.log.warn('forward proxying refused for this client', { reason: access.reason });
      await session.frontend.sendAndClose(
        localReply(421, `Forward proxying is not allowed from ${this.ctx.clientAddress}.`),
      );
      return 'forward proxying not allowed';
    }
    session.log.info('session started', {
      pool: this.ctx.pool.name,
      method: this.method,
      access: access.reason,
    });
    await session.frontend.reply(220, this.greeting());
    return undefined;
  }

  /** The 220 text: ServerIdent (listeners[].greeting). */
  private greeting(): string {
    return this.ctx.listener.greeting ?? 'FTP forward proxy ready.';
  }

  /** AUTH, PBSZ, PROT, CCC and the other RFC 2228 commands: the proxy's, bridged to the destination (tls-bridge.ts). */
  securityCommand(command: FtpCommand): Promise<string | undefined> {
    return bridgeSecurityCommand(command, {
      security: this.security,
      frontend: this.session.frontend,
      backend: this.session.backend,
      backendTls: this.ctx.backendTls,
      log: this.session.log,
    });
  }

  /**
   * After a proxy login, <Limit> user rules see the proxy user (mod_proxy: limits by user and group
   * only work with proxy authentication); otherwise the destination's user name.
   */
  limitUser(): string | undefined {
    return (
      (this.proxyLogin.step === 'authenticated' ? this.proxyLogin.user : this.session.userName) || undefined
    );
  }

  /**
   * Between the proxy login and the destination's USER, mod_proxy refuses every other command with
   * `530 Access denied` (the proxy login succeeded; what is missing is a destination); once the
   * destination's USER is in, its PASS is what is missing.
   */
  notLoggedInText(): string {
    return this.proxyLogin.step === 'authenticated' && this.session.userName === ''
      ? 'Access denied'
      : 'Please login with USER and PASS';
  }

  /**
   * HOST before USER (RFC 7151) names a virtual host of the proxy itself, as ProFTPD's core answers
   * it in mod_proxy's forward role: the pool's name, one of its hostNames, or the address the client
   * connected to; anything else is `504` (ProFTPD: "Unknown hostname provided"). The destination
   * comes from USER. After USER, HOST is out of sequence. An address is answered `HOST command
   * successful`, a name with the virtual host's banner (the greeting), as ProFTPD's core does.
   */
  private async host(arg: string): Promise<void> {
    const { session } = this;
    const loginStarted = session.userName !== '' || this.proxyLogin.step !== 'none' || session.loggedIn;
    const name = await hostCommandName(session.frontend, arg, loginStarted);
    if (name === undefined) return;
    const local = (this.socket.localAddress ?? '').replace(/^::ffff:/, '');
    const known = [this.ctx.pool.name, ...this.ctx.pool.hostNames, local].map((known) => known.toLowerCase());
    if (!known.includes(name)) {
      this.session.log.info('HOST names no virtual host of this proxy', { host: arg.trim() });
      await this.session.frontend.reply(504, `${arg.trim()}: Unknown hostname provided`);
      return;
    }
    this.session.log.info('HOST accepted', { host: arg.trim() });
    // ProFTPD's core: an address names no other virtual host, so nothing changes; a name (ServerAlias)
    // selects its virtual host, whose banner is sent again.
    if (isIP(name) !== 0) await this.session.frontend.reply(220, 'HOST command successful');
    else await this.session.frontend.reply(220, this.greeting());
  }

  private async user(command: FtpCommand): Promise<void> {
    const arg = command.arg;
    this.session.data.close();
    if (this.session.loggedIn && this.session.backend) {
      // mod_proxy relays a USER after the destination's login as it is, and the destination answers
      // (ProFTPD: 230 for the same user, 501 Reauthentication not supported for another).
      await this.session.relay(command);
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
        if (this.proxyLogin.step === 'authenticated') await this.userAtHost(arg);
        else await this.proxyLoginUser(arg, arg);
        return;
      case 'proxyuser@host,user':
        if (this.proxyLogin.step === 'authenticated') await this.userAfterProxyDestination(arg);
        else await this.proxyUserAtHost(arg);
        return;
    }
  }

  /** `USER user@host[:port]`: connect there (dropping any earlier destination), then log in as `user`. */
  private async userAtHost(arg: string): Promise<void> {
    const { user, destination } = splitUserAtHost(arg);
    if (destination === undefined) {
      if (this.session.backend) {
        // Same destination, another user (after a refused PASS, say).
        await this.sendUser(this.session.backend, arg);
        return;
      }
      await this.session.loginFailed(
        // mod_proxy's reply; the hint (USER user@host[:port]) goes to the log only.
        localReply(530, 'Login incorrect.'),
        'USER without a destination (expected USER user@host[:port])',
      );
      return;
    }
    const checked = await this.namedDestination(destination);
    const backend = checked ? await this.connectTo(checked) : undefined;
    if (backend) await this.sendUser(backend, user);
  }

  /**
   * user@sni (http://www.proftpd.org/docs/contrib/mod_proxy.html#ProxyForwardMethod): the destination is the SNI name the client's TLS handshake carried
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
      // mod_proxy's text: the reason goes to the log only.
      await this.session.loginFailed(
        localReply(530, 'Login incorrect.'),
        `user@sni needs FTPS with an SNI name: ${why}`,
      );
      return;
    }
    if (this.session.backend) {
      await this.sendUser(this.session.backend, user);
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
      await this.session.loginFailed(
        localReply(530, 'Login incorrect.'),
        'proxy USER without a destination (expected USER proxyuser@host[:port])',
      );
      return;
    }
    const checked = await this.namedDestination(destination);
    if (checked) await this.proxyLoginUser(user, arg, checked);
  }

  /** The destination text of a USER, checked; undefined (and the client told why) when refused. */
  private async namedDestination(text: string): Promise<Destination | undefined> {
    const checked = this.access.check(text, this.ctx.backendTls !== undefined, this.session.log);
    if (checked.ok) return checked.destination;
    await this.session.loginFailed(checked.reply, checked.reason);
    return undefined;
  }

  /** The USER of a proxy login: answered by the proxy, checked at PASS. */
  private async proxyLoginUser(user: string, asGiven: string, destination?: Destination): Promise<void> {
    this.proxyLogin = { step: 'user-given', user, destination };
    this.session.log = this.sessionLog.child({ proxyUser: user });
    await this.session.frontend.reply(331, `Password required for ${asGiven}`);
  }

  /** proxyuser@host,user: after the proxy login, USER is the destination's, relayed unchanged. */
  private async userAfterProxyDestination(arg: string): Promise<void> {
    const fixed = this.proxyLogin.step === 'authenticated' ? this.proxyLogin.destination : undefined;
    const backend = this.session.backend ?? (fixed ? await this.connectTo(fixed) : undefined);
    if (backend) await this.sendUser(backend, arg);
  }

  private async sendUser(backend: Connected, user: string): Promise<void> {
    this.session.loggedOut();
    this.session.userName = user;
    this.session.tracked.setUser(user);
    await this.session.loginStep(await backend.control.command(`USER ${user}`), { user });
  }

  private async pass(password: string): Promise<void> {
    if (this.session.loggedIn) {
      // As USER: mod_proxy relays it once the destination's login is done (ProFTPD then says 503).
      if (this.session.backend) await this.session.relay({ verb: 'PASS', arg: password });
      else await this.session.frontend.reply(503, 'You are already logged in');
      return;
    }
    if (this.session.backend && this.session.userName !== '') {
      const { userName } = this.session;
      await this.session.loginStep(await this.session.backend.control.command(`PASS ${password}`), {
        user: userName,
      });
      return;
    }
    const login = this.proxyLogin;
    if (needsProxyAuth(this.method) && login.step !== 'authenticated') {
      // Without a proxy user (its USER was refused), mod_proxy's local authentication says 530 too.
      if (login.step === 'none') await this.session.frontend.reply(530, 'Login incorrect.');
      else await this.proxyAuthenticate(login.user, login.destination, password);
      return;
    }
    await this.session.frontend.reply(503, 'Login with USER first');
  }

  /** PASS of a proxy login: the proxy users of this pool (store, AuthUserFile, identity hook) decide. */
  private async proxyAuthenticate(
    user: string,
    destination: Destination | undefined,
    password: string,
  ): Promise<void> {
    const auth = await authenticateProxyUser(this.ctx.controlPlane, {
      pool: this.ctx.pool.name,
      user,
      password,
      clientAddress: this.ctx.clientAddress,
    });
    if (!auth.allowed) {
      this.ctx.guard?.event('ProxyAuthFailure', user);
      this.proxyLogin = { step: 'none' };
      await this.session.loginFailed(
        localReply(530, 'Login incorrect.'),
        `proxy login: ${auth.reason ?? 'refused'}`,
      );
      return;
    }
    this.proxyLogin = { step: 'authenticated', user, destination };
    this.session.log.info('proxy login succeeded', {
      ...(destination ? { destination: destination.hostPort } : {}),
    });
    await this.session.frontend.reply(230, `User ${user} logged in`);
  }

  /**
   * Connects to the destination, replacing any earlier one. A failure or refusal is answered with
   * the one generic `530` (FORWARD_REFUSED_TEXT), the reason logged, and the session stays open for
   * another try.
   */
  private async connectTo(destination: Destination): Promise<Connected | undefined> {
    this.releaseBackend();
    const pool = this.ctx.pool;
    // Port 990 is implicit FTPS; ProxyTLSEngine (MatchClient: as the client came in) decides the rest
    // (http://www.proftpd.org/docs/contrib/mod_proxy.html#ProxyTLSEngine); the TLS session cache key
    // is mod_proxy's "ftp://host:port".
    const url: BackendUrl = {
      protocol: 'ftp',
      host: destination.host,
      port: destination.port,
      implicitTls: destination.port === IMPLICIT_FTPS_PORT,
    };
    const key = `ftp://${destination.hostPort}`;
    const tls = bridgedConnectTls(this.ctx.backendTls, url, key, this.security, this.session.log);
    let connected: ForwardConnected;
    try {
      connected = await connectDestination(destination, {
        timeoutMs: pool.connectTimeout,
        retryCount: pool.retryCount,
        sourceAddress: pool.sourceAddress,
        loopGuard: this.ctx.loopGuard,
        log: this.session.log,
        policy: this.access.policy,
        addressRule: (address, port) => this.access.addressRule(address, port),
        ...(this.ctx.resolveDestination ? { resolve: this.ctx.resolveDestination } : {}),
        ...(tls ? { tls } : {}),
      });
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      await this.session.loginFailed(
        localReply(530, FORWARD_REFUSED_TEXT),
        `cannot connect to ${destination.hostPort}: ${reason}`,
      );
      return undefined;
    }
    if (connected.control.tls) {
      this.session.log.info('destination control connection secured', {
        mode: tls?.mode,
        protocol: connected.control.tls.protocol,
        prot: connected.control.tls.dataProtected ? 'P' : 'C',
      });
    }
    this.session.tracked.setBackend(destination.hostPort, {
      connectMs: connected.connectMs,
      address: connected.address,
      port: destination.port,
    });
    this.session.log = this.sessionLog.child({
      ...(this.proxyLogin.step !== 'none' ? { proxyUser: this.proxyLogin.user } : {}),
      destination: destination.hostPort,
    });
    const backend = { ...connected, url, key, dataSetup: this.session.dataSetupFor(connected.control) };
    this.session.useBackend(backend);
    await this.sendDestinationHost(backend);
    return backend;
  }

  /**
   * After connecting, `HOST <destination>` (RFC 7151, as mod_proxy's forward role sends it) when the destination lists HOST, so a
   * server with name-based virtual hosts serves the one the client named. Not for IP addresses.
   */
  private async sendDestinationHost(backend: Connected): Promise<void> {
    if (isIP(backend.destination.host) !== 0) return;
    await backend.control.featuresReady;
    if (!backend.control.features.has('HOST')) return;
    const reply = await backend.control.command(`HOST ${backend.destination.host}`);
    this.session.log.info('HOST sent to the destination', { reply: describeReply(reply) });
  }

  /** Drops the destination (a USER naming a new one). */
  private releaseBackend(): void {
    this.session.loggedOut();
    this.session.userName = '';
    this.session.releaseBackend();
  }
}
