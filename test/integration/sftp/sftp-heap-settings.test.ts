import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SFTP_HEAP_GROWING_PERCENT } from '../../../edge-worker/cluster/memory-settings.js';
import { startTestProxy } from '../../support/proxy.js';
import { makeKeyPair } from '../../support/sshd.js';

// What the process asks of V8 is seen here: setting the flags for real would change this test
// process's heap for the tests after it.
const setFlags = vi.hoisted(() => vi.fn());
vi.mock('node:v8', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:v8')>();
  return { ...actual, default: { ...actual, setFlagsFromString: setFlags }, setFlagsFromString: setFlags };
});

let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'ftpx-sftp-heap-'));
  await makeKeyPair(join(scratch, 'host_ed25519'), 'ed25519');
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('V8 heap settings of a process serving SFTP (bench/README.md, "SFTP")', () => {
  const flag = `--heap-growing-percent=${SFTP_HEAP_GROWING_PERCENT}`;

  it('leaves an FTP-only process with V8 defaults', async () => {
    const proxy = await startTestProxy({ backends: ['ftp://127.0.0.1:1'] });
    await proxy.close();
    expect(setFlags).not.toHaveBeenCalledWith(flag);
  });

  it('widens the heap growth once an SFTP listener starts', async () => {
    const proxy = await startTestProxy({
      backends: ['sftp://127.0.0.1:1'],
      listener: { protocol: 'sftp', sftp: { hostKeys: [join(scratch, 'host_ed25519')] } },
    });
    await proxy.close();
    expect(setFlags).toHaveBeenCalledWith(flag);
  });
});
