/**
 * Follows a relayed SFTP stream (draft-ietf-secsh-filexfer-02, the version OpenSSH speaks) in both
 * directions and reports file operations: open/close with the bytes read and written through the
 * handle, rename, remove, mkdir, rmdir, setstat, stat. Only packet headers are copied (at most
 * HEADER_CAP bytes of a packet); file data is counted and skipped, so the relay does not slow down.
 */

const FXP = {
  OPEN: 3,
  CLOSE: 4,
  READ: 5,
  WRITE: 6,
  LSTAT: 7,
  FSTAT: 8,
  SETSTAT: 9,
  OPENDIR: 11,
  REMOVE: 13,
  MKDIR: 14,
  RMDIR: 15,
  STAT: 17,
  RENAME: 18,
  SYMLINK: 20,
  EXTENDED: 200,
  STATUS: 101,
  HANDLE: 102,
  DATA: 103,
  ATTRS: 105,
} as const;

const STATUS_NAMES = [
  'ok',
  'eof',
  'no such file',
  'permission denied',
  'failure',
  'bad message',
  'no connection',
  'connection lost',
  'op unsupported',
];

/** SSH_FXF_WRITE / CREAT / TRUNC / APPEND bits of SSH_FXP_OPEN. */
const FXF_WRITE = 0x02;

/** Bytes of a packet kept for parsing: type, id, and one or two paths. */
const HEADER_CAP = 8 * 1024;
/**
 * WRITE and DATA packets carry file data: only type, id, handle (at most 256 bytes), offset and
 * length are kept, so a header split across chunks costs a copy of a few hundred bytes, not 8 KiB.
 */
const DATA_HEADER_CAP = 1 + 4 + 4 + 256 + 8 + 4;
/** Outstanding requests remembered; a client keeping more open loses audit detail, not data. */
const MAX_PENDING = 4096;

export type SftpOperation =
  | 'open'
  | 'close'
  | 'rename'
  | 'remove'
  | 'mkdir'
  | 'rmdir'
  | 'setstat'
  | 'stat'
  | 'opendir'
  | 'symlink';

export interface SftpAuditEvent {
  op: SftpOperation;
  path: string;
  /** rename / symlink: the second path. */
  target?: string;
  /** close: the bytes read and written through the handle. */
  bytesRead?: number;
  bytesWritten?: number;
  /** open: whether the file was opened for writing. */
  write?: boolean;
  /** close: milliseconds since the open. */
  durationMs?: number;
  /** "ok" or the SSH_FX status name. */
  result: string;
}

interface Pending {
  type: number;
  path?: string;
  target?: string;
  handle?: string;
  write?: boolean;
}

interface OpenHandle {
  path: string;
  directory: boolean;
  write: boolean;
  read: number;
  written: number;
  openedAt: number;
}

/** Reassembles SFTP packet headers from chunks of one direction. */
class PacketReader {
  /** Bytes of the current packet still to come (after its length field), when inside one. */
  private remaining = 0;
  private length = 0;
  private captured: Buffer[] = [];
  private capturedBytes = 0;
  private cap = HEADER_CAP;
  private lengthBytes: number[] = [];

  constructor(private readonly onPacket: (header: Buffer, length: number) => void) {}

  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.remaining === 0) {
        // Reading the 4-byte length field, possibly split across chunks.
        this.lengthBytes.push(chunk[offset] ?? 0);
        offset += 1;
        if (this.lengthBytes.length < 4) continue;
        const [a = 0, b = 0, c = 0, d = 0] = this.lengthBytes;
        this.lengthBytes = [];
        this.length = ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
        this.remaining = this.length;
        this.captured = [];
        this.capturedBytes = 0;
        continue;
      }
      const take = Math.min(this.remaining, chunk.length - offset);
      if (this.capturedBytes === 0) {
        const type = chunk[offset];
        this.cap = type === 6 || type === 103 ? DATA_HEADER_CAP : HEADER_CAP;
      }
      const keep = Math.min(take, this.cap - this.capturedBytes);
      if (keep > 0) {
        this.captured.push(chunk.subarray(offset, offset + keep));
        this.capturedBytes += keep;
      }
      offset += take;
      this.remaining -= take;
      if (this.remaining === 0) {
        const header =
          this.captured.length === 1 ? (this.captured[0] as Buffer) : Buffer.concat(this.captured);
        this.captured = [];
        this.onPacket(header, this.length);
      }
    }
  }
}

/** A cursor over a captured packet header; reads past the capture give undefined. */
class Fields {
  private offset = 0;
  constructor(private readonly buffer: Buffer) {}
  byte(): number | undefined {
    if (this.offset + 1 > this.buffer.length) return undefined;
    return this.buffer[this.offset++];
  }
  uint32(): number | undefined {
    if (this.offset + 4 > this.buffer.length) return undefined;
    const value = this.buffer.readUInt32BE(this.offset);
    this.offset += 4;
    return value;
  }
  bytes(): Buffer | undefined {
    const length = this.uint32();
    if (length === undefined || this.offset + length > this.buffer.length) return undefined;
    const value = this.buffer.subarray(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }
  string(): string | undefined {
    return this.bytes()?.toString('utf8');
  }
  skip(count: number): void {
    this.offset += count;
  }
}

/** The audit of one SFTP channel: feed `fromClient` and `fromServer` with the relayed chunks. */
export class SftpPacketAudit {
  private readonly requests = new Map<number, Pending>();
  private readonly handles = new Map<string, OpenHandle>();
  private readonly clientReader: PacketReader;
  private readonly serverReader: PacketReader;

  /** `onData`: every SSH_FXP_READ and SSH_FXP_WRITE request (the transfer timeouts' activity). */
  constructor(
    private readonly onEvent: (event: SftpAuditEvent) => void,
    private readonly onData: () => void = () => {},
  ) {
    this.clientReader = new PacketReader((header, length) => this.request(header, length));
    this.serverReader = new PacketReader((header, length) => this.response(header, length));
  }

  fromClient(chunk: Buffer): void {
    this.clientReader.push(chunk);
  }

  fromServer(chunk: Buffer): void {
    this.serverReader.push(chunk);
  }

  /** The channel ended: handles still open are reported as closed without a result. */
  finish(): void {
    for (const handle of this.handles.values()) this.closed(handle, 'not closed (channel ended)');
    this.handles.clear();
    this.requests.clear();
  }

  private remember(id: number, pending: Pending): void {
    if (this.requests.size < MAX_PENDING) this.requests.set(id, pending);
  }

  private request(header: Buffer, length: number): void {
    const fields = new Fields(header);
    const type = fields.byte();
    const id = fields.uint32();
    if (type === undefined || id === undefined) return;
    switch (type) {
      case FXP.OPEN: {
        const path = fields.string();
        const flags = fields.uint32() ?? 0;
        if (path !== undefined) this.remember(id, { type, path, write: (flags & FXF_WRITE) !== 0 });
        return;
      }
      case FXP.OPENDIR:
      case FXP.REMOVE:
      case FXP.MKDIR:
      case FXP.RMDIR:
      case FXP.STAT:
      case FXP.LSTAT:
      case FXP.SETSTAT: {
        const path = fields.string();
        if (path !== undefined) this.remember(id, { type, path });
        return;
      }
      case FXP.RENAME:
      case FXP.SYMLINK: {
        const path = fields.string();
        const target = fields.string();
        if (path !== undefined && target !== undefined) this.remember(id, { type, path, target });
        return;
      }
      case FXP.EXTENDED: {
        // OpenSSH's sftp renames with posix-rename@openssh.com (same fields as RENAME).
        if (fields.string() !== 'posix-rename@openssh.com') return;
        const path = fields.string();
        const target = fields.string();
        if (path !== undefined && target !== undefined) this.remember(id, { type: FXP.RENAME, path, target });
        return;
      }
      case FXP.CLOSE:
      case FXP.READ: {
        if (type === FXP.READ) this.onData();
        const handle = fields.bytes();
        if (handle !== undefined) this.remember(id, { type, handle: handle.toString('hex') });
        return;
      }
      case FXP.WRITE: {
        this.onData();
        const handle = fields.bytes();
        fields.skip(8);
        const dataLength = fields.uint32();
        const open = handle && this.handles.get(handle.toString('hex'));
        // The data length field, else what the packet holds after the header (4 + 1 + 4 + 4 + h + 8 + 4).
        if (open) open.written += dataLength ?? Math.max(0, length - 25 - (handle?.length ?? 0));
        return;
      }
      default:
    }
  }

  private response(header: Buffer, length: number): void {
    const fields = new Fields(header);
    const type = fields.byte();
    const id = fields.uint32();
    if (type === undefined || id === undefined) return;
    const pending = this.requests.get(id);
    if (!pending) return;
    this.requests.delete(id);
    if (type === FXP.DATA) {
      const open = pending.handle ? this.handles.get(pending.handle) : undefined;
      if (open) open.read += Math.max(0, length - 9);
      return;
    }
    const status = type === FXP.STATUS ? (fields.uint32() ?? 4) : 0;
    const result = type === FXP.STATUS ? (STATUS_NAMES[status] ?? `status ${status}`) : 'ok';
    switch (pending.type) {
      case FXP.OPEN:
      case FXP.OPENDIR: {
        const directory = pending.type === FXP.OPENDIR;
        const path = pending.path ?? '';
        if (type === FXP.HANDLE) {
          const handle = fields.bytes();
          // Bounded like the requests: a client that opens without closing cannot grow the audit.
          if (handle && this.handles.size < MAX_PENDING) {
            this.handles.set(handle.toString('hex'), {
              path,
              directory,
              write: pending.write ?? false,
              read: 0,
              written: 0,
              openedAt: performance.now(),
            });
          }
        }
        this.onEvent({
          op: directory ? 'opendir' : 'open',
          path,
          ...(directory ? {} : { write: pending.write ?? false }),
          result: type === FXP.HANDLE ? 'ok' : result,
        });
        return;
      }
      case FXP.CLOSE: {
        const handle = pending.handle ? this.handles.get(pending.handle) : undefined;
        if (!handle || !pending.handle) return;
        this.handles.delete(pending.handle);
        this.closed(handle, result);
        return;
      }
      case FXP.READ:
        // EOF or an error on a read: nothing to count.
        return;
      default: {
        const op = OPERATION_OF[pending.type];
        if (!op) return;
        this.onEvent({
          op,
          path: pending.path ?? '',
          ...(pending.target !== undefined ? { target: pending.target } : {}),
          result,
        });
      }
    }
  }

  private closed(handle: OpenHandle, result: string): void {
    if (handle.directory) return;
    this.onEvent({
      op: 'close',
      path: handle.path,
      write: handle.write,
      bytesRead: handle.read,
      bytesWritten: handle.written,
      durationMs: Math.round(performance.now() - handle.openedAt),
      result,
    });
  }
}

const OPERATION_OF: Partial<Record<number, SftpOperation>> = {
  [FXP.REMOVE]: 'remove',
  [FXP.MKDIR]: 'mkdir',
  [FXP.RMDIR]: 'rmdir',
  [FXP.STAT]: 'stat',
  [FXP.LSTAT]: 'stat',
  [FXP.SETSTAT]: 'setstat',
  [FXP.RENAME]: 'rename',
  [FXP.SYMLINK]: 'symlink',
};
