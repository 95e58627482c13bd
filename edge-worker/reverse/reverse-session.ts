import type { Socket } from 'node:net';
import type { BackendUrl } from '../../functions/core/backend-url.js';
import type { ControlPlaneClient } from '../control-plane/control-plane-client.js';
import type { ConnectOptions } from '../ftp/control/backend-connect.js';
import type { FtpCommand } from '../ftp/control/command-parser.js';
import { type FtpReply, localReply } from '../ftp/control/reply.js';
import { utf8AsWire } from '../ftp/control/wire.js';
import { FtpSession } from '../ftp/session/ftp-session.js';
import { hostCommandName } from '../ftp/session/host-command.js';
import { authenticateProxyUser } from '../ftp/session/proxy-login.js';
import type { SessionBackend, SessionRole } from '../ftp/session/session-role.js';
import { type SocketSessionContext, socketSessionParts } from '../ftp/session/socket-session.js';
import type { FrontendSecurity } from '../ftp/tls/frontend-security.js';
import { bridgedConnectTls, bridgeSecurityCommand } from '../ftp/tls/tls-bridge.js';
import { outboundProxyHeader } from '../proxy-protocol/outbound.js';
import {
  BackendRefusedError,
  confirmSticky,
  NoBackendAvailableError,
  type SelectedBackend,
  selectAndConnect,
} from './backend-selection.js';
import { type ConnectionReporter, needsReports } from './connection-reporter.js';
import type { Pool } from './pool.js';
import type { PoolRules } from './pool-rules.js';
import { SessionTransferRates } from './session-transfer-rates.js';

export interface ReverseSessionContext extends SocketSessionContext {
  pool: Pool;
  /** Pools HOST may select on this listener (the listener's own pool among them). */
  hostPools: Pool[];
  controlPlane: ControlPlaneClient;
  reporter: ConnectionReporter;
  /** Pools the client's TLS SNI name may select (the listener's tls.sniPools). */
  sniPools?: Pool[];
  /** The listener's poolRules: class and network at connect, user at USER, groups after proxy auth. */
  poolRules?: PoolRules;
  /** The client's `<Class>` by address (TransferRate class conditions). */
  classify?: (address: string) => string | undefined;
}

/** What the role learns at login that the session's `<Limit>` and TransferRate rules need. */
interface LoginFacts {
  groups?: readonly string[];
  rates: SessionTransferRates;
}

/** A backend chosen for the session, with its data-channel setup. */
interface ReverseBackend extends SelectedBackend {
  dataSetup: SessionBackend['dataSetup'];
  /** Its end was reported to the control plane (once, whichever way the session lets it go). */
  endReported: boolean;
}

/**
 * One client's reverse-proxy FTP session (ProxyRole reverse,
 * http://www.proftpd.org/docs/contrib/mod_proxy.html#ProxyRole). The backend is chosen when the client
 * connects (ProxyReverseConnectPolicy), its banner is relayed, and from then on commands are relayed
 * in order, except for the ones the proxy must own: data-channel setup (the client only ever sees the
 * proxy's addresses), transfers (bytes flow through the proxy), FEAT (filtered to what the proxy
 * supports), and login credentials from the backend URL.
 */
export class ReverseFtpSession extends FtpSession<ReverseBackend> {
  constructor(socket: Socket, ctx: ReverseSessionContext) {
    // <Limit> group rules and TransferRate conditions see what the login finds (ReverseRole sets it).
    const rates = new SessionTransferRates(ctx.listener.transferRate, ctx.classify ?? (() => undefined), {
      clientAddress: ctx.clientAddress,
    });
    const facts: LoginFacts = { rates };
    const limits = ctx.limits.forSession(() => facts.groups);
    const listener = rates.conditional ? { ...ctx.listener, transferRate: rates.rules } : ctx.listener;
    const parts = socketSessionParts(socket, { ...ctx, limits, listener }, { epsv: ctx.listener.epsv });
    super(parts, (session) => new ReverseRole(session, socket, ctx, parts.security, facts));
  }
}

class ReverseRole implements SessionRole {
  readonly peer = 'backend';
  readonly login = {
    USER: (command: FtpCommand) => this.user(command.arg),
    PASS: (command: FtpCommand) => this.pass(command.arg),
    HOST: (command: FtpCommand) => this.host(command),
  };
  /** The listener's pool, until HOST (or the TLS SNI name) names another one. */
  private current: Pool;
  /** The pool before the first USER: where a USER no user rule matches leaves the session. */
  private poolBeforeUser: Pool | undefined;
  /** The client's HOST argument, once accepted. */
  private hostName: string | undefined;
  /** PerUser: the user name the current backend was chosen for. */
  private chosenFor: string | undefined;
  /** A sticky key the backend was chosen by before the login: its mapping is written once the login succeeds. */
  private unconfirmedSticky: { pool: Pool; stickyKey: string; backendKey: string } | undefined;

  constructor(
    private readonly session: FtpSession<ReverseBackend>,
    private readonly socket: Socket,
    private readonly ctx: ReverseSessionContext,
    private readonly security: FrontendSecurity,
    private readonly facts: LoginFacts,
  ) {
    // Implicit FTPS: the SNI name is known before anything else, so it may choose the pool at once.
    this.current = this.sniPool() ?? ctx.poolRules?.select({ clientAddress: ctx.clientAddress }) ?? ctx.pool;
  }

  get pool() {
    return this.current.config;
  }

  /**
   * ProxyReverseConnectPolicy: balancing policies and PerHost choose the backend when the client
   * connects (and its banner is relayed); PerUser chooses at USER, so the client first gets the
   * proxy's own greeting (http://www.proftpd.org/docs/contrib/mod_proxy.html#ProxyReverseConnectPolicy).
   */
  private get connectsAtStart(): boolean {
    return this.pool.connectPolicy !== 'PerUser' && !this.pool.proxyAuth;
  }

  async greet(): Promise<string | undefined> {
    const { session } = this;
    session.log.info('session started', { pool: this.pool.name });
    if (!this.connectsAtStart) {
      await session.frontend.reply(220, this.ownGreeting());
      return undefined;
    }
    const stickyKey = this.pool.connectPolicy === 'PerHost' ? this.ctx.clientAddress : undefined;
    const backend = await this.connect(stickyKey).catch(async (err: unknown) => {
      await session.frontend.sendAndClose(localReply(421, noBackendText(err)));
      return undefined;
    });
    if (!backend) return 'no backend';
    await session.frontend.send(backend.banner);
    return undefined;
  }

  /** The proxy's own 220 text, when it chooses the backend later: ServerIdent (listeners[].greeting). */
  private ownGreeting(): string {
    return this.ctx.listener.greeting ?? 'FTP proxy ready.';
  }

  /** Chooses and connects the backend; throws when none can be reached (the caller tells the client). */
  private async connect(stickyKey: string | undefined): Promise<ReverseBackend> {
    const { session } = this;
    const version = this.pool.sendProxyProtocol;
    const ssl = this.security.proxyProtocolSsl();
    const authority = this.hostName ?? this.security.serverName;
    const source = {
      client: { address: this.ctx.clientAddress, port: this.ctx.clientPort },
      frontend: { address: this.socket.localAddress ?? '', port: this.socket.localPort ?? 0 },
      protocol: this.security.isProtected ? ('ftps' as const) : ('ftp' as const),
      sessionId: session.id,
      ...(ssl ? { ssl } : {}),
      ...(authority ? { authority } : {}),
    };
    let selected: SelectedBackend;
    try {
      selected = await selectAndConnect(this.current, {
        controlPlane: this.ctx.controlPlane,
        reporter: this.ctx.reporter,
        log: session.log,
        ...(stickyKey !== undefined ? { stickyKey, provisional: !session.loggedIn } : {}),
        ...(this.current.tls ? { tls: (url: BackendUrl, key: string) => this.backendTlsFor(url, key) } : {}),
        ...(version === 'off'
          ? {}
          : { prelude: (backendAddress: string) => outboundProxyHeader(version, source, backendAddress) }),
      });
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      // A refusal on purpose (perUserFallback refuse, an unusable user name) is not an outage.
      if (err instanceof BackendRefusedError)
        session.log.warn('login refused: no backend for this user', { reason });
      else session.log.error('no backend available', { reason });
      throw err;
    }
    this.unconfirmedSticky =
      stickyKey !== undefined && !session.loggedIn
        ? { pool: this.current, stickyKey, backendKey: selected.key }
        : undefined;
    session.tracked.setBackend(selected.key, {
      connectMs: selected.connectMs,
      address: selected.address,
      port: selected.url.port,
    });
    session.log = session.log.child({ backend: selected.key });
    const backend = { ...selected, endReported: false, dataSetup: session.dataSetupFor(selected.control) };
    session.useBackend(backend);
    return backend;
  }

  /**
   * HOST (RFC 7151), before USER: names the virtual host. Another pool of this listener means the
   * session starts over there (mod_proxy re-initialises the session the same way), and the client is
   * greeted anew: the new backend's banner. A backend whose FEAT lists HOST then gets
   * `HOST <its own host name from the backend URL>`, as mod_proxy sends: the name the client used is
   * the proxy's, which the backend need not know.
   */
  private async host(command: FtpCommand): Promise<void> {
    const { session } = this;
    const name = await hostCommandName(
      session.frontend,
      command.arg,
      session.loggedIn || session.userName !== '',
    );
    if (name === undefined) return;
    const pool = this.ctx.hostPools.find(
      (candidate) =>
        candidate.config.name.toLowerCase() === name ||
        candidate.config.hostNames.some((alias) => alias.toLowerCase() === name),
    );
    if (!pool) {
      session.log.info('HOST names no pool of this listener', { host: command.arg });
      await session.frontend.reply(504, `${command.arg}: Unknown hostname provided`);
      return;
    }
    this.hostName = command.arg.trim(); // before connecting: the PROXY header's Authority TLV
    if (pool !== this.current) {
      session.log.info('HOST switches pool', { from: this.pool.name, to: pool.config.name });
      if (!(await this.switchPool(pool))) return;
      // ProFTPD re-initialises the session for the named virtual host and greets again with its banner;
      // under mod_proxy that is the new backend's (or the proxy's own when it chooses at USER).
      const backend = session.backend;
      if (!backend) {
        await session.frontend.reply(220, this.ownGreeting());
        return;
      }
      await sendBackendHost(backend); // the new backend's reply to it is the proxy's to read
      await session.frontend.send(backend.banner);
      return;
    }
    const reply = session.backend ? await sendBackendHost(session.backend) : undefined;
    await session.frontend.send(reply ?? localReply(220, 'HOST command successful'));
  }

  /**
   * Moves the session to another pool before login (HOST, or the TLS SNI name): the backend of the
   * old pool is let go and, under a policy that connects at once, one of the new pool's is connected.
   * False when none could be reached: the client was told and the session is over.
   */
  private async switchPool(pool: Pool): Promise<boolean> {
    this.releaseBackend();
    this.current = pool;
    if (!this.connectsAtStart) return true;
    const stickyKey = pool.config.connectPolicy === 'PerHost' ? this.ctx.clientAddress : undefined;
    const connected = await this.connect(stickyKey).catch(() => undefined);
    if (connected) return true;
    await this.session.frontend.sendAndClose(
      localReply(421, 'Service not available, no backend server reachable.'),
    );
    return false;
  }

  /** The pool the client's SNI name selects (listener tls.sniPools), if another one. */
  private sniPool(): Pool | undefined {
    const name = this.ctx.frontendTls?.poolFor(this.security.serverName);
    return name === undefined ? undefined : this.ctx.sniPools?.find((pool) => pool.config.name === name);
  }

  private backendTlsFor(url: BackendUrl, key: string): ConnectOptions['tls'] {
    return bridgedConnectTls(this.current.tls, url, key, this.security, this.session.log);
  }

  /** AUTH, PBSZ, PROT, CCC and the other RFC 2228 commands: the proxy's, never the backend's (tls-bridge.ts). */
  securityCommand(command: FtpCommand): Promise<string | undefined> {
    const { session } = this;
    return bridgeSecurityCommand(command, {
      security: this.security,
      frontend: session.frontend,
      backend: session.backend,
      backendTls: this.current.tls,
      log: session.log,
      onTlsStarted: async () => {
        const pool = session.loggedIn ? undefined : this.sniPool();
        if (!pool || pool === this.current) return false;
        session.log.info('TLS SNI switches pool', { sni: this.security.serverName, to: pool.config.name });
        await this.switchPool(pool);
        return true;
      },
    });
  }

  /** Drops the backend (HOST switching pools): its end is reported like a session end. */
  private releaseBackend(): void {
    this.reportEnd();
    this.session.releaseBackend();
  }

  private async user(name: string): Promise<void> {
    const { session } = this;
    if (this.pool.proxyAuth && session.loggedIn) {
      // USER is the proxy's own (mod_auth), which after a login accepts the same name again (ProFTPD
      // Bug#4217) and refuses any other.
      if (name === session.userName) await session.frontend.reply(230, `User ${name} logged in`);
      else await session.frontend.reply(501, 'Reauthentication not supported');
      return;
    }
    session.log = session.log.child({ user: name });
    session.userName = name;
    session.tracked.setUser(name);
    this.facts.groups = undefined;
    this.facts.rates.update({ clientAddress: this.ctx.clientAddress, user: name });
    // Each USER starts from the pool the session had before its first USER (another user's rule undone).
    this.poolBeforeUser ??= this.current;
    const ruled =
      this.ctx.poolRules?.select({ clientAddress: this.ctx.clientAddress, user: name }) ??
      this.poolBeforeUser;
    if (ruled !== this.current && !session.loggedIn && !(await this.switchPool(ruled))) return;
    if (this.pool.proxyAuth) {
      // UseReverseProxyAuth: USER is the proxy's; the backend is chosen and logged in to after PASS.
      if (session.backend) this.releaseBackend();
      session.loggedOut();
      session.data.close();
      await session.frontend.reply(331, `Password required for ${name}`);
      return;
    }
    let backend = session.backend;
    if (backend && this.pool.connectPolicy === 'PerUser' && this.chosenFor !== name) {
      // PerUser: another name after a failed login chooses anew, and gets 530 when it has no backend
      // (mod_proxy issue 148); it must never reach the backend the previous name chose.
      this.releaseBackend();
      backend = undefined;
    }
    if (!backend) {
      // PerUser: the user name picks the backend. A failure looks like any refused login (mod_proxy).
      backend = await this.connect(name).catch(() => undefined);
      if (!backend) {
        await session.frontend.reply(530, 'Login incorrect.');
        return;
      }
      this.chosenFor = name;
      // The client's HOST came before there was a backend to tell.
      if (this.hostName) await sendBackendHost(backend);
    }
    session.loggedOut();
    session.data.close();
    const reply = await sendBackendUser(backend, name);
    if (reply.code === 230) {
      if (!(await session.admitLogin())) return;
      session.loginSucceeded();
      this.confirmSticky();
    }
    await session.frontend.send(reply);
  }

  /**
   * PASS under UseReverseProxyAuth (http://www.proftpd.org/docs/contrib/mod_proxy.html#ProxyReverseConnectPolicy
   * and UseReverseProxyAuth): the proxy checks the password (store or identity hook); then the policy
   * chooses the backend (PerUser by user, PerGroup by primary group), USER is replayed to it with its
   * reply hidden, and PASS is relayed. Every refusal looks the same to the client: 530 Login incorrect.
   */
  private async proxyAuthenticate(password: string): Promise<void> {
    const { session } = this;
    if (session.userName === '') {
      await session.frontend.reply(503, 'Login with USER first');
      return;
    }
    this.facts.groups = undefined;
    const auth = await authenticateProxyUser(this.ctx.controlPlane, {
      pool: this.pool.name,
      user: session.userName,
      password,
      clientAddress: this.ctx.clientAddress,
    });
    if (!auth.allowed) {
      this.ctx.guard?.event('ProxyAuthFailure', session.userName);
      await session.loginFailed(localReply(530, 'Login incorrect.'), auth.reason ?? 'refused');
      return;
    }
    this.facts.groups = auth.groups ?? (auth.primaryGroup ? [auth.primaryGroup] : []);
    const known = {
      clientAddress: this.ctx.clientAddress,
      user: session.userName,
      groups: this.facts.groups,
    };
    this.facts.rates.update(known);
    const byGroup = this.ctx.poolRules?.select(known);
    if (byGroup && byGroup !== this.current) this.current = byGroup; // no backend yet under proxy auth
    const policy = this.pool.connectPolicy;
    const stickyKey =
      policy === 'PerUser'
        ? session.userName
        : policy === 'PerGroup'
          ? auth.primaryGroup
          : policy === 'PerHost'
            ? this.ctx.clientAddress
            : undefined;
    if (policy === 'PerGroup' && stickyKey === undefined) {
      await session.loginFailed(
        localReply(530, 'Login incorrect.'),
        'PerGroup, but the user has no primary group',
      );
      return;
    }
    const backend = await this.connect(stickyKey).catch(() => undefined);
    if (!backend) {
      await session.frontend.reply(530, 'Login incorrect.');
      return;
    }
    if (this.hostName) await sendBackendHost(backend);
    const userReply = await sendBackendUser(backend, session.userName);
    if (userReply.code === 230) {
      if (!(await session.admitLogin())) return;
      session.loginSucceeded();
      this.confirmSticky();
      await session.frontend.send(userReply);
      return;
    }
    await this.backendPass(backend, password);
  }

  private async pass(password: string): Promise<void> {
    const { backend } = this.session;
    if (backend) await this.backendPass(backend, password);
    else if (this.pool.proxyAuth) await this.proxyAuthenticate(password);
    else await this.session.frontend.reply(503, 'Login with USER first');
  }

  private async backendPass(backend: ReverseBackend, password: string): Promise<void> {
    const { session } = this;
    // A "user:@host" URL keeps the client's password; "user:secret@host" replaces it.
    const urlPassword = backend.url.password ? utf8AsWire(backend.url.password) : undefined;
    const reply = await backend.control.command(`PASS ${urlPassword ?? password}`);
    // As for USER: the client reads its own name, never the account the URL logs in as ("230 User x logged in").
    const urlUser = backend.url.user === undefined ? undefined : utf8AsWire(backend.url.user);
    const client = session.userName;
    await session.loginStep(
      urlUser !== undefined && client !== '' && urlUser !== client
        ? rewriteFirstLine(reply, urlUser, client)
        : reply,
    );
    if (session.loggedIn) this.confirmSticky();
  }

  /** The login succeeded: the sticky mapping its backend was chosen by (provisionally) is written now. */
  private confirmSticky(): void {
    const pending = this.unconfirmedSticky;
    this.unconfirmedSticky = undefined;
    if (!pending) return;
    void confirmSticky(
      pending.pool,
      {
        controlPlane: this.ctx.controlPlane,
        reporter: this.ctx.reporter,
        log: this.session.log,
        stickyKey: pending.stickyKey,
      },
      pending.backendKey,
    );
  }

  private reportEnd(): void {
    const { backend } = this.session;
    if (backend && !backend.endReported) {
      backend.endReported = true;
      if (needsReports(this.pool.connectPolicy)) this.ctx.reporter.ended(this.pool.name, backend.key);
    }
  }

  disposing(): void {
    this.reportEnd();
  }
}

/** USER to the backend, with the URL's user name if it has one (rewritten back in the reply). */
async function sendBackendUser(backend: SelectedBackend, name: string): Promise<FtpReply> {
  const urlUser = backend.url.user === undefined ? undefined : utf8AsWire(backend.url.user);
  const reply = await backend.control.command(`USER ${urlUser ?? name}`);
  return urlUser !== undefined && urlUser !== name ? rewriteFirstLine(reply, urlUser, name) : reply;
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
  if (!backend.control.features.has('HOST')) {
    backend.control.log?.trace('proxy.ftp.sess', 9, 'HOST not supported by backend server, ignoring');
    return undefined;
  }
  const host = backend.url.host.includes(':') ? `[${backend.url.host}]` : backend.url.host;
  return backend.control.command(`HOST ${host}`);
}
