import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FtpBackend, startFtpBackend } from '../../support/ftp-backends.js';
import { freePort } from '../../support/ports.js';
import { startProxyProcess } from '../../support/proxy-process.js';
import { RawFtp } from '../../support/raw-ftp.js';

/**
 * `ftpx serve --workers 2` with OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: the worker that served a login
 * exports its spans (OTLP/HTTP) to the endpoint, at the latest when it stops. The workers are the
 * processes with login paths; before, they never started tracing.
 */
describe('tracing in the worker processes of serve --workers N', () => {
  let backend: FtpBackend;
  let collector: Server;
  const exports: { path: string; body: Buffer }[] = [];

  beforeAll(async () => {
    backend = await startFtpBackend('proftpd', { name: 'worker-tracing' });
    collector = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        exports.push({ path: request.url ?? '', body: Buffer.concat(chunks) });
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    collector.listen(0, '127.0.0.1');
    await new Promise((resolve) => collector.once('listening', resolve));
  });
  afterAll(async () => {
    collector?.close();
    await backend?.stop();
  });

  it('exports the login span of a worker', async () => {
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`;
    const proxy = await startProxyProcess({
      backends: [backend.url],
      port,
      workers: '2',
      env: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: endpoint },
    });
    let stopped = false;
    try {
      const ftp = await RawFtp.open(port);
      expect(await ftp.reply()).toMatch(/^220/);
      expect(await ftp.command(`USER ${backend.user}`)).toMatch(/^331/);
      expect(await ftp.command(`PASS ${backend.password}`)).toMatch(/^230/);
      expect(await ftp.command('QUIT')).toMatch(/^221/);
      await proxy.stop();
      stopped = true;
      const traces = exports.filter((each) => each.path === '/v1/traces');
      expect(traces.length).toBeGreaterThan(0);
      expect(Buffer.concat(traces.map((each) => each.body)).toString('latin1')).toContain(
        'ftpx.session.login',
      );
    } finally {
      if (!stopped) await proxy.stop();
    }
  });
});
