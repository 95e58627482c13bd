import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminClient, adminUrlFrom } from '../../support/admin-client.js';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../../support/ftp-backends.js';
import { curl } from '../../support/ftp-clients.js';
import { freePort } from '../../support/ports.js';
import { type ProxyProcess, startProxyProcess } from '../../support/proxy-process.js';
import { RawFtp } from '../../support/raw-ftp.js';

const TOKEN = 'admin-token-for-the-test-0123456789';
const DOWNLOAD = 'x'.repeat(3000);
const UPLOAD = 'y'.repeat(5000);

/** The admin endpoint against a scripted set of real sessions (curl and a raw client, ProFTPD behind). */
describe('admin endpoint', () => {
  let backend: FtpBackend;
  let dir: string;
  let proxy: ProxyProcess;
  let admin: ReturnType<typeof adminClient>;
  const labels = '{pool="main",protocol="ftp",role="reverse"}';

  beforeAll(async () => {
    backend = await startFtpBackend('proftpd', { name: 'admin-backend' });
    await writeHomeFile(backend, 'down.txt', DOWNLOAD);
    dir = await mkdtemp(join(tmpdir(), 'ftpx-admin-'));
    await writeFile(join(dir, 'up.txt'), UPLOAD);
    const port = await freePort();
    const file = join(dir, 'ftpx.yaml');
    await writeFile(
      file,
      [
        `dataDir: ${join(dir, 'data')}`,
        'log: { level: warn }',
        'listeners:',
        `  - { address: 127.0.0.1, port: ${port}, pool: main }`,
        'pools:',
        `  - { name: main, backends: [${backend.url}] }`,
        '',
      ].join('\n'),
    );
    process.env.FTPX_ADMIN_TOKEN = TOKEN;
    try {
      proxy = await startProxyProcess({
        args: ['serve', '--config', file, '--admin-listen', '127.0.0.1:0'],
        port,
      });
    } finally {
      delete process.env.FTPX_ADMIN_TOKEN;
    }
    admin = adminClient(adminUrlFrom(proxy.stderr()), TOKEN);
  });

  afterAll(async () => {
    await proxy?.stop();
    await backend?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('answers /healthz and /readyz openly and wants the token for everything else', async () => {
    const open = adminClient(adminUrlFrom(proxy.stderr()));
    expect((await open.call('/healthz')).status).toBe(200);
    expect((await open.call('/readyz')).status).toBe(200);
    expect((await open.call('/metrics')).status).toBe(401);
    expect((await open.call('/sessions')).status).toBe(401);
    expect((await adminClient(adminUrlFrom(proxy.stderr()), `${TOKEN}x`).call('/metrics')).status).toBe(401);
    expect((await admin.call('/nothing')).status).toBe(404);
  });

  it('counts sessions, logins, bytes, transfers and backend connects of a scripted set of sessions', async () => {
    const before = await admin.metrics();
    const url = `ftp://${backend.user}:${backend.password}@127.0.0.1:${proxy.port}`;
    for (let i = 0; i < 2; i++) {
      const got = await curl([`${url}/down.txt`]);
      expect(got.stdout.toString()).toBe(DOWNLOAD);
    }
    const put = await curl(['-T', join(dir, 'up.txt'), `${url}/up.txt`]);
    expect(put.code).toBe(0);
    const wrong = await RawFtp.open(proxy.port);
    await wrong.reply();
    await wrong.command(`USER ${backend.user}`);
    expect(await wrong.command('PASS not-the-password')).toMatch(/^530/);
    await wrong.command('QUIT');
    wrong.destroy();

    const open = await RawFtp.open(proxy.port);
    await open.login(backend.user, backend.password);
    const after = await admin.metrics();
    const delta = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0);
    expect(delta(`ftpx_sessions_total${labels}`)).toBe(5);
    expect(after.get(`ftpx_sessions_active${labels}`)).toBe(1);
    expect(delta('ftpx_logins_total{pool="main",protocol="ftp",result="ok",role="reverse"}')).toBe(4);
    expect(delta('ftpx_logins_total{pool="main",protocol="ftp",result="failed",role="reverse"}')).toBe(1);
    expect(delta('ftpx_transfer_bytes_total{direction="out",pool="main",protocol="ftp"}')).toBe(
      2 * DOWNLOAD.length,
    );
    expect(delta('ftpx_transfer_bytes_total{direction="in",pool="main",protocol="ftp"}')).toBe(UPLOAD.length);
    expect(delta('ftpx_transfer_duration_seconds_count{pool="main",protocol="ftp",result="ok"}')).toBe(3);
    expect(
      delta(`ftpx_transfer_duration_seconds_bucket{le="+Inf",pool="main",protocol="ftp",result="ok"}`),
    ).toBe(3);
    const backendLabels = `{backend="${backend.url}",pool="main"}`;
    expect(delta(`ftpx_backend_connect_seconds_count${backendLabels}`)).toBe(5);
    expect(after.get(`ftpx_backend_sessions_active${backendLabels}`)).toBe(1);
    expect(delta('ftpx_control_plane_call_seconds_count{operation="resolve-backend",result="ok"}')).toBe(5);

    const sessions = await admin.sessions();
    expect(sessions).toHaveLength(1);
    const [session] = sessions;
    expect(session).toMatchObject({
      protocol: 'ftp',
      role: 'reverse',
      pool: 'main',
      user: backend.user,
      backend: backend.url,
      bytesIn: 0,
      bytesOut: 0,
    });
    expect(session?.client).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(typeof session?.idleSeconds).toBe('number');

    // The kick: the client is told 421, and the session is gone from the list and the gauges.
    const id = String(session?.id);
    const kicked = await admin.call(`/sessions/${id}`, { method: 'DELETE' });
    expect(kicked.status).toBe(200);
    expect(await open.reply()).toMatch(/^421 .*closed by the administrator/);
    expect(await open.closed()).toBe(true);
    await expect.poll(() => admin.sessions()).toHaveLength(0);
    const end = await admin.metrics();
    expect(end.get(`ftpx_sessions_active${labels}`)).toBe(0);
    expect(end.get(`ftpx_backend_sessions_active${backendLabels}`)).toBe(0);
    expect(end.get('ftpx_sessions_kicked_total')).toBe(1);
    expect((await admin.call(`/sessions/${id}`, { method: 'DELETE' })).status).toBe(404);
  });
});
