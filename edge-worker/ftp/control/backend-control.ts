import type { Socket } from 'node:net';
import type { Logger } from '../../log/logger.js';
import type { BackendControlTls } from '../tls/backend-tls.js';
import { type FtpReply, isPreliminary, replyText } from './reply.js';
import { ReplyParseError, ReplyParser } from './reply-parser.js';
import { toWire } from './wire.js';

/** The backend control connection went away or spoke garbage; the session cannot go on. */
export class BackendLostError extends Error {
  override readonly name: string = 'BackendLostError';
}

/** The backend sent more replies nobody asked for (or more 1xx marks) than any honest server does. */
export class BackendFloodError extends BackendLostError {
  override readonly name = 'BackendFloodError';
}

/**
 * Replies nobody asked for that one backend connection may send (an honest server sends one 421 at
 * most); and 1xx marks one command may have (a transfer has one). Past either the session ends with 421.
 */
export const MAX_UNSOLICITED_REPLIES = 64;
export const MAX_PRELIMINARY_REPLIES = 64;

/**
 * A handler of a reply relayed to the client. When it returns a promise (the client's socket is not
 * draining), the backend's socket is paused until the promise settles: the client's backpressure
 * reaches the backend, so a backend that writes faster than the client reads cannot grow our memory.
 */
export type RelayedReplyHandler = (reply: FtpReply) => void | Promise<void>;

interface Pending {
  onPreliminary: RelayedReplyHandler | undefined;
  preliminaryLimit: number;
  preliminaries: number;
  /** A reply that may never come: this entry takes a reply only when this accepts it. */
  claims: ((reply: FtpReply) => boolean) | undefined;
  /** An optional reply not come this long after its entry reached the head of the line: none comes. */
  expireMs: number | undefined;
  expiry: NodeJS.Timeout | undefined;
  resolve: (reply: FtpReply | undefined) => void;
  reject: (err: Error) => void;
}

export interface CommandOptions {
  /** Called for each 1xx reply before the final one (e.g. 150 before a transfer). */
  onPreliminary?: RelayedReplyHandler;
  /**
   * How many 1xx replies the command can have; one more ends it as if it were final. A transfer has
   * one mark (RFC 959), yet pure-ftpd ends a transfer whose data connection was closed under it with
   * a second 150 and no final reply: without this, that command would take the next command's reply.
   */
  preliminaryLimit?: number;
}

/**
 * The proxy's control connection to a backend. Every command sent expects one final reply; replies
 * are matched to commands in order (RFC 959 servers answer in order), so a command whose reply
 * nobody awaits any more (after a failed transfer, say) cannot shift the replies of later commands.
 * Replies nobody asked for (a 421 on idle timeout) go to `onUnsolicited`.
 */
export class BackendControl {
  /** FEAT of the backend, key (upper-case first word) -> rest of the line. Filled after connecting. */
  features = new Map<string, string>();
  /** Settles once the FEAT asked after connecting has been answered (or failed). */
  featuresReady: Promise<void> = Promise.resolve();
  onUnsolicited: RelayedReplyHandler = () => {};
  /** Replies nobody asked for so far (bounded by MAX_UNSOLICITED_REPLIES). */
  unsolicitedCount = 0;
  /** Settles when the connection is gone, with the reason. Never rejects. */
  readonly lost: Promise<BackendLostError>;
  /** Set once the control connection runs TLS (implicit FTPS or after AUTH TLS). */
  tls: BackendControlTls | undefined;
  /** The connection commands go over: the TCP socket, then the TLS socket on top of it. */
  socket: Socket;
  /** The session's logger, for proxy.ftp.ctrl traces of what goes over this connection. */
  log: Logger | undefined = undefined;

  private readonly parser = new ReplyParser();
  private readonly pending: Pending[] = [];
  private lostError: BackendLostError | undefined;
  private markLost!: (err: BackendLostError) => void;
  /** Relayed replies still waiting for the client's socket to drain; reading is paused while > 0. */
  private relaysInFlight = 0;

  // Every session's end fires `end` and then `close` (or `close` alone): only the first reason is
  // kept, so the others are not built (an Error captures a stack, which every login would pay).
  private readonly listeners = {
    data: (chunk: Buffer) => this.onData(chunk),
    end: () => {
      if (!this.lostError) this.fail(new BackendLostError('backend closed the control connection'));
    },
    close: () => {
      if (!this.lostError) this.fail(new BackendLostError('backend control connection closed'));
    },
    error: (err: Error) => {
      if (!this.lostError)
        this.fail(new BackendLostError(`backend control connection: ${err.message}`, { cause: err }));
    },
  };

  constructor(socket: Socket) {
    this.lost = new Promise((resolve) => {
      this.markLost = resolve;
    });
    this.socket = socket;
    this.attachSocket(socket);
  }

  /**
   * Stops reading the connection so TLS can take it over (after the backend's 234 to AUTH TLS);
   * anything the backend sent after its reply would be a protocol error, and is dropped with the parser.
   */
  detachSocket(): Socket {
    const socket = this.socket;
    socket.off('data', this.listeners.data);
    socket.off('end', this.listeners.end);
    socket.off('close', this.listeners.close);
    socket.off('error', this.listeners.error);
    // Errors of the TCP socket now surface on the TLS socket; this keeps one from being unhandled meanwhile.
    socket.on('error', () => {});
    socket.pause();
    return socket;
  }

  /** Reads replies from `socket` from now on (the TLS socket after AUTH TLS). */
  attachSocket(socket: Socket): void {
    this.socket = socket;
    socket.on('data', this.listeners.data);
    socket.on('end', this.listeners.end);
    socket.on('close', this.listeners.close);
    socket.on('error', this.listeners.error);
  }

  get isLost(): boolean {
    return this.lostError !== undefined;
  }

  /** Sends a command line (verb and argument, without CRLF) and resolves with its final reply. */
  command(line: string, options: CommandOptions = {}): Promise<FtpReply> {
    if (this.lostError) return Promise.reject(this.lostError);
    const result = this.enqueue(options) as Promise<FtpReply>;
    this.traceCommand(line);
    this.socket.write(toWire(`${line}\r\n`));
    return result;
  }

  /**
   * Sends a command whose reply is taken only when `claims` accepts it: in line, the first reply
   * that arrives goes to it if it does; otherwise this resolves with undefined, as if the command had
   * no reply, and that reply goes to the next in line (see expectOptionalReply).
   */
  commandOptional(
    line: string,
    claims: (reply: FtpReply) => boolean,
    expireMs?: number,
  ): Promise<FtpReply | undefined> {
    if (this.lostError) return Promise.reject(this.lostError);
    const result = this.enqueue({}, claims, expireMs);
    this.traceCommand(line);
    this.socket.write(toWire(`${line}\r\n`));
    return result;
  }

  /** Waits for a reply without sending anything: the banner after connecting. */
  expectReply(options: CommandOptions = {}): Promise<FtpReply> {
    if (this.lostError) return Promise.reject(this.lostError);
    return this.enqueue(options) as Promise<FtpReply>;
  }

  /**
   * Waits, in line, for a reply that may never come: the answer of a backend that does not speak
   * the PROXY protocol to its header. The first reply that arrives is taken if `claims` accepts it;
   * otherwise this resolves with undefined and the reply goes to the next in line. Either way no
   * reply is ever matched to a later command than its own.
   */
  expectOptionalReply(claims: (reply: FtpReply) => boolean): Promise<FtpReply | undefined> {
    if (this.lostError) return Promise.reject(this.lostError);
    return this.enqueue({}, claims);
  }

  private enqueue(
    options: CommandOptions,
    claims?: (reply: FtpReply) => boolean,
    expireMs?: number,
  ): Promise<FtpReply | undefined> {
    const result = new Promise<FtpReply | undefined>((resolve, reject) => {
      this.pending.push({
        onPreliminary: options.onPreliminary,
        preliminaryLimit: options.preliminaryLimit ?? Number.POSITIVE_INFINITY,
        preliminaries: 0,
        claims,
        expireMs,
        expiry: undefined,
        resolve,
        reject,
      });
    });
    this.armExpiry();
    return result;
  }

  /** Starts the head entry's expiry (an optional reply with a time limit), once it is at the head. */
  private armExpiry(): void {
    const head = this.pending[0];
    if (!head || head.expireMs === undefined || head.expiry) return;
    head.expiry = setTimeout(() => {
      if (this.pending[0] !== head) return;
      this.pending.shift();
      head.resolve(undefined);
      this.armExpiry();
    }, head.expireMs).unref();
  }

  /** Takes the head entry off the line (its reply came, or it gave way). */
  private shiftHead(): Pending | undefined {
    const head = this.pending.shift();
    clearTimeout(head?.expiry);
    this.armExpiry();
    return head;
  }

  destroy(): void {
    this.socket.destroy();
    this.fail(new BackendLostError('backend connection closed by the proxy'));
  }

  private onData(chunk: Buffer): void {
    let replies: FtpReply[];
    try {
      replies = this.parser.push(chunk);
    } catch (err) {
      const reason = err instanceof ReplyParseError ? err.message : String(err);
      this.fail(new BackendLostError(`backend protocol error: ${reason}`, { cause: err }));
      this.socket.destroy();
      return;
    }
    for (const reply of replies) this.dispatch(reply);
  }

  private traceCommand(line: string): void {
    this.log?.trace(
      'proxy.ftp.ctrl',
      9,
      () => `proxied command '${traceableCommand(line)}' from frontend to backend`,
    );
  }

  private dispatch(reply: FtpReply): void {
    if (this.lostError) return;
    this.log?.trace(
      'proxy.ftp.ctrl',
      9,
      () => `received '${describeReply(reply)}' response from backend to frontend`,
    );
    // Optional replies that did not come: this one is a later command's.
    while (this.pending[0]?.claims && !this.pending[0].claims(reply)) this.shiftHead()?.resolve(undefined);
    const head = this.pending[0];
    if (!head) {
      this.unsolicitedCount += 1;
      if (this.unsolicitedCount > MAX_UNSOLICITED_REPLIES) {
        this.flooded(`more than ${MAX_UNSOLICITED_REPLIES} unsolicited replies`);
        return;
      }
      this.holdWhile(this.onUnsolicited(reply));
      return;
    }
    if (isPreliminary(reply) && head.preliminaries < head.preliminaryLimit) {
      head.preliminaries += 1;
      if (head.preliminaries > MAX_PRELIMINARY_REPLIES) {
        this.flooded(`more than ${MAX_PRELIMINARY_REPLIES} preliminary replies to one command`);
        return;
      }
      this.holdWhile(head.onPreliminary?.(reply));
      return;
    }
    this.shiftHead();
    head.resolve(reply);
  }

  /** Pauses reading while a relayed reply waits for the client (see RelayedReplyHandler). */
  private holdWhile(sent: void | Promise<void>): void {
    if (!sent) return;
    this.relaysInFlight += 1;
    this.socket.pause();
    const socket = this.socket;
    const release = () => {
      this.relaysInFlight -= 1;
      // After AUTH TLS the reading socket changed; the old one stays paused for TLS to take over.
      if (this.relaysInFlight === 0 && !this.lostError && socket === this.socket && !socket.destroyed)
        socket.resume();
    };
    sent.then(release, release);
  }

  private flooded(reason: string): void {
    this.fail(new BackendFloodError(`backend flooded the session: ${reason}`));
    this.socket.destroy();
  }

  private fail(err: BackendLostError): void {
    if (this.lostError) return;
    this.lostError = err;
    for (const pending of this.pending.splice(0)) {
      clearTimeout(pending.expiry);
      pending.reject(err);
    }
    this.markLost(err);
  }
}

/** Parses a FEAT reply's feature lines: " MLST type*;size*;" -> MLST => "type*;size*;". */
/** What a session needs of a backend's control connection: BackendControl, or a fake in unit tests. */
export type BackendChannel = Pick<
  BackendControl,
  'command' | 'isLost' | 'lost' | 'onUnsolicited' | 'unsolicitedCount' | 'destroy'
>;

export function parseFeatures(reply: FtpReply): Map<string, string> {
  const features = new Map<string, string>();
  if (reply.code !== 211) return features;
  for (const line of reply.lines.slice(1, -1)) {
    const text = line.trim();
    if (text === '') continue;
    const space = text.indexOf(' ');
    const key = (space < 0 ? text : text.slice(0, space)).toUpperCase();
    features.set(key, space < 0 ? '' : text.slice(space + 1));
  }
  return features;
}

export function describeReply(reply: FtpReply): string {
  return `${reply.code} ${replyText(reply)}`;
}

/** A command line as mod_proxy traces it: a password never appears (`PASS (hidden)`). */
function traceableCommand(line: string): string {
  return /^(PASS|ACCT|ADAT)\b/i.test(line) ? `${line.slice(0, 4).toUpperCase()} (hidden)` : line;
}
