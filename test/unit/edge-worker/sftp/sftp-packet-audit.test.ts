import { describe, expect, it } from 'vitest';
import { type SftpAuditEvent, SftpPacketAudit } from '../../../../edge-worker/sftp/sftp-packet-audit.js';

const u32 = (value: number) => {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value);
  return buffer;
};
const str = (value: string | Buffer) => {
  const bytes = typeof value === 'string' ? Buffer.from(value) : value;
  return Buffer.concat([u32(bytes.length), bytes]);
};
const packet = (type: number, id: number, ...fields: Buffer[]) => {
  const body = Buffer.concat([Buffer.from([type]), u32(id), ...fields]);
  return Buffer.concat([u32(body.length), body]);
};
const u64 = (value: number) => Buffer.concat([u32(0), u32(value)]);

/** Feeds `data` in pieces of `size` bytes, so headers split across chunks. */
function feed(push: (chunk: Buffer) => void, data: Buffer, size: number) {
  for (let offset = 0; offset < data.length; offset += size) push(data.subarray(offset, offset + size));
}

describe('SftpPacketAudit', () => {
  it.each([1, 3, 7, 1000, 1 << 20])(
    'follows open/write/read/close and other operations in %i-byte chunks',
    (size) => {
      const events: SftpAuditEvent[] = [];
      const audit = new SftpPacketAudit((event) => events.push(event));
      const handle = Buffer.from('h1');
      const data = Buffer.alloc(40_000, 7);
      // OPEN (write|creat|trunc), answered with a HANDLE before the client can use it.
      feed(
        (chunk) => audit.fromClient(chunk),
        packet(3, 1, str('/up.bin'), u32(0x02 | 0x08 | 0x10), u32(0)),
        size,
      );
      feed((chunk) => audit.fromServer(chunk), packet(102, 1, str(handle)), size);
      const client = Buffer.concat([
        packet(6, 2, str(handle), u64(0), str(data)), // WRITE
        packet(6, 3, str(handle), u64(40_000), str(data.subarray(0, 100))), // WRITE
        packet(4, 4, str(handle)), // CLOSE
        packet(18, 5, str('/a'), str('/b')), // RENAME
        packet(200, 6, str('posix-rename@openssh.com'), str('/b'), str('/c')), // EXTENDED
        packet(13, 7, str('/missing')), // REMOVE
        packet(14, 8, str('/dir'), u32(0)), // MKDIR
        packet(17, 9, str('/c')), // STAT
      ]);
      const server = Buffer.concat([
        packet(101, 2, u32(0)),
        packet(101, 3, u32(0)),
        packet(101, 4, u32(0)), // close ok
        packet(101, 5, u32(0)),
        packet(101, 6, u32(0)),
        packet(101, 7, u32(2)), // no such file
        packet(101, 8, u32(3)), // permission denied
        packet(105, 9, u32(0)), // ATTRS
      ]);
      feed((chunk) => audit.fromClient(chunk), client, size);
      feed((chunk) => audit.fromServer(chunk), server, size);
      expect(events.map(({ durationMs: _, ...event }) => event)).toEqual([
        { op: 'open', path: '/up.bin', write: true, result: 'ok' },
        { op: 'close', path: '/up.bin', write: true, bytesRead: 0, bytesWritten: 40_100, result: 'ok' },
        { op: 'rename', path: '/a', target: '/b', result: 'ok' },
        { op: 'rename', path: '/b', target: '/c', result: 'ok' },
        { op: 'remove', path: '/missing', result: 'no such file' },
        { op: 'mkdir', path: '/dir', result: 'permission denied' },
        { op: 'stat', path: '/c', result: 'ok' },
      ]);
    },
  );

  it('counts the bytes of DATA answers to READs, and reports handles still open at the end', () => {
    const events: SftpAuditEvent[] = [];
    const audit = new SftpPacketAudit((event) => events.push(event));
    const handle = Buffer.from('handle-2');
    audit.fromClient(packet(3, 1, str('/down.bin'), u32(0x01), u32(0)));
    audit.fromServer(packet(102, 1, str(handle)));
    audit.fromClient(
      Buffer.concat([
        packet(5, 2, str(handle), u64(0), u32(32768)),
        packet(5, 3, str(handle), u64(32768), u32(32768)),
      ]),
    );
    audit.fromServer(
      Buffer.concat([packet(103, 2, str(Buffer.alloc(32768))), packet(103, 3, str(Buffer.alloc(1000)))]),
    );
    audit.finish();
    expect(events.at(-1)).toMatchObject({
      op: 'close',
      path: '/down.bin',
      bytesRead: 33_768,
      result: 'not closed (channel ended)',
    });
  });
});
