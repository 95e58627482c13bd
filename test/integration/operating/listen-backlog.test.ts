import { afterEach, describe, expect, it } from 'vitest';
import { startTestProxy, type TestProxy } from '../../support/proxy.js';
import { runCommand } from '../../support/run-command.js';

/** The listen queue the kernel reports for a listening TCP port (ss's Send-Q of a LISTEN socket). */
async function listenQueue(port: number): Promise<number> {
  const ss = await runCommand('ss', ['-Hltn', `sport = :${port}`]);
  const line = ss.stdout.toString('utf8').trim().split('\n')[0] ?? '';
  // State Recv-Q Send-Q Local-Address:Port Peer-Address:Port
  return Number(line.split(/\s+/)[2]);
}

describe('TCPBackLog: the listen queue of a listener', () => {
  let proxy: TestProxy | undefined;
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });

  it('listens with the configured queue length', async () => {
    proxy = await startTestProxy({ backends: ['ftp://127.0.0.1:9'], listener: { backlog: 1500 } });
    expect(await listenQueue(proxy.port)).toBe(1500);
  });

  it("keeps Node's 511 when none is configured", async () => {
    proxy = await startTestProxy({ backends: ['ftp://127.0.0.1:9'] });
    expect(await listenQueue(proxy.port)).toBe(511);
  });
});
