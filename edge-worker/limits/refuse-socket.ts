import type { Socket } from 'node:net';

/** How long a refused client may take to close its side once told; then the socket is destroyed. */
const REFUSED_LINGER_MS = 5000;

/**
 * Tells a refused client `text` (undefined: nothing) and closes its connection. What the client
 * sends meanwhile is read and dropped: unread input would keep the socket from ever seeing the
 * client's close (an SSH client sends its version string at once, so each refused one would leak a
 * socket), and closing over unread input resets the connection, which can discard the refusal.
 */
export function refuseSocket(socket: Socket, text: string | Uint8Array | undefined): void {
  if (text === undefined) {
    socket.destroy();
    return;
  }
  socket.resume();
  socket.end(text);
  const timer = setTimeout(() => socket.destroy(), REFUSED_LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}
