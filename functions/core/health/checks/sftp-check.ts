import type { BackendUrl } from '../../backend-url.js';
import type { CheckResult } from '../health-state.js';

/**
 * An SFTP backend's active check: the SSH version exchange and a complete key exchange (ssh2's
 * `handshake` event), then the connection is closed before authenticating: a server that accepts
 * TCP but never speaks SSH, or cannot agree on algorithms, fails. Latency is the time to the end of
 * the key exchange.
 */
export async function checkSftp(
  url: BackendUrl,
  options: { timeoutMs: number; now?: () => number },
  /** Connect here rather than to `url.host` (an address the destination policy judged). */
  address?: string,
): Promise<CheckResult> {
  const now = options.now ?? Date.now;
  const started = now();
  // ssh2 loads with the first SFTP check, not with every process that reaches the health module.
  const { Client } = await import('ssh2');
  return new Promise((resolve) => {
    const client = new Client();
    let done = false;
    const finish = (ok: boolean, reason: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ ok, at: started, latencyMs: now() - started, protocol: 'sftp', reason });
      client.end();
      // end() waits for the server; destroy() makes sure no socket outlives the check.
      setImmediate(() => client.destroy());
    };
    const timer = setTimeout(
      () => finish(false, `no SSH key exchange within ${options.timeoutMs} ms`),
      options.timeoutMs,
    );
    client.on('handshake', (negotiated) => {
      finish(true, `SSH key exchange (${negotiated.kex}, ${negotiated.serverHostKey})`);
    });
    client.on('error', (err) => finish(false, `SSH: ${err.message}`));
    client.on('close', () => finish(false, 'the connection closed before the key exchange'));
    client.connect({
      host: address ?? url.host,
      port: url.port,
      username: 'ftpx-health-check',
      readyTimeout: options.timeoutMs,
      // Only the handshake is checked: the host key is not trusted for anything.
      hostVerifier: () => true,
    });
  });
}
