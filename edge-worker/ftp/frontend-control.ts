import type { Socket } from 'node:net';
import { AsyncQueue } from './async-queue.js';
import { type CommandEvent, CommandParser } from './command-parser.js';
import { encodeReply, type FtpReply, localReply } from './reply.js';

/** Commands a client may queue before we stop reading its socket (pipelining is allowed, flooding is not). */
const MAX_QUEUED_COMMANDS = 32;
/** How long a closing connection may take to deliver its last reply to a client that does not read. */
const LAST_REPLY_GRACE_MS = 2000;

/**
 * The client's control connection: a queue of parsed commands in, replies out. Reading pauses while
 * too many commands wait, and writing waits for the socket to drain, so a client that sends without
 * reading cannot grow our memory.
 */
export class FrontendControl {
  readonly commands: AsyncQueue<CommandEvent>;
  private readonly parser: CommandParser;
  private closedReason: string | undefined;
  private closing = false;

  constructor(
    readonly socket: Socket,
    maxLineBytes: number,
  ) {
    this.parser = new CommandParser(maxLineBytes);
    this.commands = new AsyncQueue((size) => {
      if (size >= MAX_QUEUED_COMMANDS) socket.pause();
      else if (socket.isPaused() && !socket.destroyed) socket.resume();
    });
    socket.on('data', (chunk: Buffer) => {
      for (const event of this.parser.push(chunk)) this.commands.push(event);
    });
    socket.on('end', () => this.markClosed('client closed the connection'));
    socket.on('close', () => this.markClosed('client connection closed'));
    socket.on('error', (err) => this.markClosed(`client connection error: ${err.message}`));
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
    await new Promise<void>((resolve) => {
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
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

  private markClosed(reason: string): void {
    this.closedReason ??= reason;
    this.commands.close();
  }
}
