import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MEMORY_RETURN_DEFAULTS } from '../../edge-worker/cluster/memory-return.js';
import { repoRoot } from '../support/binaries.js';
import { freePort } from '../support/ports.js';
import { type ProxyProcess, startProxyProcess } from '../support/proxy-process.js';
import { RawFtp } from '../support/raw-ftp.js';

/**
 * A proxy process whose logged-in sessions mostly quit gives its memory back a few seconds later
 * (issue 19: "the memory returned after they end"), with the collection it ran in its log. The
 * backend is the idle-sessions benchmark's greeter (any USER/PASS is welcome), in its own process.
 */

const SESSIONS = MEMORY_RETURN_DEFAULTS.minDrop + 44;
/** Logins at once: below the listener's default maxUnauthenticatedPerHost (32). */
const IN_FLIGHT = 16;

describe('memory returned after sessions end', () => {
  let greeter: ChildProcess;
  let greeterPort: number;
  let proxy: ProxyProcess | undefined;

  beforeAll(async () => {
    greeter = spawn(process.execPath, [join(repoRoot, 'dist', 'bench', 'ftp-greeter.js')], {
      // Its stdin open: the greeter ends when it closes (when this test process goes).
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    greeter.stdout?.setEncoding('utf8');
    greeterPort = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the FTP greeter did not start')), 15_000);
      greeter.stdout?.on('data', (text: string) => {
        const match = /port (\d+)/.exec(text);
        if (!match) return;
        clearTimeout(timer);
        resolve(Number(match[1]));
      });
    });
  });

  afterAll(async () => {
    await proxy?.stop();
    greeter?.kill('SIGTERM');
  });

  it(`runs full collections once ${SESSIONS} sessions quit and stayed gone for a few seconds`, async () => {
    const port = await freePort();
    proxy = await startProxyProcess({
      backends: [`ftp://127.0.0.1:${greeterPort}`],
      port,
      logLevel: 'info',
    });
    // The first client may find the backend not known reachable yet (its first check): wait for a greeting.
    for (let tries = 0; ; tries++) {
      const probe = await RawFtp.open(port);
      const greeting = await probe.reply();
      probe.destroy();
      if (greeting?.startsWith('220')) break;
      if (tries === 50) throw new Error(`no greeting: ${greeting}\n${proxy.stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const clients: RawFtp[] = [];
    let next = 0;
    const lane = async () => {
      while (next < SESSIONS) {
        next += 1;
        const client = await RawFtp.open(port);
        clients.push(client);
        await client.login(`idle${next}`, 'idle');
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
    expect(clients).toHaveLength(SESSIONS);
    const running = proxy;
    expect(running.stderr()).not.toContain('memory returned');

    for (const client of clients) await client.command('QUIT');
    const deadline = Date.now() + MEMORY_RETURN_DEFAULTS.settleMs + 10_000;
    while (!running.stderr().includes('memory returned') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const line = running
      .stderr()
      .split('\n')
      .find((text) => text.includes('memory returned after sessions ended'));
    expect(line).toBeDefined();
    expect(JSON.parse(line as string)).toMatchObject({ peak: SESSIONS, sessions: 0 });
  }, 90_000);
});
