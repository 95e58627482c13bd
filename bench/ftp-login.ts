import { connect } from 'node:net';

/** The parts of one login a client sees, in ms. */
export interface LoginTimes {
  /** TCP connect to the 230 reply: what a user waits for before the first command. */
  totalMs: number;
  /**
   * USER sent to the 230 reply (the "USER+PASS time"). A proxy that connects its backend
   * before its greeting does that work before USER, so the greeting is in `totalMs` only.
   */
  userPassMs: number;
}

/**
 * Time from TCP connect to the 230 reply. `localAddress` is the client's source address (a loopback
 * address of its own, so per-host limits count it apart from other clients on the machine).
 */
export async function loginMs(
  host: string,
  port: number,
  user: string,
  password: string,
  timeoutMs = 10_000,
  localAddress?: string,
): Promise<number> {
  return (await loginTimes(host, port, user, password, timeoutMs, localAddress)).totalMs;
}

/** One login, timed as a whole and from USER on (see LoginTimes). */
export function loginTimes(
  host: string,
  port: number,
  user: string,
  password: string,
  timeoutMs = 10_000,
  localAddress?: string,
): Promise<LoginTimes> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let userSent = started;
    const socket = connect(localAddress ? { host, port, localAddress } : { host, port });
    // A server that stops answering under load counts as a failed login, not a hung benchmark.
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    });
    let buffer = '';
    let step = 0;
    socket.setEncoding('latin1');
    socket.on('data', (text: string) => {
      buffer += text;
      const lines = buffer.split('\r\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        if (!/^\d{3} /.test(line)) continue;
        if (step === 0 && line.startsWith('220')) {
          userSent = performance.now();
          socket.write(`USER ${user}\r\n`);
        } else if (step === 1 && line.startsWith('331')) socket.write(`PASS ${password}\r\n`);
        else if (step === 2 && line.startsWith('230')) {
          const now = performance.now();
          socket.end('QUIT\r\n');
          resolve({ totalMs: now - started, userPassMs: now - userSent });
        } else {
          socket.destroy();
          reject(new Error(`unexpected reply at step ${step}: ${line}`));
        }
        step += 1;
      }
    });
    socket.on('error', reject);
    // Closed without a 230 (a refused or dropped connection): settle, or the benchmark would hang.
    socket.on('close', () => reject(new Error(`connection closed at step ${step}`)));
  });
}

export interface Endpoint {
  host: string;
  port: number;
}

/**
 * Logins per second with `clients` concurrent clients for `seconds`, each logging in and out in a
 * loop; the endpoints are used in turn (several backends direct, or one proxy).
 */
export async function loginsPerSecond(
  endpoints: Endpoint[],
  credentials: { user: string; password: string },
  clients: number,
  seconds: number,
): Promise<{ perSecond: number; failures: number }> {
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  let failures = 0;
  let turn = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < deadline) {
        const endpoint = endpoints[turn++ % endpoints.length] as Endpoint;
        try {
          await loginMs(endpoint.host, endpoint.port, credentials.user, credentials.password);
          done += 1;
        } catch {
          failures += 1;
        }
      }
    }),
  );
  return { perSecond: done / seconds, failures };
}
