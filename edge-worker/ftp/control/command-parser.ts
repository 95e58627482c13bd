import { WIRE_ENCODING } from './wire.js';

/** A client command: the verb upper-cased, the argument exactly as sent (latin1 wire text). */
export interface FtpCommand {
  verb: string;
  arg: string;
}

export type CommandEvent =
  | { kind: 'command'; command: FtpCommand }
  | { kind: 'too-long' }
  /** A line whose verb is not letters only (a leading space or tab, a tab after the verb, a digit...). */
  | { kind: 'bad-verb' };

/**
 * RFC 959 section 5.3: "The command codes themselves are alphabetic characters terminated by the
 * character <SP> (Space) if parameters follow and Telnet-EOL otherwise." Anything else is refused
 * here, before `<Limit>` and the session look at the verb: a backend that splits commands on tabs or
 * skips leading blanks would otherwise run `\tSTOR x` or `STOR\tx` as the STOR a `<Limit>` denies.
 */
const VERB = /^[A-Za-z]+$/;

const IAC = 0xff;
const CR = 0x0d;
const LF = 0x0a;
const NUL = 0x00;
/** WILL, WONT, DO, DONT: followed by one option byte. */
const isNegotiation = (byte: number) => byte >= 0xfb && byte <= 0xfe;
/** Other Telnet commands (IP, DM, ...). */
const isTelnetCommand = (byte: number) => byte >= 0xf0 && byte <= 0xfa;

/**
 * Splits a client's control stream into commands. Telnet sequences are removed (clients send
 * IAC IP IAC DM before ABOR; the urgent byte itself never reaches us, since Node cannot read
 * out-of-band data, so an IAC followed by an ordinary byte drops only the IAC, and a stray DM at the
 * start of a line is dropped). A line ends at LF or
 * at CR: Python's ftplib sends "ABOR\r\n" as urgent data, which loses the final LF on the way.
 * A line longer than the limit is discarded as it arrives, so it never grows memory.
 */
export class CommandParser {
  private line: number[] = [];
  private overflow = false;
  private telnet: 'none' | 'iac' | 'option' = 'none';
  private afterCr = false;

  constructor(private readonly maxLineBytes: number) {}

  push(chunk: Buffer): CommandEvent[] {
    const events: CommandEvent[] = [];
    for (const byte of chunk) {
      if (this.telnet === 'option') {
        this.telnet = 'none';
        continue;
      }
      if (this.telnet === 'iac') {
        this.telnet = 'none';
        if (byte === IAC) {
          this.append(IAC);
          continue;
        }
        if (isNegotiation(byte)) {
          this.telnet = 'option';
          continue;
        }
        if (isTelnetCommand(byte)) continue;
        // Not a Telnet command: the IAC was the remains of a Synch whose DM was urgent data.
      } else if (byte === IAC) {
        this.telnet = 'iac';
        continue;
      }
      if (this.afterCr && (byte === LF || byte === NUL)) {
        this.afterCr = false;
        continue;
      }
      this.afterCr = false;
      if (byte === CR || byte === LF) {
        this.afterCr = byte === CR;
        const event = this.finishLine();
        if (event) events.push(event);
        continue;
      }
      // A Telnet command byte at the start of a line is what is left of a Synch whose IAC travelled as
      // urgent data (BSD ftp sends IAC out of band, then DM in band): no verb starts with one.
      if (this.line.length === 0 && !this.overflow && byte >= 0xf0) continue;
      this.append(byte);
    }
    return events;
  }

  private append(byte: number): void {
    if (this.overflow) return;
    if (this.line.length >= this.maxLineBytes) {
      this.overflow = true;
      this.line = [];
      return;
    }
    this.line.push(byte);
  }

  private finishLine(): CommandEvent | undefined {
    if (this.overflow) {
      this.overflow = false;
      return { kind: 'too-long' };
    }
    const text = Buffer.from(this.line).toString(WIRE_ENCODING);
    this.line = [];
    if (text.trim() === '') return undefined;
    const space = text.indexOf(' ');
    const word = space < 0 ? text : text.slice(0, space);
    // Tested before upper-casing, which turns latin1 "ß" into "SS".
    if (!VERB.test(word)) return { kind: 'bad-verb' };
    const verb = word.toUpperCase();
    const arg = space < 0 ? '' : text.slice(space + 1);
    return { kind: 'command', command: { verb, arg } };
  }
}
