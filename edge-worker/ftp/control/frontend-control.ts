import type { Socket } from 'node:net';
import { AsyncQueue } from './async-queue.js';
import { type CommandEvent, CommandParser } from './command-parser.js';
import { encodeReply, type FtpReply, localReply } from './reply.js';

/** Commands a client may queue before we stop reading its socket (pipelining is allowed, flooding is not). */
const MAX_QUEUED_COMMANDS = 32;
/** How long a closing connection may take to deliver its last reply to a client that does not read. */
const LAST_REPLY_GRACE_MS = 2000;

/**
 * What a session needs of the client's control connection: commands in, replies out, closing.
 * FrontendControl is the socket's; unit tests drive a session through a small fake of it.
 */
export interface ControlChannel {
  readonly commands: AsyncQueue<CommandEvent>;
  readonly closeReason: string | undefined;
  reply(code: number, text: string | string[]): Promise<void>;
  send(reply: FtpReply): Promise<void>;
  sendAndClose(reply: FtpReply): Promise<void>;
  end(): void;
  destroy(): void;
  startTls(reply: FtpReply, secure: (socket: Socket) => Promise<Socket>): Promise<string | undefined>;
}

/**
 * The client's control connection: a queue of parsed commands in, replies out. Reading pauses while
 * too many commands wait, and writing waits for the socket to drain, so a client that sends without
 * reading cannot grow our memory.
 */
export class FrontendControl implements ControlChannel {
  readonly commands: AsyncQueue<CommandEvent>;
  private closedReason: string | undefined;
  private closing = false;
  private drainWait: Promise<void> | undefined;

  /** The connection replies go to: the TCP socket, or the TLS socket once the client negotiated TLS. */
  socket: Socket;
  private parser: CommandParser;
  private readonly listeners = {
    data: (chunk: Buffer) => {
      for (const event of this.parser.push(chunk)) this.commands.push(event);
    },
    end: () => this.markClosed('client closed the connection'),
    close: () => this.markClosed('client connection closed'),
    error: (err: Error) => this.markClosed(`client connection error: ${err.message}`),
  };

  constructor(
    socket: Socket,
    private readonly maxLineBytes: number,
  ) {
    this.socket = socket;
    this.parser = new CommandParser(maxLineBytes);
    this.commands = new AsyncQueue((size) => {
      if (size >= MAX_QUEUED_COMMANDS) this.socket.pause();
      else if (this.socket.isPaused() && !this.socket.destroyed) this.socket.resume();
    });
    this.attach(socket);
  }

  /**
   * AUTH TLS: `reply` (234) goes out in plain text, then `secure` runs the handshake on the TCP
   * socket and commands are read from the TLS socket. Whatever the client sent after AUTH TLS in
   * plain text is dropped, so nobody can inject commands into the protected session (CVE-2011-0411).
   * Resolves with the reason when the handshake failed; the connection is then closed.
   */
  async startTls(reply: FtpReply, secure: (socket: Socket) => Promise<Socket>): Promise<string | undefined> {
    const raw = this.socket;
    this.detach(raw);
    // Held in the socket's buffer from now on: the TLS socket takes over what arrived (the ClientHello).
    raw.pause();
    this.parser = new CommandParser(this.maxLineBytes);
    this.commands.clear();
    await new Promise<void>((resolve) => raw.write(encodeReply(reply), () => resolve()));
    try {
      const secured = await secure(raw);
      this.attach(secured);
      return undefined;
    } catch (err) {
      raw.destroy();
      const reason = err instanceof Error ? err.message : String(err);
      this.markClosed(reason);
      return reason;
    }
  }

  get isClosed(): boolean {
    return this.closedReason !== undefined;
  }

  get closeReason(): string | undefined {
    return this.closedReason;
  }

  async reply(code: number, text: string | string[]): Promise<void> {
    await this.send(localReply(code, text));
  }

  async send(reply: FtpReply): Promise<void> {
    if (this.socket.destroyed || !this.socket.writable) return;
    if (this.socket.write(encodeReply(reply))) return;
    await this.drained();
  }

  /**
   * One wait for 'drain' shared by every reply written meanwhile: many writers (a backend's relayed
   * replies) must not each add listeners to the socket, whose removal on close is quadratic.
   */
  private drained(): Promise<void> {
    if (this.drainWait) return this.drainWait;
    const socket = this.socket;
    const wait = new Promise<void>((resolve) => {
      const done = () => {
        socket.off('drain', done);
        socket.off('close', done);
        if (this.drainWait === wait) this.drainWait = undefined;
        resolve();
      };
      socket.on('drain', done);
      socket.on('close', done);
    });
    this.drainWait = wait;
    return wait;
  }

  /** Sends a last reply and closes the connection once it is written. */
  async sendAndClose(reply: FtpReply): Promise<void> {
    if (!this.socket.destroyed && this.socket.writable) {
      this.closing = true;
      this.socket.end(encodeReply(reply));
    }
    this.commands.close();
  }

  /** Closes the connection once everything sent so far is written. */
  end(): void {
    if (!this.socket.destroyed && this.socket.writable) {
      this.closing = true;
      this.socket.end();
    }
    this.commands.close();
  }

  /** Releases the connection; a last reply still being written gets a short grace period to arrive. */
  destroy(): void {
    this.commands.close();
    if (!this.closing || this.socket.destroyed || this.socket.writableFinished) {
      this.socket.destroy();
      return;
    }
    const timer = setTimeout(() => this.socket.destroy(), LAST_REPLY_GRACE_MS);
    this.socket.once('finish', () => this.socket.destroy());
    this.socket.once('close', () => clearTimeout(timer));
  }

  private attach(socket: Socket): void {
    this.socket = socket;
    socket.on('data', this.listeners.data);
    socket.on('end', this.listeners.end);
    socket.on('close', this.listeners.close);
    socket.on('error', this.listeners.error);
  }

  private detach(socket: Socket): void {
    socket.off('data', this.listeners.data);
    socket.off('end', this.listeners.end);
    socket.off('close', this.listeners.close);
    socket.off('error', this.listeners.error);
    socket.on('error', () => {});
  }

  private markClosed(reason: string): void {
    this.closedReason ??= reason;
    this.commands.close();
  }
}
