import { randomUUID } from 'node:crypto';
import type {
  AnyAuthMethod,
  AuthContext,
  AuthenticationType,
  ClientChannel,
  Connection,
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
import type { Logger } from '../log/logger.js';
import type { TransferLog } from '../log/transfer-log.js';
import { type Selected, selectBackendWith } from '../reverse/backend-selection.js';
import { type ConnectionReporter, needsReports } from '../reverse/connection-reporter.js';
import type { Pool } from '../reverse/pool.js';
import { isAuthorizedKey } from './authorized-keys.js';
import type { BackendConnector } from './backend-connector.js';
import type { BackendAuthResult, BackendSsh } from './backend-ssh-client.js';
import { relayChannel } from './channel-relay.js';
import type { LoadedKey } from './host-keys.js';
import { parseScpCommand, type ScpCommand } from './scp-command.js';
import { type SftpAuditEvent, SftpPacketAudit } from './sftp-packet-audit.js';
import { SshTransferTimeouts } from './transfer-timeouts.js';
import { sendUserauthBanner } from './userauth-banner.js';

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
  /** Attempts are answered one at a time, in order. */
  private authQueue: Promise<void> = Promise.resolve();

  constructor(
    private readonly conn: Connection,
    private readonly ctx: SshSessionContext,
  ) {
    this.tracked = ctx.tracked ?? untrackedSession;
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
      const { noTransfer, stalled } = ctx.listener.timeouts;
      if (noTransfer > 0 || stalled > 0) {
        this.transfers = new SshTransferTimeouts({ noTransfer, stalled }, (reason) => this.end(reason));
        this.transfers.start();
      }
      this.tracked.setUser(this.userName);
      this.attempts.succeeded();
      this.log.info('login succeeded', { user: this.userName, backend: this.backend?.key });
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

  private selectsAtAuthentication(): boolean {
    const policy = this.ctx.pool.config.connectPolicy;
    return policy === 'PerUser' || policy === 'PerGroup' || this.ctx.pool.config.proxyAuth;
  }

  private offeredMethods(): AuthenticationType[] {
    const { sftp, pool } = this.ctx;
    return sftp.authMethods.filter((method) => {
      if (method === 'publickey') return sftp.authorizedUserKeys !== undefined || pool.config.proxyAuth;
      if (method === 'keyboard-interactive') return !pool.config.proxyAuth;
      return true;
    });
  }

  /** Chooses and connects the backend once; later callers share the same attempt. */
  private ensureBackend(stickyKey: string | undefined): Promise<Backend> {
    this.backendPromise ??= selectBackendWith(
      this.ctx.pool,
      {
        controlPlane: this.ctx.controlPlane,
        reporter: this.ctx.reporter,
        log: this.log,
        ...(stickyKey !== undefined ? { stickyKey } : {}),
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
        ),
    ).then((backend) => {
      this.backend = backend;
      this.tracked.setBackend(backend.key, { connectMs: backend.connectMs, port: backend.url.port });
      backend.client.on('close', () => this.end('backend closed the connection'));
      if (this.ended) backend.end();
      return backend;
    });
    this.backendPromise.catch((err: unknown) => this.log.warn('no backend', { error: err }));
    return this.backendPromise;
  }

  /** The backend's USERAUTH_BANNER, passed on while the client is still authenticating. */
  private relayBanner(message: string): void {
    if (this.authenticated || this.ended) return;
    if (!sendUserauthBanner(this.conn, message))
      this.log.warn('backend banner not relayed (ssh2 internals changed)');
  }

  private async authenticate(auth: AuthContext): Promise<void> {
    if (this.ended) return;
    const methods = this.offeredMethods();
    if (auth.method === 'none' || !methods.includes(auth.method)) {
      auth.reject(methods);
      return;
    }
    if (this.userName !== '' && auth.username !== this.userName) {
      // One backend connection per session: the user name cannot change between attempts.
      this.log.warn('client changed its user name during authentication; refused');
      this.loginFailed(auth, methods, 'user name changed');
      return;
    }
    this.userName = auth.username;
    if (auth.method === 'publickey') {
      await this.publicKey(auth, methods);
      return;
    }
    let stickyKey: string | undefined;
    if (this.ctx.pool.config.proxyAuth) {
      if (auth.method !== 'password') {
        auth.reject(methods);
        return;
      }
      const decision = await this.proxyAuthenticate(auth.username, { password: auth.password });
      if (!decision.allowed) {
        this.loginFailed(auth, methods, decision.reason);
        return;
      }
      stickyKey = decision.stickyKey;
    } else {
      stickyKey = this.stickyKeyFor(auth.username, undefined);
    }
    const backend = await this.backendOrFail(auth, stickyKey);
    if (!backend) return;
    const user = backend.url.user ?? auth.username;
    if (auth.method === 'password') {
      const password = backend.url.password ? backend.url.password : (auth as PasswordAuthContext).password;
      await this.relayAttempt(auth, methods, backend, { type: 'password', username: user, password });
    } else if (auth.method === 'keyboard-interactive') {
      const kbd = auth as KeyboardAuthContext;
      await this.relayAttempt(auth, methods, backend, {
        type: 'keyboard-interactive',
        username: user,
        prompt: (name, instructions, _lang, prompts, finish) => {
          kbd.prompt(prompts, name, instructions, (answers) => finish(answers));
        },
      });
    } else {
      auth.reject(methods);
    }
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

  private async relayAttempt(
    auth: AuthContext,
    methods: AuthenticationType[],
    backend: Backend,
    method: AnyAuthMethod,
  ): Promise<void> {
    const result = await backend.attempt(method);
    this.answer(auth, methods, result);
  }

  private answer(auth: AuthContext, methods: AuthenticationType[], result: BackendAuthResult): void {
    if (result.ok) {
      auth.accept();
      return;
    }
    if ('closed' in result) {
      this.log.warn('login failed: backend closed', { reason: result.reason });
      this.safeReject(auth);
      this.end('backend closed during authentication');
      return;
    }
    if (result.partialSuccess) {
      // Another method is required (AuthenticationMethods chains): offer what the backend asks for.
      auth.reject(
        result.methodsLeft.filter((method) => methods.includes(method)),
        true,
      );
      return;
    }
    this.loginFailed(auth, methods, `backend refused ${auth.method}`, result.methodsLeft);
  }

  private loginFailed(
    auth: AuthContext,
    methods: AuthenticationType[],
    reason: string,
    backendMethods?: AuthenticationType[],
  ): void {
    const { attempt, last } = this.attempts.failed();
    this.log.warn('login failed', { user: this.userName, method: auth.method, reason, attempt });
    this.ctx.guard?.event('SSHAuthFailure', this.userName || undefined);
    if (last) this.ctx.guard?.event('MaxLoginAttempts', this.userName || undefined);
    const left = backendMethods
      ? methods.filter((method) => method === 'publickey' || backendMethods.includes(method))
      : methods;
    auth.reject(left.length > 0 ? left : methods);
    if (last) {
      this.end('too many failed logins (MaxLoginAttempts)');
    }
  }

  /**
   * publickey: the proxy checks the key itself (SFTPAuthorizedUserKeys file, or the control plane
   * under UseReverseProxyAuth) and the signature; the backend then sees the proxy's own login for the
   * user, with the user's mapping key or the proxy's hostbased key (a client signature cannot be
   * relayed: it covers this hop's session identifier). PerGroup under UseReverseProxyAuth with a key
   * from the file asks the control plane for the user's groups once the signature is verified.
   */
  private async publicKey(auth: PublicKeyAuthContext, methods: AuthenticationType[]): Promise<void> {
    const { sftp, pool } = this.ctx;
    let stickyKey = this.stickyKeyFor(auth.username, undefined);
    const byFile =
      sftp.authorizedUserKeys !== undefined &&
      (await isAuthorizedKey(sftp.authorizedUserKeys, auth.username, auth.key.data));
    let allowed = byFile;
    if (!allowed && pool.config.proxyAuth) {
      const decision = await this.proxyAuthenticate(auth.username, {
        publicKey: `${auth.key.algo} ${auth.key.data.toString('base64')}`,
      });
      allowed = decision.allowed;
      if (decision.allowed) stickyKey = decision.stickyKey;
    }
    if (!allowed) {
      this.loginFailed(auth, methods, 'public key not authorized');
      return;
    }
    if (!auth.signature || !auth.blob) {
      // The client asks whether this key would do (SSH_MSG_USERAUTH_PK_OK).
      auth.accept();
      return;
    }
    const parsed = ssh2.utils.parseKey(auth.key.data);
    if (parsed instanceof Error || !parsed.verify(auth.blob, auth.signature, auth.hashAlgo)) {
      this.loginFailed(auth, methods, 'bad public key signature');
      return;
    }
    if (byFile && pool.config.proxyAuth && pool.config.connectPolicy === 'PerGroup') {
      // Only now, with the signature checked: the group comes from the proxy's user/group files.
      const decision = await this.proxyAuthenticate(auth.username, { workerVerifiedKey: true });
      if (!decision.allowed) {
        this.loginFailed(auth, methods, decision.reason);
        return;
      }
      stickyKey = decision.stickyKey;
    }
    const login = await this.ctx.connector.keyLoginFor(auth.username);
    if (!login) {
      this.log.warn('publickey login cannot reach the backend: no mapping key and no ProxySFTPHostKey');
      this.loginFailed(auth, methods, 'no mapping key or hostbased key for the backend');
      return;
    }
    const backend = await this.backendOrFail(auth, stickyKey);
    if (!backend) return;
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
    const result = await backend.attempt(method);
    if (!result.ok && !('closed' in result)) {
      this.log.warn('backend refused the proxy login for a verified public key', { via: login.kind });
    }
    this.answer(auth, methods, result);
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

/** The exit status of a refused exec request (the shell's "found but cannot execute"). */
const EXEC_REFUSED_STATUS = 126;

function passphraseOf(key: LoadedKey): { passphrase?: string } {
  return key.passphrase !== undefined ? { passphrase: key.passphrase } : {};
}
