import { createWriteStream, type WriteStream } from 'node:fs';

/** One finished (or failed) file transfer, as ProFTPD's TransferLog records it. */
export interface TransferRecord {
  finishedAt: Date;
  durationMs: number;
  clientAddress: string;
  bytes: number;
  path: string;
  binary: boolean;
  direction: 'incoming' | 'outgoing';
  user: string;
  completed: boolean;
  /** xferlog's service name: ftp (the default), sftp or scp. */
  service?: 'ftp' | 'sftp' | 'scp';
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** ctime(3) layout in local time, as xferlog's first field: "Sat Nov 21 06:10:49 2026". */
function ctime(date: Date): string {
  return `${DAYS[date.getDay()]} ${MONTHS[date.getMonth()]} ${pad(date.getDate())} ${pad(date.getHours())}:${pad(
    date.getMinutes(),
  )}:${pad(date.getSeconds())} ${date.getFullYear()}`;
}

/**
 * One xferlog line (the wu-ftpd format ProFTPD writes): time, seconds, host, bytes, file, type,
 * action, direction, access mode, user, service, auth method, auth user, status. Fields are separated
 * by single spaces, so blanks in names become underscores, as in ProFTPD's log.
 */
export function formatXferlogLine(record: TransferRecord): string {
  const field = (text: string) => (text === '' ? '-' : text.replace(/\s/g, '_'));
  return [
    ctime(record.finishedAt),
    Math.max(1, Math.round(record.durationMs / 1000)),
    record.clientAddress,
    record.bytes,
    field(record.path),
    record.binary ? 'b' : 'a',
    '_',
    record.direction === 'incoming' ? 'i' : 'o',
    'r',
    field(record.user),
    record.service ?? 'ftp',
    '0',
    '*',
    record.completed ? 'c' : 'i',
  ].join(' ');
}

/** The TransferLog file: one xferlog line per RETR, STOR, APPE and STOU, complete or not. */
export class TransferLog {
  private readonly stream: WriteStream;

  constructor(path: string, onError: (err: Error) => void) {
    this.stream = createWriteStream(path, { flags: 'a', mode: 0o640 });
    this.stream.on('error', onError);
  }

  write(record: TransferRecord): void {
    this.stream.write(`${formatXferlogLine(record)}\n`);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.stream.end(resolve));
  }
}
