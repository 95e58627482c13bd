import { createServer } from 'node:net';
import { expect, it, vi } from 'vitest';
import { findBinary } from '../support/binaries.js';
import { startFtpBackend } from '../support/ftp-backends.js';

vi.mock('../support/ports.js', () => ({ freePort: async () => 2199 }));

it('error paths', async () => {
  expect(() => findBinary('/usr/sbin/nonexistent-ftpd')).toThrow();
  try {
    findBinary('/usr/sbin/nonexistent-ftpd');
  } catch (e) {
    console.log(String(e));
  }
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(2199, '127.0.0.1', r));
  for (const kind of ['proftpd', 'vsftpd', 'pure-ftpd'] as const) {
    const t = Date.now();
    try {
      await startFtpBackend(kind);
      console.log('UNEXPECTED OK');
    } catch (e) {
      console.log(kind, Date.now() - t, String(e));
    }
  }
  blocker.close();
}, 120000);
