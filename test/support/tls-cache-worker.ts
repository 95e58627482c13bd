import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:tls';
import { parseArgs } from 'node:util';
import { createHttpControlPlane } from '../../edge-worker/control-plane/http-transport.js';
import { Logger, stderrSink } from '../../edge-worker/log/logger.js';
import { attachFrontendTlsCaches, frontendTlsServerOptions } from '../../edge-worker/tls/frontend-caches.js';
import { tlsCacheSettings } from '../../edge-worker/tls/tls-cache-settings.js';

/**
 * A stand-in edge worker process for the TLS cache tests (run from dist/ by node): an implicit-TLS
 * listener that greets and closes, with the shared TLS caches attached through the control plane
 * over HTTP. Prints `listening <port>` on stdout once it accepts; stops on SIGTERM.
 *
 *   node dist/test/support/tls-cache-worker.js --name a --control-plane URL --cert F --key F --issuer F
 * The edge token comes from FTPX_CONTROL_PLANE_TOKEN.
 */
const { values } = parseArgs({
  options: {
    name: { type: 'string' },
    'control-plane': { type: 'string' },
    cert: { type: 'string' },
    key: { type: 'string' },
    issuer: { type: 'string' },
  },
});
const certPem = readFileSync(values.cert ?? '', 'utf8');
const identity = { certPem, issuerPem: readFileSync(values.issuer ?? '', 'utf8') };
const log = new Logger(stderrSink(), 'warn');
const controlPlane = createHttpControlPlane({
  url: values['control-plane'] ?? '',
  ...(process.env.FTPX_CONTROL_PLANE_TOKEN ? { token: process.env.FTPX_CONTROL_PLANE_TOKEN } : {}),
  timeoutMs: 5000,
  retries: 1,
  log,
});
const settings = tlsCacheSettings({ stapling: { enabled: false } });
const server = createServer({
  cert: certPem,
  key: readFileSync(values.key ?? '', 'utf8'),
  ...frontendTlsServerOptions(settings, identity),
});
server.on('secureConnection', (socket) => {
  socket.on('error', () => undefined);
  socket.end(`220 ftpx test worker ${values.name ?? ''}\r\n`);
});
server.on('tlsClientError', () => undefined);
const caches = attachFrontendTlsCaches(server, identity, { controlPlane, settings, log });
await caches.ready;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});
process.once('SIGTERM', () => {
  caches.close();
  server.close();
  void caches
    .flushStats()
    .finally(() => controlPlane.close())
    .finally(() => process.exit(0));
});
