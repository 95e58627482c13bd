// biome-ignore-all lint/performance/useDomNodeTextContent: these are Playwright locators; the rendered text is what the test checks
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningAdminServer, startAdminServer } from '../../../edge-worker/admin/admin-server.js';
import { localAdminSource } from '../../../edge-worker/admin/local-admin-source.js';
import { silentLogger } from '../../../edge-worker/log/logger.js';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../../support/ftp-backends.js';
import { curl } from '../../support/ftp-clients.js';
import { startTestProxy, type TestProxy } from '../../support/proxy.js';
import { RawFtp } from '../../support/raw-ftp.js';

const TOKEN = 'status-page-token-5e1f0c9a-0123456789';
const CHROMIUM = '/usr/bin/chromium';

/** The status page in a real headless Chromium (Debian's), with live sessions behind it. */
describe('status page', () => {
  let backend: FtpBackend;
  let proxy: TestProxy;
  let admin: RunningAdminServer;
  let browser: Browser;
  let dir: string;

  beforeAll(async () => {
    backend = await startFtpBackend('proftpd', { name: 'status-backend' });
    await writeHomeFile(backend, 'data.bin', Buffer.alloc(200 * 1024, 7));
    dir = await mkdtemp(join(tmpdir(), 'ftpx-status-'));
    proxy = await startTestProxy({ backends: [backend.url], pool: 'web' });
    admin = await startAdminServer({
      host: '127.0.0.1',
      port: 0,
      token: TOKEN,
      source: localAdminSource(proxy.worker),
      log: silentLogger,
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });

  afterAll(async () => {
    await browser?.close();
    await admin?.close();
    await proxy?.close();
    await backend?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('renders backends, sessions and throughput from live data and refreshes itself', async () => {
    const first = await RawFtp.open(proxy.port);
    await first.login(backend.user, backend.password);
    const got = await curl([
      `ftp://${backend.user}:${backend.password}@127.0.0.1:${proxy.port}/data.bin`,
      '-o',
      join(dir, 'data.bin'),
    ]);
    expect(got.code).toBe(0);

    const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
    try {
      await page.goto(`${admin.url}/#token=${TOKEN}`);
      const sessions = page.locator('#sessions tbody');
      await expect.poll(() => sessions.innerText()).toContain(backend.user);
      expect(await sessions.innerText()).toContain(backend.url);
      const backends = await page.locator('#backends tbody').innerText();
      expect(backends).toContain('web');
      expect(backends).toContain(backend.url);
      // The worker connected to it: up, with the one session on it.
      expect(backends).toMatch(/\bup\s+1/);
      expect(await page.locator('#session-count').innerText()).toBe('1');
      // 200 KiB went out within the last minute: the rate and the bars show it.
      expect(await page.locator('#rate').innerText()).toMatch(/^[1-9][\d.]* (B|KiB)\/s$/);
      expect(await page.locator('#throughput rect').count()).toBeGreaterThan(0);

      // No reload: the page fetches /status.json again and shows the second session.
      const second = await RawFtp.open(proxy.port);
      await second.login(backend.user, backend.password);
      await expect.poll(() => page.locator('#session-count').innerText(), { timeout: 8000 }).toBe('2');
      expect(await page.locator('#sessions tbody tr').count()).toBe(2);

      const png = await page.screenshot({ fullPage: true });
      expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
      // IHDR: width and height of the decoded image.
      expect(png.readUInt32BE(16)).toBe(1000);
      expect(png.readUInt32BE(20)).toBeGreaterThanOrEqual(400);
      // A page of tables and bars compresses to kilobytes, a blank one to a few hundred bytes.
      expect(png.length).toBeGreaterThan(15_000);
      first.destroy();
      second.destroy();
    } finally {
      await page.close();
    }
  });

  it('shows the refusal when the page is opened without the token', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(admin.url);
      await expect.poll(() => page.locator('#error').innerText()).toContain('HTTP 401');
      expect(await page.locator('#sessions tbody').innerText()).toBe('');
    } finally {
      await page.close();
    }
  });
});
