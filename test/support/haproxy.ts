import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { freePort } from './ports.js';
import { spawnServer } from './process.js';

export interface HaproxyRelay {
  port: number;
  /** One line per finished connection: "client=<ip>:<port>" as haproxy saw the client. */
  connectionLog(): Promise<string[]>;
  stop(): Promise<void>;
}

export interface HaproxyRelayOptions {
  /** Where haproxy forwards the TCP stream. */
  target: { host: string; port: number };
  /** Send a PROXY header to the target, as a load balancer in front of ftpx does. */
  sendProxy?: 'v1' | 'v2';
  /** Expect a PROXY header from each client, as a backend behind ftpx with PROXY support does. */
  acceptProxy?: boolean;
  /** Where haproxy listens: 127.0.0.1 (default) or ::1. */
  bindAddress?: '127.0.0.1' | '::1';
}

/**
 * A real PROXY protocol peer: haproxy in TCP mode, either in front of ftpx (a load balancer sending
 * headers) or behind it (a backend-side relay that reads them and logs the client they name).
 */
export async function startHaproxyRelay(options: HaproxyRelayOptions): Promise<HaproxyRelay> {
  const workDir = await mkdtemp(join(tmpdir(), 'ftpx-haproxy-'));
  const bind = options.bindAddress ?? '127.0.0.1';
  const port = await freePort(bind);
  const send =
    options.sendProxy === 'v2' ? ' send-proxy-v2' : options.sendProxy === 'v1' ? ' send-proxy' : '';
  const config = join(workDir, 'haproxy.cfg');
  await writeFile(
    config,
    [
      'global',
      '  log stdout format raw local0',
      'defaults',
      '  mode tcp',
      '  log global',
      '  log-format "client=%ci:%cp"',
      '  timeout connect 5s',
      '  timeout client 60s',
      '  timeout server 60s',
      'frontend relay',
      `  bind ${bind.includes(':') ? `[${bind}]` : bind}:${port}${options.acceptProxy ? ' accept-proxy' : ''}`,
      '  default_backend target',
      'backend target',
      `  server only ${options.target.host}:${options.target.port}${send}`,
      '',
    ].join('\n'),
  );
  const server = spawnServer('/usr/sbin/haproxy', ['-db', '-f', config], workDir);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const probe = connect({ host: bind, port }, () => {
        probe.destroy();
        resolve(true);
      });
      probe.on('error', () => resolve(false));
    });
    if (up) break;
    if (server.exitStatus() !== undefined || Date.now() > deadline) {
      const output = await readFile(server.outputFile, 'utf8').catch(() => '');
      await server.stop();
      throw new Error(`haproxy did not start (${server.exitStatus() ?? 'timeout'}):\n${output}`);
    }
    await delay(50);
  }
  return {
    port,
    connectionLog: async () =>
      (await readFile(server.outputFile, 'utf8').catch(() => ''))
        .split('\n')
        .filter((line) => line.startsWith('client=')),
    stop: () => server.stop(),
  };
}
