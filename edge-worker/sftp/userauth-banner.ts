import { createRequire } from 'node:module';
import type { Connection } from 'ssh2';

/**
 * Sends an SSH_MSG_USERAUTH_BANNER (RFC 4252 section 5.4) to a client during authentication. ssh2's
 * server sends its configured banner once, at the service accept, and has no call for a banner
 * later; a backend's banner (sshd `Banner`, mod_sftp `SFTPDisplayBanner`) arrives only once the
 * backend connection is up. So this writes the message the way ssh2 writes its own, through the
 * connection's protocol object (internal API of ssh2 1.x: checked, and skipped when absent).
 */
const USERAUTH_BANNER = 53;

interface PacketWriter {
  allocStart: number;
  alloc(size: number): Buffer;
  finalize(packet: Buffer): Buffer;
}

interface ProtocolInternals {
  _packetRW?: { write?: PacketWriter };
}

const { sendPacket } = createRequire(import.meta.url)('ssh2/lib/protocol/utils.js') as {
  sendPacket?: (protocol: unknown, packet: Buffer) => void;
};

/** Whether the banner went out (false when ssh2's internals are not what this expects). */
export function sendUserauthBanner(conn: Connection, message: string): boolean {
  const protocol = (conn as unknown as { _protocol?: ProtocolInternals })._protocol;
  const writer = protocol?._packetRW?.write;
  if (!protocol || !writer || typeof sendPacket !== 'function') return false;
  const text = message.endsWith('\r\n') ? message : `${message.replace(/\n$/, '')}\r\n`;
  const length = Buffer.byteLength(text);
  const start = writer.allocStart;
  const packet = writer.alloc(1 + 4 + length + 4);
  packet[start] = USERAUTH_BANNER;
  packet.writeUInt32BE(length, start + 1);
  packet.write(text, start + 5, length, 'utf8');
  // An empty language tag.
  packet.writeUInt32BE(0, start + 5 + length);
  sendPacket(protocol, writer.finalize(packet));
  return true;
}
