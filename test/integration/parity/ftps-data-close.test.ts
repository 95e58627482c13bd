import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../../support/ftp-backends.js';
import { pythonFtp } from '../../support/ftp-clients.js';
import { startTestProxy, type TestProxy } from '../../support/proxy.js';
import { createTestCa, type TestCa } from '../../support/test-ca.js';

const LISTS = 3;

/**
 * FTPS on both sides, with a client that reads the 226 before it closes the data connection: after
 * its close_notify, the proxy waits for the client's close in the background (so a TLS 1.3 peer's
 * unread tickets cannot turn the close into a RST), and that wait must not hold the 226 back, or
 * every listing waits for the wait's limit.
 */
describe('FTPS listing with a client that waits for the 226 before closing', () => {
  let ca: TestCa;
  let backend: FtpBackend;
  let proxy: TestProxy;

  beforeAll(async () => {
    ca = await createTestCa();
    backend = await startFtpBackend('proftpd', { tls: { cert: ca.server.cert, key: ca.server.key } });
    await writeHomeFile(backend, 'listed.txt', 'x\n');
    proxy = await startTestProxy({
      backends: [backend.url],
      listener: { tls: { mode: 'explicit', certificates: [{ cert: ca.server.cert, key: ca.server.key }] } },
      poolSettings: { tls: { caFile: ca.caCert, engine: 'on' } },
    });
  });

  afterAll(async () => {
    await proxy?.close();
    await backend?.stop();
    await ca?.remove();
  });

  it('sends the 226 while the client still holds the data connection open', async () => {
    const run = await pythonFtp(
      [
        { op: 'login' },
        ...Array.from({ length: LISTS }, () => ({ op: 'list-then-reply' as const })),
        { op: 'quit' },
      ],
      {
        host: proxy.host,
        port: proxy.port,
        user: backend.user,
        password: backend.password,
        tls: 'explicit',
        caFile: ca.caCert,
      },
    );
    const lists = run.result.results.filter((r) => r.op === 'list-then-reply');
    expect(lists).toHaveLength(LISTS);
    for (const list of lists) {
      expect(list.error).toBeUndefined();
      expect(list.reply).toMatch(/^226 /);
      expect(list.lines?.some((line) => line.endsWith('listed.txt'))).toBe(true);
      expect(list.events).toEqual(['data-end', 'final-reply', 'data-closed']);
    }
    // The proxy's side: each 226 went out first, then the client closed the data connection (it
    // closes only after the 226); a 226 held until the wait ran out would come after "close-wait-expired".
    const events = proxy.logs
      .filter(
        (l) => l.msg === 'transfer completed' || (l.msg === 'data connection closed' && l.side === 'client'),
      )
      .map((l) => (l.msg === 'transfer completed' ? 'completed' : String(l.how)));
    expect(events).toEqual(Array.from({ length: LISTS }, () => ['completed', 'peer-closed']).flat());
  });
});
