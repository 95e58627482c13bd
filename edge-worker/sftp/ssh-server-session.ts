import { randomUUID } from 'node:crypto';
import { Duplex } from 'node:stream';
import type {
  AnyAuthMethod,
  AuthContext,
  AuthenticationType,
  ClientChannel,
  Connection,
  HostbasedAuthContext,
  KeyboardAuthContext,
  PasswordAuthContext,
  PseudoTtyInfo,
  PublicKeyAuthContext,
  ServerChannel,
  Session,
} from 'ssh2';
import ssh2 from 'ssh2';
import { type SessionHandle, untrackedSession } from '../admin/session-registry.js';
import type { ListenerConfig } from '../config/schema.js';
import type { SftpListenerConfig } from '../config/sftp-schema.js';
import type { ControlPlaneClient } from '../control-plane/control-plane-client.js';
import { LoginAttempts } from '../ftp/session/login-attempts.js';
import type { SessionGuard } from '../ftp/session/session-guard.js';
import { BY_APPLICATION, sshDisconnect } from '../limits/ssh-disconnect.js';
import type { Logger } from '../log/logger.js';
import type { TransferLog } from '../log/transfer-log.js';
import { outboundProxyHeader } from '../proxy-protocol/outbound.js';
import type { ProxyAddress } from '../proxy-protocol/types.js';
import { confirmSticky, type Selected, selectBackendWith } from '../reverse/backend-selection.js';
import { type ConnectionReporter, needsReports } from '../reverse/connection-reporter.js';
import type { Pool } from '../reverse/pool.js';
import { AuthChains, type ClientAuthMethod } from './auth-chains.js';
import { isAuthorizedKey } from './authorized-keys.js';
import type { BackendConnector } from './backend-connector.js';
import type { BackendSsh } from './backend-ssh-client.js';
import { relayChannel } from './channel-relay.js';
import type { LoadedKey } from './host-keys.js';
import { parseScpCommand, type ScpCommand } from './scp-command.js';
import { type SftpAuditEvent, SftpPacketAudit } from './sftp-packet-audit.js';
import { SshTransferTimeouts } from './transfer-timeouts.js';
import { sendUserauthBanner } from './userauth-banner.js';
import { coalesceWritesPerRead } from './write-coalescing.js';

export interface SshSessionContext {
  listener: ListenerConfig;
  sftp: SftpListenerConfig;
  pool: Pool;
  connector: BackendConnector;
  controlPlane: ControlPlaneClient;
  reporter: ConnectionReporter;
  transferLog: TransferLog | undefined;
  log: Logger;
  clientAddress: string;
  clientPort: number;
  /** Where the client reached ftpx (the PROXY header's destination). */
  frontend?: ProxyAddress;
  /** The session's entry in the worker's SessionRegistry (admin endpoint, metrics); its id is the session's. */
  tracked?: SessionHandle;
  /** Connection limits and bans (edge-worker/limits/): the login limits, and ban events. */
  guard?: SessionGuard;
  /** Ends the connection with an SSH disconnect message (a login limit refused it). */
  refuse?(text: string): void;
}

type Backend = Selected<BackendSsh>;

/**
 * One SSH client of an sftp listener: authenticates it (relaying password and keyboard-interactive
 * to the backend, verifying public keys itself), then relays its session channels (sftp subsystem,
 * scp, and what `allow` opens) to one backend SSH connection. Ends when either side ends.
 */
export class SshServerSession {
  readonly id: string;
  private readonly tracked: SessionHandle;
  private readonly log: Logger;
  private backend: Backend | undefined;
  private backendPromise: Promise<Backend> | undefined;
  /** The sticky key the backend was chosen by, before authentication: mapped once the login succeeds. */
  private stickyKey: string | undefined;
  private userName = '';
  private readonly attempts: LoginAttempts;
  private authenticated = false;
  private loginTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  /** TimeoutNoTransfer / TimeoutStalled, from login on. */
  private transfers: SshTransferTimeouts | undefined;
  private ended = false;
  /** A backend was refused for a changed host key (ProxySFTPVerifyServer): the client is told why. */
  private hostKeyRefused = false;
  private resolveDone: () => void = () => {};
  private readonly done = new Promise<void>((resolve) => {
    this.resolveDone = resolve;
  });
  /** SFTPAuthMethods, followed as the client passes methods. */
  private readonly chains: AuthChains;
  /** The backend accepted a login (USERAUTH_SUCCESS). */
  private backendDone = false;
  /** What the backend still asks for after a partial success. */
  private backendMethodsLeft: AuthenticationType[] = [];
  /** Attempts are answered one at a time, in order. */
  private authQueue: Promise<void> = Promise.resolve();

  constructor(
    private readonly conn: Connection,
    private readonly ctx: SshSessionContext,
  ) {
    this.tracked = ctx.tracked ?? untrackedSession;
    this.chains = new AuthChains(ctx.sftp.authMethods, (method) => this.usable(method));
    this.attempts = new LoginAttempts(ctx.listener.maxLoginAttempts, this.tracked);
    this.id = ctx.tracked?.id || randomUUID();
    this.log = ctx.log.child({
      session: this.id,
      client: `${ctx.clientAddress}:${ctx.clientPort}`,
      protocol: 'sftp',
    });
  }

  run(): Promise<void> {
    const { conn, ctx } = this;
    this.log.info('SSH client connected');
    const loginTimeout = ctx.listener.timeouts.login;
    if (loginTimeout > 0) {
      this.loginTimer = setTimeout(() => {
        ctx.guard?.event('TimeoutLogin');
        // mod_sftp's words; OpenSSH prints them ("Received disconnect ...: Login timeout exceeded").
        if (!this.ended) sshDisconnect(conn, BY_APPLICATION, 'Login timeout exceeded');
        this.end('login timed out (TimeoutLogin)');
      }, loginTimeout);
    }
    let handshakes = 0;
    conn.on('handshake', () => {
      handshakes += 1;
      if (handshakes === 1 && !this.selectsAtAuthentication()) {
        // Balancing policies and PerHost choose when the frontend key exchange is done
        // (http://www.proftpd.org/docs/contrib/mod_proxy.html#ProxyReverseConnectPolicy).
        this.ensureBackend(ctx.pool.config.connectPolicy === 'PerHost' ? ctx.clientAddress : undefined).catch(
          () => {},
        );
      } else if (handshakes > 1) {
        this.log.debug('client rekeyed');
      }
    });
    conn.on('authentication', (auth) => {
      this.authQueue = this.authQueue.then(() =>
        this.authenticate(auth).catch((err: unknown) => {
          this.log.error('authentication failed unexpectedly', { error: err });
          this.safeReject(auth);
        }),
      );
    });
    conn.on('ready', () => {
      this.authenticated = true;
      clearTimeout(this.loginTimer);
      this.watchIdle();
      this.coalesceRelayWrites();
      const { noTransfer, stalled } = ctx.listener.timeouts;
      if (noTransfer > 0 || stalled > 0) {
        this.transfers = new SshTransferTimeouts({ noTransfer, stalled }, (reason) => this.end(reason));
        this.transfers.start();
      }
      this.tracked.setUser(this.userName);
      this.attempts.succeeded();
      this.log.info('login succeeded', { user: this.userName, backend: this.backend?.key });
      if (this.backend && this.stickyKey !== undefined) {
        const { controlPlane, reporter, pool } = ctx;
        void confirmSticky(
          pool,
          { controlPlane, reporter, log: this.log, stickyKey: this.stickyKey },
          this.backend.key,
        );
      }
      void ctx.guard?.loggedIn(this.userName).then((refusal) => {
        if (!refusal || this.ended) return;
        this.log.warn('login refused by a connection limit', { reason: refusal.text });
        this.backend?.end();
        this.ended = true;
        if (ctx.refuse) ctx.refuse(refusal.text);
        else conn.end();
      });
    });
    conn.on('session', (accept, reject) => {
      if (!this.authenticated || !this.backend) {
        reject();
        return;
      }
      this.handleSession(accept(), this.backend);
    });
    conn.on('tcpip', (accept, reject, info) => {
      const backend = this.backend;
      if (!ctx.sftp.allow.portForwarding || !backend) {
        this.log.warn('refused port forwarding', { to: `${info.destIP}:${info.destPort}` });
        reject();
        return;
      }
      backend.client.forwardOut(info.srcIP, info.srcPort, info.destIP, info.destPort, (err, channel) => {
        if (err) {
          this.log.warn('backend refused port forwarding', {
            to: `${info.destIP}:${info.destPort}`,
            reason: err.message,
          });
          reject();
          return;
        }
        relayChannel(accept() as unknown as ServerChannel, channel);
      });
    });
    conn.on('request', (_accept, reject, name) => {
      this.log.warn('refused global request', { request: name });
      reject?.();
    });
    conn.on('rekey', () => this.log.debug('rekeyed'));
    conn.on('error', (err) => this.log.debug('client connection error', { error: err }));
    conn.on('close', () => this.closed());
    return this.done;
  }

  /**
   * TimeoutIdle: the session ends when the client sends nothing (no request, no data, no window
   * adjustment, no keepalive) for that long. Counted on the client's socket, beside ssh2's reader.
   */
  private watchIdle(): void {
    const idle = this.ctx.listener.timeouts.idle;
    const socket = (this.conn as unknown as { _sock?: NodeJS.EventEmitter })._sock;
    if (idle <= 0 || !socket) return;
    let last = Date.now();
    socket.on('data', () => {
      last = Date.now();
    });
    const check = () => {
      const quiet = Date.now() - last;
      if (quiet >= idle) this.end('idle timeout (TimeoutIdle)');
      else this.idleTimer = setTimeout(check, idle - quiet);
    };
    this.idleTimer = setTimeout(check, idle);
  }

  /** Both connections' writes caused by one read of the other go out together (see write-coalescing.ts). */
  private coalesceRelayWrites(): void {
    const front = (this.conn as unknown as { _sock?: unknown })._sock;
    const back = (this.backend?.client as unknown as { _sock?: unknown } | undefined)?._sock;
    if (!(front instanceof Duplex) || !(back instanceof Duplex)) return;
    coalesceWritesPerRead(front, back);
    coalesceWritesPerRead(back, front);
  }

  private selectsAtAuthentication(): boolean {
    const policy = this.ctx.pool.config.connectPolicy;
    return policy === 'PerUser' || policy === 'PerGroup' || this.ctx.pool.config.proxyAuth;
  }

  /** Whether the listener can check `method` at all (a key source for publickey and hostbased). */
  private usable(method: ClientAuthMethod): boolean {
    const { sftp, pool } = this.ctx;
    if (method === 'publickey') return sftp.authorizedUserKeys !== undefined || pool.config.proxyAuth;
    if (method === 'hostbased') return sftp.authorizedHostKeys !== undefined;
    if (method === 'keyboard-interactive') return !pool.config.proxyAuth;
    return true;
  }

  /**
   * What the client may try now: the next methods of its SFTPAuthMethods chains, or, once a chain is
   * complete and the backend still wants more (its own AuthenticationMethods chain), what the
   * backend asks for.
   */
  private allowedMethods(): ClientAuthMethod[] {
    if (!this.chains.complete) return this.chains.next();
    // Only methods the listener names at all (SFTPAuthMethods is the operator's list).
    const configured = new Set<string>(this.ctx.sftp.authMethods.flatMap((entry) => entry.split('+')));
    return this.backendMethodsLeft.filter(
      (method): method is ClientAuthMethod =>
        configured.has(method) && this.usable(method as ClientAuthMethod),
    );
  }

  /** Chooses and connects the backend once; later callers share the same attempt. */
  private ensureBackend(stickyKey: string | undefined): Promise<Backend> {
    this.backendPromise ??= selectBackendWith(
      this.ctx.pool,
      {
        controlPlane: this.ctx.controlPlane,
        reporter: this.ctx.reporter,
        log: this.log,
        // Always before the client authenticated: the mapping is written at 'ready' (confirmSticky).
        ...(stickyKey !== undefined ? { stickyKey, provisional: true } : {}),
      },
      'sftp',
      // A registered or discovered backend: connect to its checked address, not its name again.
      (url, key, addresses) =>
        this.ctx.connector.connect(
          addresses?.[0] !== undefined ? { ...url, host: addresses[0] } : url,
          key,
          this.log,
          (message) => this.relayBanner(message),
          () => {
            this.hostKeyRefused = true;
          },
          this.proxyHeader(),
        ),
    ).then((backend) => {
      this.backend = backend;
      this.stickyKey = stickyKey;
      this.tracked.setBackend(backend.key, { connectMs: backend.connectMs, port: backend.url.port });
      backend.client.on('close', () => this.end('backend closed the connection'));
      if (this.ended) backend.end();
      return backend;
    });
    this.backendPromise.catch((err: unknown) => this.log.warn('no backend', { error: err }));
    return this.backendPromise;
  }

  /**
   * ProxyOptions UseProxyProtocolV1/V2/V2TLVs: the header naming the real client, sent to the SSH
   * backend before SSH's identification (ProFTPD's mod_proxy_protocol, haproxy `accept-proxy`).
   */
  private proxyHeader(): ((backendAddress: string) => Buffer | undefined) | undefined {
    const version = this.ctx.pool.config.sendProxyProtocol;
    if (version === 'off') return undefined;
    const source = {
      client: { address: this.ctx.clientAddress, port: this.ctx.clientPort },
      frontend: this.ctx.frontend ?? { address: '', port: 0 },
      protocol: 'sftp' as const,
      sessionId: this.id,
    };
    return (backendAddress) => outboundProxyHeader(version, source, backendAddress);
  }

  /** The backend's USERAUTH_BANNER, passed on while the client is still authenticating. */
  private relayBanner(message: string): void {
    if (this.authenticated || this.ended) return;
    if (!sendUserauthBanner(this.conn, message))
      this.log.warn('backend banner not relayed (ssh2 internals changed)');
  }

  private async authenticate(auth: AuthContext): Promise<void> {
    if (this.ended) return;
    const methods = this.allowedMethods();
    const partial = this.chains.passed.length > 0;
    if (auth.method === 'none' || !(methods as string[]).includes(auth.method)) {
      auth.reject(methods as AuthenticationType[], partial);
      return;
    }
    if (this.userName !== '' && auth.username !== this.userName) {
      // One backend connection per session: the user name cannot change between attempts.
      this.log.warn('client changed its user name during authentication; refused');
      this.loginFailed(auth, 'user name changed');
      return;
    }
    this.userName = auth.username;
    const method = auth.method as ClientAuthMethod;
    const step = await this.step(auth);
    if (step === undefined) return;
    if (!step.passed) {
      if ('closed' in step) {
        this.log.warn('login failed: backend closed', { reason: step.closed });
        this.safeReject(auth);
        this.end('backend closed during authentication');
      } else {
        this.loginFailed(auth, step.reason, step.backendMethods);
      }
      return;
    }
    if (!this.chains.complete) this.chains.pass(method);
    if (this.chains.complete && this.backendDone) {
      auth.accept();
      return;
    }
    const next = this.allowedMethods();
    if (next.length === 0) {
      // The chain is complete but the backend wants a method this listener cannot relay.
      this.loginFailed(
        auth,
        `the backend asks for ${this.backendMethodsLeft.join(', ')}, which ftpx cannot relay`,
      );
      return;
    }
    this.log.info('authentication step passed', { user: this.userName, method, next });
    auth.reject(next as AuthenticationType[], true);
  }

  /**
   * One authentication request: the proxy's own check where it has one, and the backend's login
   * (relayed, or made with the proxy's key for a verified client key) where the backend still
   * wants one. undefined when the request was answered already (a publickey query).
   */
  private async step(auth: AuthContext): Promise<StepResult | undefined> {
    if (auth.method === 'publickey' || auth.method === 'hostbased') return this.keyStep(auth);
    const password = auth.method === 'password' ? (auth as PasswordAuthContext).password : undefined;
    let stickyKey: string | undefined;
    if (this.ctx.pool.config.proxyAuth) {
      if (password === undefined)
        return { passed: false, reason: 'only passwords are checked under proxyAuth' };
      const decision = await this.proxyAuthenticate(auth.username, { password });
      if (!decision.allowed) {
        // A password the proxy checked itself (UseReverseProxyAuth): the sprayer's budget, as FTP's.
        this.ctx.guard?.event('ProxyAuthFailure', auth.username);
        return { passed: false, reason: decision.reason };
      }
      stickyKey = decision.stickyKey;
      if (this.backendDone) return { passed: true };
    } else {
      if (this.backendDone) {
        // A chain such as publickey+password where the backend took the proxy's key login alone:
        // nobody could check this password.
        this.log.warn(
          `SFTPAuthMethods chain: the backend accepted the login before this ${auth.method} step, and without proxyAuth ftpx cannot check it; let the backend require the same chain (sshd AuthenticationMethods) or set proxyAuth`,
        );
        return {
          passed: false,
          reason: `${auth.method} cannot be checked after the backend accepted the login`,
        };
      }
      stickyKey = this.stickyKeyFor(auth.username, undefined);
    }
    const backend = await this.backendOrFail(auth, stickyKey);
    if (!backend) return undefined;
    const user = backend.url.user ?? auth.username;
    if (password !== undefined) {
      const sent = backend.url.password ? backend.url.password : password;
      return this.backendStep(backend, { type: 'password', username: user, password: sent }, auth.method);
    }
    const kbd = auth as KeyboardAuthContext;
    return this.backendStep(
      backend,
      {
        type: 'keyboard-interactive',
        username: user,
        prompt: (name, instructions, _lang, prompts, finish) => {
          kbd.prompt(prompts, name, instructions, (answers) => finish(answers));
        },
      },
      auth.method,
    );
  }

  private async backendStep(backend: Backend, method: AnyAuthMethod, what: string): Promise<StepResult> {
    const result = await backend.attempt(method);
    if (result.ok) {
      this.backendDone = true;
      this.backendMethodsLeft = [];
      return { passed: true };
    }
    if ('closed' in result) return { passed: false, closed: result.reason };
    if (result.partialSuccess) {
      // The backend's own chain (AuthenticationMethods): this step counts, more follow.
      this.backendMethodsLeft = result.methodsLeft;
      return { passed: true };
    }
    return { passed: false, reason: `backend refused ${what}`, backendMethods: result.methodsLeft };
  }

  /** The connect policy's key at authentication: PerUser the name, PerGroup the group, PerHost the address. */
  private stickyKeyFor(user: string, group: string | undefined): string | undefined {
    const policy = this.ctx.pool.config.connectPolicy;
    if (policy === 'PerUser') return user;
    if (policy === 'PerGroup') return group;
    if (policy === 'PerHost') return this.ctx.clientAddress;
    return undefined;
  }

  private async proxyAuthenticate(
    user: string,
    credential: { password: string } | { publicKey: string } | { workerVerifiedKey: true },
  ): Promise<{ allowed: true; stickyKey: string | undefined } | { allowed: false; reason: string }> {
    const answer = await this.ctx.controlPlane
      .authenticate({
        pool: this.ctx.pool.config.name,
        user,
        ...credential,
        clientAddress: this.ctx.clientAddress,
        protocol: 'sftp',
      })
      .catch(
        (err: unknown) => ({ allowed: false, reason: `control plane: ${(err as Error).message}` }) as const,
      );
    if (!answer.allowed) return { allowed: false, reason: answer.reason ?? 'refused' };
    const stickyKey = this.stickyKeyFor(user, answer.primaryGroup);
    if (this.ctx.pool.config.connectPolicy === 'PerGroup' && stickyKey === undefined) {
      return { allowed: false, reason: 'PerGroup, but the user has no primary group' };
    }
    return { allowed: true, stickyKey };
  }

  private async backendOrFail(
    auth: AuthContext,
    stickyKey: string | undefined,
  ): Promise<Backend | undefined> {
    try {
      const backend = await this.ensureBackend(stickyKey);
      if (backend.isClosed) throw new Error('the backend connection is closed');
      return backend;
    } catch (err) {
      this.log.warn('login failed: no backend', { error: err });
      if (this.hostKeyRefused) {
        // Said to the client, which otherwise sees only "Permission denied": the fix is the
        // operator's (confirm the backend's new key), not a retyped password.
        this.relayBanner(
          "ftpx: login refused: the server's SSH host key is not the one recorded for it (it changed, or someone is impersonating it); ask the operator\n",
        );
      }
      this.safeReject(auth);
      this.end('no backend available');
      return undefined;
    }
  }

  private loginFailed(auth: AuthContext, reason: string, backendMethods?: AuthenticationType[]): void {
    const { attempt, last } = this.attempts.failed();
    this.log.warn('login failed', { user: this.userName, method: auth.method, reason, attempt });
    this.ctx.guard?.event('SSHAuthFailure', this.userName || undefined);
    if (last) this.ctx.guard?.event('MaxLoginAttempts', this.userName || undefined);
    const methods = this.allowedMethods();
    // Before any step passed, only what the backend still takes (the proxy's own key checks always).
    const left =
      backendMethods && this.chains.passed.length === 0
        ? methods.filter(
            (method) => method === 'publickey' || method === 'hostbased' || backendMethods.includes(method),
          )
        : methods;
    auth.reject((left.length > 0 ? left : methods) as AuthenticationType[], this.chains.passed.length > 0);
    if (last) {
      this.end('too many failed logins (MaxLoginAttempts)');
    }
  }

  /**
   * publickey and hostbased: the proxy checks the key itself (SFTPAuthorizedUserKeys, or the control
   * plane under UseReverseProxyAuth; SFTPAuthorizedHostKeys for client hosts) and the signature. A
   * client signature cannot be relayed (it covers this hop's session identifier), so the backend
   * then sees the proxy's own login for the user, with the user's mapping key or the proxy's
   * hostbased key (ProxySFTPHostKey), as mod_proxy does for both methods. PerGroup under
   * UseReverseProxyAuth with a user key from the file asks the control plane for the user's groups
   * once the signature is verified.
   */
  private async keyStep(auth: PublicKeyAuthContext | HostbasedAuthContext): Promise<StepResult | undefined> {
    const { sftp, pool } = this.ctx;
    let stickyKey = this.stickyKeyFor(auth.username, undefined);
    let byFile = false;
    let allowed = false;
    if (auth.method === 'hostbased') {
      allowed =
        sftp.authorizedHostKeys !== undefined &&
        (await isAuthorizedKey(sftp.authorizedHostKeys, auth.username, auth.key.data));
    } else {
      byFile =
        sftp.authorizedUserKeys !== undefined &&
        (await isAuthorizedKey(sftp.authorizedUserKeys, auth.username, auth.key.data));
      allowed = byFile;
      if (!allowed && pool.config.proxyAuth) {
        const decision = await this.proxyAuthenticate(auth.username, {
          publicKey: `${auth.key.algo} ${auth.key.data.toString('base64')}`,
        });
        allowed = decision.allowed;
        if (decision.allowed) stickyKey = decision.stickyKey;
      }
    }
    if (!allowed) {
      return {
        passed: false,
        reason: auth.method === 'hostbased' ? 'client host key not authorized' : 'public key not authorized',
      };
    }
    if (!auth.signature || !auth.blob) {
      // The client asks whether this key would do (SSH_MSG_USERAUTH_PK_OK).
      auth.accept();
      return undefined;
    }
    const parsed = ssh2.utils.parseKey(auth.key.data);
    const hashAlgo = 'hashAlgo' in auth ? (auth.hashAlgo as string | undefined) : undefined;
    if (parsed instanceof Error || !parsed.verify(auth.blob, auth.signature, hashAlgo)) {
      return { passed: false, reason: `bad ${auth.method} signature` };
    }
    if (auth.method === 'hostbased') {
      this.log.info('client host verified', {
        user: auth.username,
        clientHost: auth.localHostname,
        clientUser: auth.localUsername,
      });
    }
    if (byFile && pool.config.proxyAuth && pool.config.connectPolicy === 'PerGroup') {
      // Only now, with the signature checked: the group comes from the proxy's user/group files.
      const decision = await this.proxyAuthenticate(auth.username, { workerVerifiedKey: true });
      if (!decision.allowed) return { passed: false, reason: decision.reason };
      stickyKey = decision.stickyKey;
    }
    // The backend already took a login (an earlier step of a chain): the proxy's check is the step.
    if (this.backendDone) return { passed: true };
    const login = await this.ctx.connector.keyLoginFor(auth.username);
    if (!login) {
      // Inside a chain, a later step (a relayed password) logs in to the backend.
      if (!this.chains.complete && !this.chains.completes(auth.method)) return { passed: true };
      this.log.warn(`${auth.method} login cannot reach the backend: no mapping key and no ProxySFTPHostKey`);
      return { passed: false, reason: 'no mapping key or hostbased key for the backend' };
    }
    const backend = await this.backendOrFail(auth, stickyKey);
    if (!backend) return undefined;
    const user = backend.url.user ?? auth.username;
    const method: AnyAuthMethod =
      login.kind === 'mapping'
        ? { type: 'publickey', username: user, key: login.key.key, ...passphraseOf(login.key) }
        : {
            type: 'hostbased',
            username: user,
            key: login.key.key,
            ...passphraseOf(login.key),
            localHostname: this.ctx.connector.hostbasedHostname,
            localUsername: user,
          };
    const result = await this.backendStep(backend, method, `the proxy's ${login.kind} login`);
    if (!result.passed && !('closed' in result)) {
      this.log.warn(
        `backend refused the proxy login for a verified ${auth.method === 'hostbased' ? 'client host' : 'public key'}`,
        {
          via: login.kind,
        },
      );
    }
    return result;
  }

  private safeReject(auth: AuthContext): void {
    try {
      auth.reject();
    } catch {
      // The client went away meanwhile.
    }
  }

  private handleSession(session: Session, backend: Backend): void {
    const allow = this.ctx.sftp.allow;
    const env: Record<string, string> = {};
    let pty: PseudoTtyInfo | undefined;
    let backendChannel: ClientChannel | undefined;
    const refuse = (what: string, reject: (() => unknown) | undefined) => {
      this.log.warn('refused channel request', { request: what });
      reject?.();
    };
    session.on('env', (accept, reject, info) => {
      if (!allow.env) return refuse('env', reject);
      env[info.key] = info.val;
      accept?.();
    });
    session.on('pty', (accept, reject, info) => {
      if (!allow.shell && !allow.exec) return refuse('pty-req', reject);
      pty = info;
      accept?.();
    });
    session.on('x11', (_accept, reject) => refuse('x11-req', reject));
    session.on('auth-agent', (_accept, reject) => refuse('auth-agent-req', reject));
    session.on('window-change', (accept, _reject, info) => {
      backendChannel?.setWindow(info.rows, info.cols, info.height, info.width);
      accept?.();
    });
    session.on('signal', (accept, _reject, info) => {
      backendChannel?.signal(info.name);
      accept?.();
    });
    session.on('subsystem', (accept, reject, info) => {
      if (info.name !== 'sftp' || !allow.sftp) return refuse(`subsystem ${info.name}`, reject);
      // Accepted at once: OpenSSH sends SSH_FXP_INIT right away and ssh2 drops data of a channel
      // whose request is not answered yet. The channel buffers until the backend's is open.
      const front = accept();
      backend.client.subsys('sftp', (err, channel) => {
        if (err) return this.backendChannelFailed(front, 'sftp subsystem', err);
        backendChannel = channel;
        const transfers = this.transfers;
        if (!this.ctx.sftp.audit && !transfers) {
          relayChannel(front, channel);
          return;
        }
        // The same parser serves the audit log and the transfer timeouts (it copies headers only).
        const audit = new SftpPacketAudit(
          (event) => {
            if (transfers && event.op === 'open' && event.result === 'ok') transfers.opened();
            if (transfers && event.op === 'close') transfers.closed();
            if (this.ctx.sftp.audit) this.audited(event);
          },
          () => transfers?.data(),
        );
        relayChannel(front, channel, {
          fromClient: (chunk) => audit.fromClient(chunk),
          fromServer: (chunk) => audit.fromServer(chunk),
          closed: () => audit.finish(),
        });
      });
    });
    session.on('exec', (accept, _reject, info) => {
      const parsed = parseScpCommand(info.command);
      const scp = parsed.kind === 'scp' ? parsed.scp : undefined;
      // A malformed scp command runs only where any command may run; otherwise the client's
      // string never reaches the backend: scp gets the command rebuilt from its parsed parts.
      const refusal =
        parsed.kind === 'scp'
          ? allow.scp
            ? undefined
            : { request: 'exec scp', message: 'scp is not allowed here' }
          : allow.exec
            ? undefined
            : parsed.kind === 'refused'
              ? {
                  request: 'exec scp',
                  message: `not an scp command ftpx relays: ${parsed.reason}`,
                  reason: parsed.reason,
                }
              : { request: 'exec', message: 'commands other than scp are not allowed here' };
      const front = accept();
      if (refusal) {
        // Accepted, then answered on the channel: the client's scp or ssh prints why and exits
        // non-zero, where a failed request only says "exec request failed".
        this.log.warn('refused channel request', {
          request: refusal.request,
          ...(refusal.reason ? { reason: refusal.reason } : {}),
        });
        front.stderr.write(`ftpx: refused: ${refusal.message}\n`);
        front.exit(EXEC_REFUSED_STATUS);
        front.end();
        return;
      }
      const options = { ...(Object.keys(env).length > 0 ? { env } : {}), ...(pty ? { pty } : {}) };
      backend.client.exec(scp ? scp.command : info.command, options, (err, channel) => {
        if (err) return this.backendChannelFailed(front, 'exec', err);
        backendChannel = channel;
        this.relayExec(front, channel, scp);
      });
    });
    session.on('shell', (accept, reject) => {
      if (!allow.shell) return refuse('shell', reject);
      const front = accept();
      const window = pty
        ? { rows: pty.rows, cols: pty.cols, height: pty.height, width: pty.width, term: pty.term }
        : false;
      backend.client.shell(window, Object.keys(env).length > 0 ? { env } : {}, (err, channel) => {
        if (err) return this.backendChannelFailed(front, 'shell', err);
        backendChannel = channel;
        relayChannel(front, channel);
      });
    });
  }

  private relayExec(front: ServerChannel, channel: ClientChannel, scp: ScpCommand | undefined): void {
    if (!scp) {
      relayChannel(front, channel);
      return;
    }
    let bytes = 0;
    const started = performance.now();
    const transfers = this.transfers;
    transfers?.opened();
    const count = (chunk: Buffer) => {
      bytes += chunk.length;
      transfers?.data();
    };
    relayChannel(front, channel, {
      ...(scp.direction === 'incoming' ? { fromClient: count } : { fromServer: count }),
      closed: (exit) => {
        transfers?.closed();
        const completed = exit !== undefined && 'code' in exit && exit.code === 0;
        this.tracked.addBytes(scp.direction === 'incoming' ? 'in' : 'out', bytes);
        this.tracked.transferEnded({ ms: performance.now() - started, ok: completed });
        this.log.info('scp transfer', {
          user: this.userName,
          backend: this.backend?.key,
          path: scp.path,
          direction: scp.direction,
          bytes,
          result: completed ? 'ok' : 'failed',
        });
        this.ctx.transferLog?.write({
          finishedAt: new Date(),
          durationMs: performance.now() - started,
          clientAddress: this.ctx.clientAddress,
          bytes,
          path: scp.path,
          binary: true,
          direction: scp.direction,
          user: this.userName,
          completed,
          service: 'scp',
        });
      },
    });
  }

  private backendChannelFailed(front: ServerChannel, what: string, err: Error): void {
    this.log.warn('backend refused the channel', { request: what, reason: err.message });
    front.stderr.write(`ftpx: the server refused ${what}\n`);
    front.exit(1);
    front.end();
  }

  private audited(event: SftpAuditEvent): void {
    this.log.info('sftp operation', { user: this.userName, backend: this.backend?.key, ...event });
    if (event.op !== 'close') return;
    const written = event.bytesWritten ?? 0;
    const incoming = event.write === true || written > 0;
    this.tracked.addBytes(incoming ? 'in' : 'out', incoming ? written : (event.bytesRead ?? 0));
    this.tracked.transferEnded({ ms: event.durationMs ?? 0, ok: event.result === 'ok' });
    this.ctx.transferLog?.write({
      finishedAt: new Date(),
      durationMs: event.durationMs ?? 0,
      clientAddress: this.ctx.clientAddress,
      bytes: incoming ? written : (event.bytesRead ?? 0),
      path: event.path,
      binary: true,
      direction: incoming ? 'incoming' : 'outgoing',
      user: this.userName,
      completed: event.result === 'ok',
      service: 'sftp',
    });
  }

  /** Ends the session (both legs). */
  end(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.log.info('session ending', { reason });
    this.backend?.end();
    this.conn.end();
  }

  /** Ends the session (worker shutdown, an operator's kick); SSH has no reply code, the reason is logged. */
  close(reason?: string): void {
    this.end(reason ?? 'listener closing');
  }

  private closed(): void {
    clearTimeout(this.loginTimer);
    clearTimeout(this.idleTimer);
    this.transfers?.stop();
    this.ended = true;
    const backend = this.backend;
    if (backend) {
      backend.end();
      if (needsReports(this.ctx.pool.config.connectPolicy))
        this.ctx.reporter.ended(this.ctx.pool.config.name, backend.key);
    } else {
      this.backendPromise?.then(
        (late) => late.end(),
        () => {},
      );
    }
    this.log.info('SSH client disconnected', { user: this.userName });
    this.resolveDone();
  }
}

/** One authentication request's outcome: passed (a chain step), failed, or the backend closed. */
type StepResult =
  | { passed: true }
  | { passed: false; reason: string; backendMethods?: AuthenticationType[] }
  | { passed: false; closed: string };

/** The exit status of a refused exec request (the shell's "found but cannot execute"). */
const EXEC_REFUSED_STATUS = 126;

function passphraseOf(key: LoadedKey): { passphrase?: string } {
  return key.passphrase !== undefined ? { passphrase: key.passphrase } : {};
}
