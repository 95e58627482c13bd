import type { FtpReply } from './reply.js';
import { WIRE_ENCODING } from './wire.js';

export class ReplyParseError extends Error {
  override readonly name = 'ReplyParseError';
}

export interface ReplyParserLimits {
  /** Longest reply line accepted. */
  maxLineBytes: number;
  /** Largest multi-line reply accepted (STAT of a big directory is the usual giant). */
  maxReplyBytes: number;
}

const DEFAULT_LIMITS: ReplyParserLimits = { maxLineBytes: 8192, maxReplyBytes: 1024 * 1024 };
const FIRST_LINE = /^([1-6]\d\d)([ -]|$)/;

/**
 * Incremental RFC 959 reply parser with the leniencies real servers need: a bare "226" closes a
 * multi-line reply, continuation lines need not start with a space (IIS), blank lines between replies
 * are skipped. Memory is bounded by the limits; exceeding them is a protocol error.
 */
export class ReplyParser {
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private current: FtpReply | undefined;
  private currentBytes = 0;
  private readonly limits: ReplyParserLimits;

  constructor(limits: Partial<ReplyParserLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /** Feeds received bytes; returns the replies they complete. Throws ReplyParseError on garbage. */
  push(chunk: Buffer): FtpReply[] {
    const replies: FtpReply[] = [];
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(0x0a, start);
      if (newline < 0) break;
      const piece = chunk.subarray(start, newline);
      const line = this.partialBytes > 0 ? Buffer.concat([...this.partial, piece]) : piece;
      this.partial = [];
      this.partialBytes = 0;
      start = newline + 1;
      if (line.length > this.limits.maxLineBytes) {
        throw new ReplyParseError(`reply line longer than ${this.limits.maxLineBytes} bytes`);
      }
      const end = line.length > 0 && line[line.length - 1] === 0x0d ? line.length - 1 : line.length;
      const reply = this.line(line.toString(WIRE_ENCODING, 0, end));
      if (reply) replies.push(reply);
    }
    const rest = chunk.subarray(start);
    if (rest.length > 0) {
      this.partialBytes += rest.length;
      if (this.partialBytes > this.limits.maxLineBytes) {
        throw new ReplyParseError(`reply line longer than ${this.limits.maxLineBytes} bytes`);
      }
      this.partial.push(rest);
    }
    return replies;
  }

  private line(text: string): FtpReply | undefined {
    if (this.current === undefined) {
      if (text.trim() === '') return undefined;
      const match = FIRST_LINE.exec(text);
      if (!match) throw new ReplyParseError(`malformed reply line: ${JSON.stringify(text.slice(0, 80))}`);
      const reply: FtpReply = { code: Number(match[1]), lines: [text] };
      if (match[2] !== '-') return reply;
      this.current = reply;
      this.currentBytes = text.length;
      return undefined;
    }
    const current = this.current;
    this.currentBytes += text.length + 2;
    if (this.currentBytes > this.limits.maxReplyBytes) {
      throw new ReplyParseError(`multi-line reply larger than ${this.limits.maxReplyBytes} bytes`);
    }
    current.lines.push(text);
    const code = String(current.code);
    if (text.startsWith(code) && (text.length === 3 || text[3] === ' ')) {
      this.current = undefined;
      return current;
    }
    return undefined;
  }
}
