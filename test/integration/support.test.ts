import { it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { startFtpBackend, makeRandomFile, writeHomeFile } from '../support/ftp-backends.js';
import { pythonFtp } from '../support/ftp-clients.js';

it('lab', async () => {
  for (const kind of ['pure-ftpd'] as const) {
    const b = await startFtpBackend(kind);
    try {
      const big = await writeHomeFile(b, 'big.bin', '');
      await makeRandomFile(big, 16 * 1024 * 1024);
      for (let i = 0; i < 6; i++) {
        const t = Date.now();
        const { result } = await pythonFtp([{ op: 'login' }, { op: 'abort-during-retr', path: 'big.bin', bytes: 256 * 1024 }, { op: 'pwd' }], { host: b.host, port: b.port, user: b.user, password: b.password, socketTimeoutSeconds: 5 });
        console.log(Date.now() - t, JSON.stringify(result.results));
      }
    } finally { await b.stop(); }
  }
}, 300000);
