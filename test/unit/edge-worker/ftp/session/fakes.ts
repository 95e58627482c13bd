import { untrackedSession } from '../../../../../edge-worker/admin/session-registry.js';
import type { PoolConfig } from '../../../../../edge-worker/config/schema.js';
import { AsyncQueue } from '../../../../../edge-worker/ftp/control/async-queue.js';
import {
  type BackendChannel,
  BackendLostError,
} from '../../../../../edge-worker/ftp/control/backend-control.js';
import {
  type CommandEvent,
  CommandParser,
  type FtpCommand,
} from '../../../../../edge-worker/ftp/control/command-parser.js';
import type { ControlChannel } from '../../../../../edge-worker/ftp/control/frontend-control.js';
import { type FtpReply, localReply } from '../../../../../edge-worker/ftp/control/reply.js';
import type { TransferContext } from '../../../../../edge-worker/ftp/data/data-transfers.js';
import { CommandLimits, type LimitRule } from '../../../../../edge-worker/ftp/session/command-limits.js';
import {
  type DataChannel,
  FtpSession,
  type FtpSessionParts,
} from '../../../../../edge-worker/ftp/session/ftp-session.js';
import type { SessionBackend, SessionRole } from '../../../../../edge-worker/ftp/session/session-role.js';
import { FrontendSecurity } from '../../../../../edge-worker/ftp/tls/frontend-security.js';
import { silentLogger } from '../../../../../edge-worker/log/logger.js';

/** Waits (bounded) until `ready()` holds, letting the session's promises run in between. */
export async function until(ready: () => boolean, what: string): Promise<void> {
  for (let turn = 0; turn < 200; turn += 1) {
    if (ready()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The client's end of a session's control connection: lines in, replies out, no socket. */
export class FakeControl implements ControlChannel {
  readonly commands = new AsyncQueue<CommandEvent>();
  readonly replies: FtpReply[] = [];
  closedWith: 'sendAndClose' | 'end' | 'destroy' | undefined;
  private readonly parser = new CommandParser(512);

  get closeReason(): string | undefined {
    return this.closedWith === undefined ? undefined : 'client connection closed';
  }

  /** What the client types. */
  type(line: string): void {
    for (const event of this.parser.push(Buffer.from(`${line}\r\n`))) this.commands.push(event);
  }

  /** The reply number `index` (0-based), once the session has sent it, as on the wire (lines joined by `|`). */
  async replyAt(index: number): Promise<string> {
    await until(() => this.replies.length > index, `reply #${index}`);
    const reply = this.replies[index] as FtpReply;
    return reply.lines.join('|');
  }

  async reply(code: number, text: string | string[]): Promise<void> {
    await this.send(localReply(code, text));
  }

  async send(reply: FtpReply): Promise<void> {
    this.replies.push(reply);
  }

  async sendAndClose(reply: FtpReply): Promise<void> {
    this.closedWith ??= 'sendAndClose';
    this.replies.push(reply);
    this.commands.close();
  }

  end(): void {
    this.closedWith ??= 'end';
    this.commands.close();
  }

  destroy(): void {
    this.closedWith ??= 'destroy';
    this.commands.close();
  }

  startTls(): Promise<string | undefined> {
    throw new Error('no TLS on a fake control channel');
  }
}

/** A backend's control connection that answers from a script: `answer(line)` gives each reply. */
export class FakeBackend implements BackendChannel {
  readonly lines: string[] = [];
  onUnsolicited: (reply: FtpReply) => void = () => {};
  unsolicitedCount = 0;
  readonly lost: Promise<BackendLostError>;
  destroyed = false;
  private lose: (err: BackendLostError) => void = () => {};
  private lostError: BackendLostError | undefined;

  constructor(private readonly answer: (line: string) => FtpReply) {
    this.lost = new Promise((resolve) => {
      this.lose = resolve;
    });
  }

  get isLost(): boolean {
    return this.lostError !== undefined;
  }

  async command(line: string): Promise<FtpReply> {
    if (this.lostError) throw this.lostError;
    this.lines.push(line);
    return this.answer(line);
  }

  /** The backend speaks without being asked (a 421 before it hangs up). */
  says(reply: FtpReply): void {
    this.unsolicitedCount += 1;
    this.onUnsolicited(reply);
  }

  /** The backend's connection goes. */
  hangUp(reason: string): void {
    this.lostError = new BackendLostError(reason);
    this.lose(this.lostError);
  }

  destroy(): void {
    this.destroyed = true;
  }
}

/** A data channel that records what the session asks of it; a transfer runs until `finish()`. */
export class FakeData implements DataChannel {
  readonly prepared: string[] = [];
  closes = 0;
  transfers: { command: FtpCommand; context: TransferContext }[] = [];
  private finishTransfer: (() => void) | undefined;

  async prepare(command: FtpCommand): Promise<void> {
    this.prepared.push(command.verb);
  }

  transfer(command: FtpCommand, context: TransferContext): Promise<void> {
    this.transfers.push({ command, context });
    return new Promise((resolve) => {
      this.finishTransfer = resolve;
    });
  }

  get transferring(): boolean {
    return this.finishTransfer !== undefined;
  }

  finish(): void {
    this.finishTransfer?.();
    this.finishTransfer = undefined;
  }

  close(): void {
    this.closes += 1;
  }
}

/** A backend that logs in `alice` with password `secret` and relays everything else with 200 / 250. */
export function loginBackend(): FakeBackend {
  return new FakeBackend((line) => {
    if (line === 'USER alice') return localReply(331, 'Password required for alice.');
    if (line === 'PASS secret') return localReply(230, 'User alice logged in.');
    if (line.startsWith('PASS ')) return localReply(530, 'Login incorrect.');
    if (line === 'FEAT') return localReply(211, ['Features:', ' MDTM', ' AUTH TLS', 'End']);
    if (line === 'REIN') return localReply(220, 'Service ready for new user.');
    if (line === 'ABOR') return localReply(226, 'Abort successful.');
    if (line.startsWith('TYPE')) return localReply(200, 'Type set.');
    return localReply(250, `${line} done.`);
  });
}

/**
 * The smallest role: one backend, connected when the client connects, USER and PASS relayed to it
 * (230 logs in, 530 counts as a refused login). What the session core does around it is under test.
 */
class TestRole implements SessionRole {
  readonly peer = 'backend';
  readonly login = {
    USER: async (command: FtpCommand) => {
      const { session } = this;
      session.loggedOut();
      session.data.close();
      session.userName = command.arg;
      await session.frontend.send(await this.backend.control.command(`USER ${command.arg}`));
    },
    PASS: async (command: FtpCommand) => {
      const reply = await this.backend.control.command(`PASS ${command.arg}`);
      if (reply.code === 230) {
        this.session.loginSucceeded();
        await this.session.frontend.send(reply);
      } else await this.session.loginFailed(reply, 'refused');
    },
    HOST: async () => {
      await this.session.frontend.reply(220, 'HOST command successful.');
    },
  };

  constructor(
    private readonly session: FtpSession,
    private readonly backend: SessionBackend,
    readonly pool: PoolConfig,
  ) {}

  async greet(): Promise<string | undefined> {
    this.session.useBackend(this.backend);
    await this.session.frontend.reply(220, 'Test backend ready.');
    return undefined;
  }

  async securityCommand(command: FtpCommand): Promise<string | undefined> {
    await this.session.frontend.reply(502, `${command.verb} is not supported on this listener.`);
    return undefined;
  }
}

export interface Harness {
  session: FtpSession;
  client: FakeControl;
  backend: FakeBackend;
  data: FakeData;
  /** The session's run(), started. */
  running: Promise<void>;
}

const noRules: LimitRule[] = [];

/** A session over fakes: no sockets, no timers (all timeouts off). */
export function startSession(
  options: { backend?: FakeBackend; limits?: LimitRule[]; maxLoginAttempts?: number } = {},
): Harness {
  const client = new FakeControl();
  const backend = options.backend ?? loginBackend();
  const data = new FakeData();
  const pool = { showFeatures: false, directDataTransfers: false, lingerTimeout: 1000 } as PoolConfig;
  const session = new FtpSession(
    {
      id: 'test',
      tracked: untrackedSession,
      frontend: client,
      log: silentLogger,
      security: new FrontendSecurity(undefined, undefined, silentLogger),
      listener: {
        maxCommandLength: 512,
        maxLoginAttempts: options.maxLoginAttempts ?? 3,
        timeouts: { login: 0, idle: 0, noTransfer: 0, stalled: 0 },
      } as FtpSessionParts['listener'],
      limits: new CommandLimits(options.limits ?? noRules),
      clientAddress: '192.0.2.7',
      data: () => data,
    },
    (self) =>
      new TestRole(
        self,
        { control: backend, dataSetup: { prepare: async () => localReply(425, 'unused') } },
        pool,
      ),
  );
  return { session, client, backend, data, running: session.run() };
}
