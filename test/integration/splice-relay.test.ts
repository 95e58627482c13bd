import { copyFile, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splicedRelayCount, spliceRelayStatus } from '../../edge-worker/ftp/data/splice-relay.js';
import {
  expectAbortThenWholeDownload,
  expectStallTimeout,
  loggedBytes,
} from '../support/data-relay-checks.js';
import {
  type FtpBackend,
  makeRandomFile,
  sha256File,
  startFtpBackend,
  writeHomeFile,
} from '../support/ftp-backends.js';
import { curl } from '../support/ftp-clients.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';

const BIG_BYTES = 48 * 1024 * 1024 + 321;

/**
 * Plain client, plain backend, nothing to rewrite: the kernel relays the data connection
 * (edge-worker/ftp/data/splice-relay.ts). Proves the path is taken for real clients, and that what
 * callers rely on (bytes, the transfer log, ABOR, TimeoutStalled) is the same as with the JS relay.
 */
describe.runIf(spliceRelayStatus().available)('splice relay through ftpx', () => {
  let backend: FtpBackend;
  let proxy: TestProxy;
  let scratch: string;
  let bigLocal: string;
  let bigSha: string;
  let logFile: string;
  let base: string;

  beforeAll(async () => {
    backend = await startFtpBackend('proftpd', { name: 'splice' });
    scratch = await mkdtemp(join(tmpdir(), 'ftpx-splice-'));
    bigLocal = join(scratch, 'big.bin');
    bigSha = await makeRandomFile(bigLocal, BIG_BYTES);
    await copyFile(bigLocal, await writeHomeFile(backend, 'big.bin', ''));
    logFile = join(scratch, 'xferlog');
    proxy = await startTestProxy({
      backends: [backend.url],
      transferLog: logFile,
      listener: { timeouts: { stalled: '1s' } },
    });
    base = `ftp://${backend.user}:${backend.password}@127.0.0.1:${proxy.port}`;
  });

  afterAll(async () => {
    await proxy?.close();
    await backend?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('says at start which relay it uses', () => {
    expect(proxy.logs.some((line) => line.msg === 'plain data connections are relayed with splice(2)')).toBe(
      true,
    );
  });

  it('relays a curl download and a curl upload through splice, intact and counted', async () => {
    const before = splicedRelayCount();
    const down = join(scratch, 'down.bin');
    const got = await curl([`${base}/big.bin`, '-o', down]);
    expect(got.code, got.stderr).toBe(0);
    expect(await sha256File(down)).toBe(bigSha);
    expect(splicedRelayCount()).toBe(before + 1);
    const put = await curl(['-T', bigLocal, `${base}/up.bin`]);
    expect(put.code, put.stderr).toBe(0);
    expect(await sha256File(join(backend.homeDir, 'up.bin'))).toBe(bigSha);
    expect(splicedRelayCount()).toBe(before + 2);
    // The transfer log has the bytes the relay reported (progress and the total).
    const bytes = await loggedBytes(logFile);
    expect(bytes.slice(-2)).toEqual([BIG_BYTES, BIG_BYTES]);
    expect((await stat(join(backend.homeDir, 'up.bin'))).size).toBe(BIG_BYTES);
  }, 60_000);

  it('aborts a spliced download with ABOR and the session goes on', async () => {
    const before = splicedRelayCount();
    await expectAbortThenWholeDownload(
      { host: '127.0.0.1', port: proxy.port, user: backend.user, password: backend.password },
      { path: 'big.bin', bytes: BIG_BYTES, sha256: bigSha, local: join(scratch, 'after-abort.bin') },
    );
    expect(splicedRelayCount()).toBe(before + 2);
  }, 60_000);

  it('TimeoutStalled ends a spliced download whose client stops reading', async () => {
    const before = splicedRelayCount();
    // The buffers and the relay's pipe fill, and then no byte moves.
    await expectStallTimeout(proxy.port, backend.user, backend.password, 'big.bin');
    expect(splicedRelayCount()).toBe(before + 1);
  }, 30_000);
});
