import { afterEach, describe, expect, it } from 'vitest';
import { operatorGroup, runCommandGroup } from '../../../../edge-worker/cli/admin/index.js';
import { bufferIo, type FakeApi, startFakeApi } from './fake-api.js';

describe('ftpx backends list POOL --health', () => {
  let api: FakeApi | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });

  const run = async (argv: string[]) => {
    const group = operatorGroup('backends');
    if (!group || !api) throw new Error('no backends group or API');
    const buffers = bufferIo({ FTPX_API_URL: api.url, FTPX_API_TOKEN: 'token-0123456789' });
    const code = await runCommandGroup(group, argv, buffers.io);
    return { code, stdout: buffers.stdout(), stderr: buffers.stderr() };
  };

  it("prints the pool's health from GET /v1/pools/{pool}/health", async () => {
    api = await startFakeApi(() => ({
      status: 200,
      body: {
        pool: 'main',
        backends: [
          {
            backend: 'ftp://10.0.0.1:21',
            state: 'unhealthy',
            failures: 3,
            unhealthyUntil: '2030-01-01T00:00:30.000Z',
            reason: '3 failed connects within 60000 ms, last: ECONNREFUSED',
          },
          {
            backend: 'ftp://10.0.0.2:21',
            state: 'healthy',
            failures: 0,
            check: {
              ok: true,
              at: '2030-01-01T00:00:00.000Z',
              protocol: 'ftp',
              latencyMs: 4,
              reason: '220 banner',
            },
          },
        ],
      },
    }));
    const listed = await run(['list', 'main', '--health']);
    expect(listed.code).toBe(0);
    expect(api.requests.map((request) => `${request.method} ${request.url}`)).toEqual([
      'GET /v1/pools/main/health',
    ]);
    const lines = listed.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^BACKEND\s+STATE\s+FAILURES\s+UNTIL\s+CHECK\s+LATENCY\s+REASON$/);
    expect(lines[1]).toMatch(
      /^ftp:\/\/10\.0\.0\.1:21\s+unhealthy\s+3\s+2030-01-01T00:00:30\.000Z\s+-\s+-\s+3 failed connects/,
    );
    expect(lines[2]).toMatch(/^ftp:\/\/10\.0\.0\.2:21\s+healthy\s+0\s+-\s+pass\s+4 ms\s+-$/);
    expect((await run(['health', 'main'])).stdout).toBe(listed.stdout);
  });
});
