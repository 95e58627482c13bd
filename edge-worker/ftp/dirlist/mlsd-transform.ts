/**
 * Streaming LIST → MLSD translation (mod_proxy's `ProxyDirectoryListPolicy LIST`, http://www.proftpd.org/docs/contrib/mod_proxy.html#ProxyDirectoryListPolicy): the
 * proxy answers a client's MLSD by sending {@link listCommandFor}'s `LIST -aln [path]` to the backend and
 * piping the listing's bytes through {@link createMlsdTransform} to the client.
 *
 * The transform holds at most one partial line (capped at `maxLineLength`); everything before the last
 * line break of a chunk is converted and pushed right away. Text is handled as latin1 (see `../control/wire.ts`),
 * so names reach the client byte for byte as the backend sent them.
 */

import { Transform, type TransformCallback } from 'node:stream';
import { WIRE_ENCODING } from '../control/wire.js';
import { formatMlsxEntry, type MlstFact } from './facts.js';
import { ListLineParser, type SkipReason } from './list-line.js';

/** Longest listing line kept; a longer one is dropped (and reported) instead of growing the buffer. */
export const DEFAULT_MAX_LINE_LENGTH = 64 * 1024;

/** How much of an overlong line is passed to `onSkippedLine`. */
const OVERLONG_REPORT_LENGTH = 256;

const LF = 0x0a;

/** Converted lines are pushed in batches of about this many bytes. */
const PUSH_BATCH = 64 * 1024;

export interface MlsdTransformOptions {
  /** The selected facts (see `facts.ts`); output order is fixed whatever the set's order. */
  facts: ReadonlySet<MlstFact>;
  /** mod_proxy's `UseSlink` option: `OS.unix=slink:<target>` instead of `OS.unix=symlink`. */
  useSlink: boolean;
  /** Reference time for the year of `Mon DD HH:MM` dates; defaults to when the transform is created. */
  now?: Date;
  /**
   * Told about every line that is skipped: `unparseable` lines in full, `overlong` ones as their first
   * 256 characters. `total N` and blank lines are skipped silently. The text is latin1, as on the wire.
   */
  onSkippedLine?: (line: string, reason: SkipReason) => void;
  /** Defaults to {@link DEFAULT_MAX_LINE_LENGTH} (64 KiB): bytes before the LF (a CR before it counts). */
  maxLineLength?: number;
}

/**
 * The LIST command that feeds the translation: `LIST -al` (user and group names) when a name fact is
 * selected, else `LIST -aln` (numeric ids), with the MLSD path appended as given. Backends read the
 * argument differently: pure-ftpd splits it at blanks (a path with a blank lists nothing unless written
 * `sub\ dir`), ProFTPD and vsftpd take it whole.
 */
export function listCommandFor(facts: ReadonlySet<MlstFact>, path?: string): string {
  const wantsNames = facts.has('UNIX.ownername') || facts.has('UNIX.groupname');
  const command = wantsNames ? 'LIST -al' : 'LIST -aln';
  return path === undefined || path === '' ? command : `${command} ${path}`;
}

/** A Transform from LIST bytes to MLSD bytes (`fact=value;...; name\r\n`, latin1). */
export class MlsdTransform extends Transform {
  readonly #parser: ListLineParser;
  readonly #format: { facts: ReadonlySet<MlstFact>; useSlink: boolean };
  readonly #maxLineLength: number;
  /**
   * The unfinished last line of the input so far, as copies of the chunks' tails (a view into a chunk would
   * keep the whole chunk alive), joined only once the line is complete.
   */
  #held: Buffer[] = [];
  #heldLength = 0;
  /** Inside a line that outgrew the cap: everything up to its line break is dropped. */
  #discarding = false;
  #out: string[] = [];
  #outLength = 0;

  constructor(options: MlsdTransformOptions) {
    super();
    this.#parser = new ListLineParser({
      now: options.now ?? new Date(),
      onSkippedLine: options.onSkippedLine,
    });
    this.#format = { facts: options.facts, useSlink: options.useSlink };
    this.#maxLineLength = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
  }

  /** Bytes of the unfinished line held back; never more than `maxLineLength`. */
  get pendingLength(): number {
    return this.#heldLength;
  }

  override _transform(chunk: Buffer | string, encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk;
      let start = 0;
      for (let end = bytes.indexOf(LF, start); end >= 0; end = bytes.indexOf(LF, start)) {
        const piece = bytes.subarray(start, end);
        start = end + 1;
        if (this.#discarding) {
          this.#discarding = false;
        } else if (this.#heldLength + piece.length > this.#maxLineLength) {
          this.#dropOverlong(piece);
        } else {
          this.#line(this.#takeLine(piece));
        }
      }
      const rest = bytes.subarray(start);
      if (!this.#discarding && rest.length > 0) {
        if (this.#heldLength + rest.length > this.#maxLineLength) {
          this.#dropOverlong(rest);
          this.#discarding = true;
        } else {
          this.#held.push(Buffer.from(rest));
          this.#heldLength += rest.length;
        }
      }
      this.#pushOut();
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      // A last line without a line break still counts.
      if (!this.#discarding && this.#heldLength > 0) this.#line(this.#takeLine(Buffer.alloc(0)));
      this.#pushOut();
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  /** The held part of the line plus its final `piece`, as latin1 text; the hold is emptied. */
  #takeLine(piece: Buffer): string {
    const line = this.#heldLength === 0 ? piece : Buffer.concat([...this.#held, piece]);
    this.#held = [];
    this.#heldLength = 0;
    return line.toString(WIRE_ENCODING);
  }

  /** Reports an overlong line (held part plus `piece`) by its first bytes and forgets what was held of it. */
  #dropOverlong(piece: Buffer): void {
    const head = this.#takeLine(piece.subarray(0, OVERLONG_REPORT_LENGTH)).slice(0, OVERLONG_REPORT_LENGTH);
    this.#parser.skip(head, 'overlong');
  }

  #line(raw: string): void {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const entry = this.#parser.parse(line);
    if (entry === undefined) return;
    const mlsd = `${formatMlsxEntry(entry, this.#format)}\r\n`;
    this.#out.push(mlsd);
    this.#outLength += mlsd.length;
    if (this.#outLength >= PUSH_BATCH) this.#pushOut();
  }

  #pushOut(): void {
    if (this.#out.length === 0) return;
    const text = this.#out.join('');
    this.#out = [];
    this.#outLength = 0;
    this.push(Buffer.from(text, WIRE_ENCODING));
  }
}

export function createMlsdTransform(options: MlsdTransformOptions): MlsdTransform {
  return new MlsdTransform(options);
}
