import { createRequire } from 'node:module';
import type { Connection } from 'ssh2';

/**
 * SSH_MSG_DISCONNECT with a description (RFC 4253 section 11.1): how an SSH client is told which
 * limit refused it (OpenSSH prints "Received disconnect from ...: <description>"). ssh2's own
 * disconnect sends no description, so this writes the message as ssh2 writes its packets, through the
 * connection's protocol object (internal API of ssh2 1.x, as sftp/userauth-banner.ts does; when
 * absent, the connection is just ended).
 */
const DISCONNECT = 1;
/** SSH_DISCONNECT_BY_APPLICATION: TimeoutLogin. */
export const BY_APPLICATION = 11;
/** SSH_DISCONNECT_TOO_MANY_CONNECTIONS. */
export const TOO_MANY_CONNECTIONS = 12;
/** SSH_DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE: a banned client. */
export const NO_MORE_AUTH_METHODS = 14;

interface PacketWriter {
  allocStartKEX: number;
  alloc(size: number, force?: boolean): Buffer;
  finalize(packet: Buffer, force?: boolean): Buffer;
}

const { sendPacket } = createRequire(import.meta.url)('ssh2/lib/protocol/utils.js') as {
  sendPacket?: (protocol: unknown, packet: Buffer, force?: boolean) => void;
};

export function sshDisconnect(conn: Connection, reason: number, description: string): void {
  const protocol = (conn as unknown as { _protocol?: { _packetRW?: { write?: PacketWriter } } })._protocol;
  const writer = protocol?._packetRW?.write;
  if (protocol && writer && typeof sendPacket === 'function') {
    const length = Buffer.byteLength(description);
    const start = writer.allocStartKEX;
    const packet = writer.alloc(1 + 4 + 4 + length + 4, true);
    packet[start] = DISCONNECT;
    packet.writeUInt32BE(reason, start + 1);
    packet.writeUInt32BE(length, start + 5);
    packet.write(description, start + 9, length, 'utf8');
    packet.writeUInt32BE(0, start + 9 + length);
    sendPacket(protocol, writer.finalize(packet, true), true);
  }
  conn.end();
}
