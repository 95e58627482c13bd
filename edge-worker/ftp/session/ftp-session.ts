import type { SessionHandle } from '../../admin/session-registry.js';
import type { ListenerConfig } from '../../config/schema.js';
import type { Logger } from '../../log/logger.js';
import { type BackendControl, BackendLostError, describeReply } from '../control/backend-control.js';
import type { CommandEvent, FtpCommand } from '../control/command-parser.js';
import type { ControlChannel } from '../control/frontend-control.js';
import { type FtpReply, localReply } from '../control/reply.js';
import { BackendDataSetup } from '../data/backend-data.js';
import type { DataTransfers, TransferContext } from '../data/data-transfers.js';
import { TRANSFER_COMMANDS } from '../data/transfer.js';
import { ListingTranslation } from '../dirlist/listing-translation.js';
import { type FrontendSecurity, SECURITY_COMMANDS } from '../tls/frontend-security.js';
import type { CommandLimits } from './command-limits.js';
import { runCommandLoop, screenCommand } from './command-loop.js';
import { featReply } from './feat.js';
import { answerWithoutBackend, quitSession } from './local-answers.js';
import { LoginAttempts } from './login-attempts.js';
import type { SessionGuard } from './session-guard.js';
import type { CommandHandler, SessionBackend, SessionRole } from './session-role.js';
import {
  AWAITING_LOGIN,
  backendSaidGoodbye,
  endedByProxy,
  isLoggedIn,
  proxyEndReason,
  type SessionState,
  withLogin,
} from './session-state.js';
import { SessionTimeouts, type TimeoutKind, timeoutReplyText } from './session-timeouts.js';

/**
 * Commands a client may send before it is logged in (mod_proxy lets the same ones through before
 * its login: http://www.proftpd.org/docs/contrib/mod_proxy.html#ProxyRole).
 */
/** Unsolicited replies of one backend connection logged one by one at info; the rest are only counted. */
const UNSOLICITED_REPLIES_LOGGED = 3;

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

/** A session's data channel (DataTransfers; a fake in unit tests). */
export type DataChannel = Pick<DataTransfers, 'prepare' | 'transfer' | 'close'>;

/** What a session is made of, whichever its role; ftp-socket-session.ts builds it from a client socket. */
export interface FtpSessionParts {
  id: string;
  tracked: SessionHandle;
  frontend: ControlChannel;
  log: Logger;
  security: Pick<FrontendSecurity, 'controlRefusal' | 'features'>;
  listener: Pick<ListenerConfig, 'maxCommandLength' | 'maxLoginAttempts' | 'timeouts' | 'dataConnectTimeout'>;
  limits: CommandLimits;
  clientAddress: string;
  /** Connection limits and bans (edge-worker/limits/); none: no limits apply. */
  guard?: SessionGuard;
  /** The data channel; it shares the session's timers. */
  data(timeouts: SessionTimeouts): DataChannel;
}

type Handler<B extends SessionBackend> = (
  session: FtpSession<B>,
  command: FtpCommand,
  backend: B,
) => Promise<void>;

async function prepareData<B extends SessionBackend>(
  session: FtpSession<B>,
  command: FtpCommand,
  backend: B,
): Promise<void> {
  // UseDirectDataTransfers: the client and the backend connect to each other, bypassing the proxy.
  if (session.role.pool.directDataTransfers) await session.relay(command);
  else await session.data.prepare(command, backend.dataSetup, session.log);
}

async function notSupported<B extends SessionBackend>(
  session: FtpSession<B>,
  command: FtpCommand,
): Promise<void> {
  await session.frontend.reply(502, `${command.verb} is not supported; use EPRT or EPSV.`);
}

/** The commands every role handles the same way once a backend is connected (the rest are relayed). */
const COMMANDS: Readonly<Record<string, Handler<SessionBackend>>> = {
  FEAT: async (session, command, backend) => {
    if (session.role.pool.showFeatures) await session.relay(command);
    else {
      const features = await backend.control.command('FEAT');
      await session.frontend.send(
        featReply(features, session.listings.feature(), session.security.features()),
      );
    }
  },
  OPTS: async (session, command) => {
    const own = session.listings.optsMlst(command.arg);
    if (own) await session.frontend.send(own);
    else await session.relay(command);
  },
  PASV: prepareData,
  EPSV: prepareData,
  PORT: prepareData,
  EPRT: prepareData,
  LPRT: notSupported,
  LPSV: notSupported,
  TYPE: async (session, command) => {
    const reply = await session.relay(command);
    if (reply.code === 200) session.binary = /^\s*[IL]/i.test(command.arg);
  },
  REIN: async (session, command) => {
    session.data.close();
    session.loggedOut();
    await session.relay(command);
  },
  ABOR: async (session, command) => {
    session.data.close();
    await session.relay(command);
  },
};

/** Transfers run through the proxy's data channel; anything else goes to the backend as it came. */
const relayOrTransfer: Handler<SessionBackend> = async (session, command, backend) => {
  if (TRANSFER_COMMANDS.has(command.verb) && !session.role.pool.directDataTransfers) {
    await session.data.transfer(command, session.transferContext(command, backend));
  } else await session.relay(command);
};

/**
 * One client's FTP session, in either proxy role (mod_proxy's shape: one command loop; the role says
 * how USER, PASS and HOST choose and log in to the backend). Every client line is screened, then
 * QUIT, the RFC 2228 security commands, TLSRequired, `<Limit>` and the login gate apply in that
 * order, then the role's login commands or the verb table below. Login attempts, timeouts and the
 * session's end are kept here, once.
 */
export class FtpSession<B extends SessionBackend = SessionBackend> {
  readonly id: string;
  readonly tracked: SessionHandle;
  readonly frontend: ControlChannel;
  readonly security: FtpSessionParts['security'];
  readonly timeouts: SessionTimeouts;
  readonly data: DataChannel;
  readonly role: SessionRole;
  /** ProxyDirectoryListPolicy, by the role's current pool. */
  readonly listings = new ListingTranslation(() => this.role.pool);
  log: Logger;
  /** The user name of the current login, as the backend was sent it ('' before USER). */
  userName = '';
  /** TYPE as last accepted by the backend; ASCII until a client says otherwise (RFC 959). */
  binary = false;
  private current: B | undefined;
  private state: SessionState = AWAITING_LOGIN;
  private readonly attempts: LoginAttempts;

  constructor(
    private readonly parts: FtpSessionParts,
    role: (session: FtpSession<B>) => SessionRole,
  ) {
    this.id = parts.id;
    this.tracked = parts.tracked;
    this.frontend = parts.frontend;
    this.security = parts.security;
    this.log = parts.log;
    this.attempts = new LoginAttempts(parts.listener.maxLoginAttempts, parts.tracked);
    this.timeouts = new SessionTimeouts(parts.listener.timeouts, (kind) => this.timedOut(kind));
    this.data = parts.data(this.timeouts);
    this.role = role(this);
  }

  get backend(): B | undefined {
    return this.current;
  }

  get loggedIn(): boolean {
    return isLoggedIn(this.state);
  }

  get sessionState(): SessionState {
    return this.state;
  }

  async run(): Promise<void> {
    const started = performance.now();
    let endReason = 'client quit';
    const { peer } = this.role;
    try {
      endReason = (await this.role.greet()) ?? (await this.commandLoop());
    } catch (err) {
      const byProxy = proxyEndReason(this.state);
      endReason = byProxy ?? (err instanceof Error ? err.message : String(err));
      if (byProxy) {
        // The proxy closed the session on purpose; what failed afterwards is the consequence.
      } else if (err instanceof BackendLostError && this.state.kind === 'backend-said-goodbye') {
        this.log.info(`${peer} closed the session`, { reason: err.message });
        this.frontend.end();
      } else if (err instanceof BackendLostError) {
        this.log.warn(`${peer} connection lost`, { reason: err.message });
        await this.frontend.sendAndClose(localReply(421, `Service not available, ${peer} connection lost.`));
      } else {
        this.log.error('session failed', { error: err });
        await this.frontend.sendAndClose(localReply(421, 'Service not available, internal proxy error.'));
      }
    } finally {
      const unsolicited = this.current?.control.unsolicitedCount ?? 0;
      this.dispose();
      this.log.info('session ended', {
        reason: endReason,
        ms: Math.round(performance.now() - started),
        ...(unsolicited > UNSOLICITED_REPLIES_LOGGED ? { unsolicitedReplies: unsolicited } : {}),
      });
    }
  }

  /** Ends the session at once (worker shutdown, an operator's kick), with `421 reason` when given. */
  close(reason?: string): void {
    if (reason !== undefined) {
      this.endByProxy(reason);
      void this.frontend.sendAndClose(localReply(421, reason));
    }
    this.dispose();
  }

  /** The proxy ends the session on purpose; the client has been (or is being) told. */
  endByProxy(reason: string): void {
    this.state = endedByProxy(this.state, reason);
  }

  /** The backend the session talks to from now on: its unsolicited replies are relayed, its loss ends the session. */
  useBackend(backend: B): void {
    this.current = backend;
    backend.control.onUnsolicited = (reply) => {
      // Logged once per backend connection at info: a hostile backend's flood must not fill the log
      // (the count reaches the log when the session ends, or with the flood error).
      if (backend.control.unsolicitedCount <= UNSOLICITED_REPLIES_LOGGED) {
        this.log.info(`unsolicited ${this.role.peer} reply relayed`, { reply: describeReply(reply) });
      }
      // A backend 421 (its idle timeout, say) already told the client the session is over.
      if (reply.code === 421) this.state = backendSaidGoodbye(this.state);
      return this.frontend.send(reply);
    };
    // Losing the backend while the client is idle must end the session at once, not at the next command.
    void backend.control.lost.then(() => this.frontend.commands.interrupt());
  }

  /** The data-channel setup towards a newly connected backend, by the role's pool (ProxyDataTransferPolicy...). */
  dataSetupFor(control: BackendControl): BackendDataSetup {
    const pool = this.role.pool;
    return new BackendDataSetup(control, {
      policy: pool.dataTransferPolicy,
      foreignDataAddress: pool.foreignDataAddress,
      sourceAddress: pool.sourceAddress,
      connectTimeoutMs: this.parts.listener.dataConnectTimeout,
      log: this.log,
    });
  }

  /** Lets the backend go (another pool, another destination). */
  releaseBackend(): void {
    this.data.close();
    this.current?.control.destroy();
    this.current = undefined;
    this.tracked.clearBackend();
  }

  /** Relays a command to the backend and its reply (and preliminary replies) to the client. */
  async relay(command: FtpCommand): Promise<FtpReply> {
    const backend = this.current;
    if (!backend) throw new Error(`no ${this.role.peer} connected`);
    const line = command.arg === '' ? command.verb : `${command.verb} ${command.arg}`;
    const reply = await backend.control.command(line, {
      onPreliminary: (preliminary) => this.frontend.send(preliminary),
    });
    await this.frontend.send(reply);
    return reply;
  }

  /**
   * The login limits (MaxClients, MaxClientsPerClass, MaxClientsPerHost, MaxClientsPerUser, MaxHostsPerUser), checked
   * where ProFTPD checks them: after the password was accepted. False when the client was refused
   * (530 with ProFTPD's text) and the session is over; the caller must not send the backend's 230.
   */
  async admitLogin(): Promise<boolean> {
    const refusal = await this.parts.guard?.loggedIn(this.userName);
    if (!refusal) return true;
    this.endByProxy('refused by a connection limit');
    this.log.warn('login refused by a connection limit', { reason: refusal.text });
    await this.frontend.sendAndClose(localReply(refusal.code, refusal.text));
    return false;
  }

  loginSucceeded(details: Record<string, unknown> = {}): void {
    this.state = withLogin(this.state, true);
    this.attempts.succeeded();
    this.timeouts.loggedIn();
    this.log.info('login succeeded', details);
  }

  /** USER, REIN, another backend: the login is over (TimeoutLogin runs again). */
  loggedOut(): void {
    if (this.loggedIn) {
      this.timeouts.loggedOut();
      this.parts.guard?.loggedOut();
    }
    this.state = withLogin(this.state, false);
  }

  /**
   * The backend's reply to a login step (USER, PASS), relayed: 230 (232 to USER, 202 to PASS)
   * completes the login, an error counts as a refused login, anything else (331, 332) waits for the next step.
   */
  async loginStep(reply: FtpReply, details: Record<string, unknown> = {}): Promise<void> {
    if (reply.code === 230 || reply.code === 232 || reply.code === 202) {
      if (!(await this.admitLogin())) return;
      this.loginSucceeded(details);
      await this.frontend.send(reply);
    } else if (reply.code >= 400) {
      await this.loginFailed(reply, describeReply(reply));
    } else {
      await this.frontend.send(reply);
    }
  }

  /** A refused login: counted for MaxLoginAttempts, whose last refusal closes the connection. */
  async loginFailed(reply: FtpReply, reason: string): Promise<void> {
    const { attempt, last } = this.attempts.failed();
    this.log.warn('login failed', { reason, attempt });
    if (last) {
      this.parts.guard?.event('MaxLoginAttempts', this.userName || undefined);
      // ProFTPD's MaxLoginAttempts: the last refusal is the last word.
      this.endByProxy('too many failed logins');
      this.log.warn('maximum login attempts reached; closing', { max: this.parts.listener.maxLoginAttempts });
      await this.frontend.sendAndClose(reply);
      return;
    }
    await this.frontend.send(reply);
  }

  /** What a transfer command reads of the session when it runs. */
  transferContext(command: FtpCommand, backend: SessionBackend): TransferContext {
    return {
      backend: backend.control,
      lingerMs: this.role.pool.lingerTimeout,
      listing: this.listings.listing(command, this.log),
      user: this.userName,
      binary: this.binary,
      loggedIn: this.loggedIn,
      log: this.log,
    };
  }

  private timedOut(kind: TimeoutKind): void {
    if (kind === 'login') this.parts.guard?.event('TimeoutLogin');
    if (kind === 'idle') this.parts.guard?.event('TimeoutIdle', this.userName || undefined);
    this.endByProxy(`${kind} timeout`);
    this.log.info('session timed out', { timeout: kind });
    void this.frontend.sendAndClose(localReply(421, timeoutReplyText(kind, this.parts.listener.timeouts)));
    this.dispose();
  }

  private commandLoop(): Promise<string> {
    return runCommandLoop({
      frontend: this.frontend,
      backend: () => this.current?.control,
      endedByProxy: () => proxyEndReason(this.state),
      timeouts: this.timeouts,
      tracked: this.tracked,
      handle: (event) => this.handle(event),
    });
  }

  /** Handles one command; true when the session is over. */
  private async handle(event: CommandEvent): Promise<boolean> {
    const { listener, limits, clientAddress } = this.parts;
    const screened = await screenCommand(event, this.frontend, listener.maxCommandLength, this.log);
    if (screened.kind === 'answered') {
      this.parts.guard?.event('UnhandledCommand', this.userName || undefined);
      return false;
    }
    if (screened.kind === 'untrusted-proxy-header') {
      this.parts.guard?.event('BadProxyHeader');
      this.endByProxy('PROXY header from an untrusted source');
      return true;
    }
    const { command } = screened;
    if (command.verb === 'QUIT') {
      await quitSession(this.frontend, this.current?.control);
      return true;
    }
    if (SECURITY_COMMANDS.has(command.verb)) {
      const ended = await this.role.securityCommand(command);
      if (ended !== undefined) this.endByProxy(ended);
      return false;
    }
    const tlsRefusal = this.security.controlRefusal(command.verb);
    if (tlsRefusal) {
      await this.frontend.send(tlsRefusal);
      return false;
    }
    const limitUser = this.role.limitUser ? this.role.limitUser() : this.userName || undefined;
    const limit = limits.check(command.verb, limitUser, clientAddress);
    if (!limit.allowed) {
      this.log.info('command refused by a limit', { verb: command.verb });
      await this.frontend.reply(limit.code, `${command.verb}: Operation not permitted`);
      return false;
    }
    if (!this.loggedIn && !BEFORE_LOGIN.has(command.verb)) {
      await this.frontend.reply(530, this.role.notLoggedInText?.() ?? 'Please login with USER and PASS');
      return false;
    }
    const login = this.role.login[command.verb as keyof SessionRole['login']] as CommandHandler | undefined;
    if (command.verb === 'PASS') this.parts.guard?.event('LoginRate', this.userName || undefined);
    if (login) {
      await login(command);
      return false;
    }
    const backend = this.current;
    if (!backend) {
      // No backend yet (chosen at USER, or a destination not named yet): the proxy answers itself.
      await answerWithoutBackend(this.frontend, command, this.listings.feature(), this.security.features());
      return false;
    }
    await (COMMANDS[command.verb] ?? relayOrTransfer)(this as FtpSession, command, backend);
    return false;
  }

  private dispose(): void {
    this.role.disposing?.();
    this.timeouts.dispose();
    this.data.close();
    this.current?.control.destroy();
    this.frontend.destroy();
  }
}
