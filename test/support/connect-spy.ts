import { isIP, Socket } from 'node:net';

/** One outgoing TCP connect the process attempted, as `host:port` ([v6]:port). */
export interface ConnectSpy {
  /** Every attempt, in order, loopback or not. */
  calls: string[];
  /** The attempts to a non-loopback address: each was stopped before the system call. */
  blocked: string[];
  restore(): void;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+|localhost)$/i;

/**
 * Observes every TCP connect of this process (net.Socket.prototype.connect, which net.connect,
 * tls.connect and ssh2 all go through) and stops any to a non-loopback address before it reaches
 * the kernel: the tests prove refusals of link-local and metadata addresses without ever sending
 * them a packet, even if the code under test were wrong.
 */
export function spyOnConnects(): ConnectSpy {
  const original = Socket.prototype.connect;
  const spy: ConnectSpy = {
    calls: [],
    blocked: [],
    restore: () => {
      Socket.prototype.connect = original;
    },
  };
  Socket.prototype.connect = function (this: Socket, ...args: unknown[]) {
    const first = args[0];
    const options = (
      Array.isArray(first)
        ? first[0]
        : typeof first === 'object' && first !== null
          ? first
          : { port: first, host: typeof args[1] === 'string' ? args[1] : undefined }
    ) as { host?: string; port?: number | string; path?: string };
    if (options.path === undefined) {
      const host = options.host ?? 'localhost';
      const target = `${isIP(host) === 6 ? `[${host}]` : host}:${options.port}`;
      spy.calls.push(target);
      if (!LOOPBACK.test(host)) {
        spy.blocked.push(target);
        throw new Error(`connect spy: ${target} is not loopback; stopped before any packet`);
      }
    }
    return (original as (...a: unknown[]) => Socket).apply(this, args);
  } as typeof original;
  return spy;
}
