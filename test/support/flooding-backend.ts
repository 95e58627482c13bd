import { createServer, type Server, type Socket } from 'node:net';

/**
 * A hostile FTP "backend" on loopback: raw TCP speaking just enough FTP replies to let a client log
 * in (ProFTPD cannot be made to send replies nobody asked for), then writing `reply` over and over,
 * `count` times (or until the proxy hangs up), with backpressure so the test process stays small.
 * `written` counts the bytes the proxy's side of the connection accepted (write callbacks done).
 */
export interface FloodingBackend {
  port: number;
  /** Bytes of flood handed over to the kernel and drained (the proxy read them or the kernel holds them). */
  drainedBytes(): number;
  /** Resolves when the proxy closed the connection a flood ran on. */
  closed: Promise<void>;
  floodStarted: Promise<void>;
  /** Connections open now, the most that were open at once, and how many there were in all. */
  connections(): { open: number; peak: number; total: number };
  stop(): Promise<void>;
}

export async function startFloodingBackend(options: {
  reply: string;
  count: number;
}): Promise<FloodingBackend> {
  let drained = 0;
  let markClosed!: () => void;
  let markStarted!: () => void;
  const closed = new Promise<void>((resolve) => {
    markClosed = resolve;
  });
  const floodStarted = new Promise<void>((resolve) => {
    markStarted = resolve;
  });
  const sockets = new Set<Socket>();
  const flood = (socket: Socket) => {
    markStarted();
    let left = options.count;
    const pump = () => {
      while (left > 0 && !socket.destroyed) {
        left -= 1;
        const ok = socket.write(options.reply, () => {
          drained += options.reply.length;
        });
        if (!ok) {
          socket.once('drain', pump);
          return;
        }
      }
    };
    pump();
  };
  let peak = 0;
  let total = 0;
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    total += 1;
    peak = Math.max(peak, sockets.size);
    socket.on('error', () => {});
    socket.on('close', () => {
      sockets.delete(socket);
      markClosed();
    });
    socket.setEncoding('latin1');
    socket.write('220 flooding test backend\r\n');
    let buffer = '';
    socket.on('data', (text: string) => {
      buffer += text;
      for (let end = buffer.indexOf('\n'); end >= 0; end = buffer.indexOf('\n')) {
        const line = buffer.slice(0, end).trim();
        buffer = buffer.slice(end + 1);
        const verb = line.split(' ')[0]?.toUpperCase();
        if (verb === 'USER') socket.write('331 Password required\r\n');
        else if (verb === 'PASS') {
          socket.write('230 Logged in\r\n');
          flood(socket);
        } else if (verb === 'FEAT') socket.write('211-Features:\r\n UTF8\r\n211 End\r\n');
        else if (verb === 'QUIT') socket.end('221 Bye\r\n');
        else socket.write('200 OK\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    drainedBytes: () => drained,
    closed,
    floodStarted,
    connections: () => ({ open: sockets.size, peak, total }),
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
