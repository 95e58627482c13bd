import { connect, type Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { connect as tlsConnect } from 'node:tls';

/**
 * Connects, reads the server's greeting up to its final `220 ` line (Pure-FTPd sends a multi-line
 * `220-` greeting) and hangs up. Resolves with the whole greeting, CRLFs included.
 */
export function readBanner(
  host: string,
  port: number,
  timeoutMs = 5_000,
  implicitTls = false,
): Promise<string> {
  return new Promise((resolve, reject) => {
    // Implicit FTPS greets inside TLS; the certificate does not matter for a readiness probe.
    const socket: Socket = implicitTls
      ? tlsConnect({ host, port, rejectUnauthorized: false })
      : connect({ host, port });
    let text = '';
    const fail = (error: Error) => {
      socket.destroy();
      reject(error);
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`no greeting within ${timeoutMs} ms: ${text}`)));
    socket.on('error', fail);
    socket.on('close', () => reject(new Error(`connection closed before the greeting ended: ${text}`)));
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
      const finalLine = text.split('\r\n').find((line) => /^\d{3} /.test(line));
      if (finalLine === undefined) return;
      socket.destroy();
      if (finalLine.startsWith('220 ')) resolve(text);
      else reject(new Error(`server refused the connection: ${text}`));
    });
  });
}

/** Short, so that a port answered by someone else (who never greets) is soon tried again. */
const ATTEMPT_TIMEOUT_MS = 1_000;

/**
 * Polls until the server greets with 220. `problem` is consulted between attempts so that a server that
 * has already died fails at once instead of at the deadline.
 */
export async function waitForBanner(
  host: string,
  port: number,
  timeoutMs: number,
  problem: () => string | undefined,
  implicitTls = false,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'never tried';
  for (;;) {
    const dead = problem();
    if (dead !== undefined) throw new Error(dead);
    try {
      return await readBanner(
        host,
        port,
        Math.min(Math.max(deadline - Date.now(), 100), ATTEMPT_TIMEOUT_MS),
        implicitTls,
      );
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() >= deadline) throw new Error(`no 220 greeting within ${timeoutMs} ms (${lastError})`);
    await delay(50);
  }
}
