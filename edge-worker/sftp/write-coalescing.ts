import type { Duplex } from 'node:stream';

/**
 * Relayed SSH traffic leaves as one write per packet: ssh2 decrypts the packets of a chunk read from
 * one connection and re-encrypts each onto the other with its own `socket.write`, a syscall per
 * 32 KiB packet. While a chunk read from `from` is handled, `to` is corked; it is uncorked once that
 * handling (synchronous in ssh2) is done, so the packets a read produced go out in one writev.
 * Nothing waits: the uncork runs before the event loop turns, and a corked socket still queues
 * (and counts for backpressure) what it is given.
 */
export function coalesceWritesPerRead(from: Duplex, to: Duplex): void {
  let corked = false;
  const uncork = () => {
    corked = false;
    to.uncork();
  };
  // Prepended: it must run before ssh2's own 'data' listener parses the chunk.
  from.prependListener('data', () => {
    if (corked || to.destroyed) return;
    corked = true;
    to.cork();
    process.nextTick(uncork);
  });
}
