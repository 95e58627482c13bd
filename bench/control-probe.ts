import { connect, type Socket } from 'node:net';

/**
 * A logged-in FTP control connection that measures NOOP round trips: how long another session's
 * control replies take while transfers keep the proxy busy (issue: "one busy transfer does not slow
 * another session's control replies by more than 5 ms").
 */
export interface ControlProbe {
  /** Milliseconds from writing NOOP to reading its 200. */
  noop(): Promise<number>;
  close(): void;
}

export async function openControlProbe(
  host: string,
  port: number,
  user: string,
  password: string,
  timeoutMs = 10_000,
): Promise<ControlProbe> {
  const socket: Socket = connect({ host, port });
  socket.setNoDelay(true);
  socket.setEncoding('latin1');
  let buffer = '';
  let waiting: { resolve: (line: string) => void; reject: (err: Error) => void } | undefined;
  const failAll = (err: Error) => {
    waiting?.reject(err);
    waiting = undefined;
  };
  socket.on('data', (text: string) => {
    buffer += text;
    for (;;) {
      const end = buffer.indexOf('\r\n');
      if (end === -1) return;
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (!/^\d{3} /.test(line)) continue;
      const settle = waiting;
      waiting = undefined;
      settle?.resolve(line);
    }
  });
  socket.on('error', failAll);
  socket.on('close', () => failAll(new Error('control connection closed')));
  const reply = (send?: string) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply within ${timeoutMs} ms`)), timeoutMs);
      waiting = {
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      if (send !== undefined) socket.write(`${send}\r\n`);
    });
  const expect = async (send: string | undefined, code: string) => {
    const line = await reply(send);
    if (!line.startsWith(code)) throw new Error(`expected ${code}, got ${line}`);
  };
  try {
    await expect(undefined, '220');
    await expect(`USER ${user}`, '331');
    await expect(`PASS ${password}`, '230');
  } catch (err) {
    socket.destroy();
    throw err;
  }
  return {
    noop: async () => {
      const started = performance.now();
      await expect('NOOP', '200');
      return performance.now() - started;
    },
    close: () => socket.destroy(),
  };
}
