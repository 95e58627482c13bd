import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBackendUrl } from '../../../functions/core/backend-url.js';
import { type ActiveCheckOptions, checkBackend } from '../../../functions/core/health/check-backend.js';
import { type FtpBackend, startFtpBackend } from '../../support/ftp-backends.js';
import { freePort } from '../../support/ports.js';
import { startSshdForHealth, type TestSshd } from '../../support/sshd-health.js';

/**
 * The active checks against real servers (ProFTPD, OpenSSH sshd) and against loopback listeners
 * that misbehave the ways backends do: accept TCP and never greet, greet with 421.
 */
describe('active health checks', () => {
  let proftpd: FtpBackend;
  let ftps: FtpBackend;
  let certDir: string;
  let sshd: TestSshd;
  let silent: Server;
  let busy: Server;
  const sockets = new Set<Socket>();
  const options: ActiveCheckOptions = {
    timeoutMs: 1500,
    check: 'banner',
    allowUntrustedCertificates: false,
    certificateExpiryWarningDays: 14,
  };
  const url = (text: string) => {
    const parsed = parseBackendUrl(text);
    if (!parsed.ok) throw new Error(parsed.error);
    return parsed.url;
  };
  const listen = async (onConnection: (socket: Socket) => void) => {
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
      onConnection(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return server;
  };
  const portOf = (server: Server) => (server.address() as { port: number }).port;

  beforeAll(async () => {
    // A self-signed certificate that expires in 5 days: FTPS checks warn within 14.
    certDir = await mkdtemp(join(tmpdir(), 'ftpx-health-cert-'));
    const [cert, key] = [join(certDir, 'cert.pem'), join(certDir, 'key.pem')];
    await promisify(execFile)('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '5',
      '-subj',
      '/CN=localhost',
      '-keyout',
      key,
      '-out',
      cert,
    ]);
    [proftpd, ftps, sshd] = await Promise.all([
      startFtpBackend('proftpd', { name: 'health-proftpd' }),
      startFtpBackend('proftpd', {
        name: 'health-ftps',
        extraConfig: [
          'LoadModule mod_tls.c',
          '<IfModule mod_tls.c>',
          '  TLSEngine on',
          `  TLSRSACertificateFile ${cert}`,
          `  TLSRSACertificateKeyFile ${key}`,
          '  TLSProtocol TLSv1.2 TLSv1.3',
          '</IfModule>',
          '',
        ].join('\n'),
      }),
      startSshdForHealth(),
    ]);
    silent = await listen(() => {});
    busy = await listen((socket) => socket.end('421 Too many users, try later\r\n'));
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await Promise.all([
      proftpd?.stop(),
      ftps?.stop(),
      sshd?.stop(),
      new Promise((resolve) => silent?.close(resolve)),
      new Promise((resolve) => busy?.close(resolve)),
    ]);
    await rm(certDir, { recursive: true, force: true });
  });

  it('FTP: a real ProFTPD passes with its 220 banner, also with NOOP and a login', async () => {
    const banner = await checkBackend(url(proftpd.url), options);
    expect(banner).toMatchObject({ ok: true, protocol: 'ftp', reason: '220 banner' });
    expect(banner.latencyMs).toBeLessThan(1500);
    expect(await checkBackend(url(proftpd.url), { ...options, check: 'noop' })).toMatchObject({
      ok: true,
      reason: '220 banner, noop',
    });
    const login = { ...options, check: 'login' as const, user: proftpd.user, password: proftpd.password };
    expect(await checkBackend(url(proftpd.url), login)).toMatchObject({
      ok: true,
      reason: '220 banner, login',
    });
    expect(await checkBackend(url(proftpd.url), { ...login, password: 'wrong' })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^login answered 530/),
    });
  });

  it('FTP: a listener that never greets fails at the timeout; a 421 greeting fails at once', async () => {
    const started = Date.now();
    expect(await checkBackend(url(`ftp://127.0.0.1:${portOf(silent)}`), options)).toMatchObject({
      ok: false,
      reason: 'no 220 banner within 1500 ms',
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    expect(await checkBackend(url(`ftp://127.0.0.1:${portOf(busy)}`), options)).toMatchObject({
      ok: false,
      reason: 'banner 421 Too many users, try later',
    });
    const closed = await freePort('127.0.0.1');
    expect(await checkBackend(url(`ftp://127.0.0.1:${closed}`), options)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('ECONNREFUSED'),
    });
  });

  it('FTPS: AUTH TLS and the handshake; a self-signed certificate only when allowed, with an expiry warning', async () => {
    const target = url(`ftps://127.0.0.1:${ftps.port}`);
    const refused = await checkBackend(target, options);
    expect(refused).toMatchObject({ ok: false, protocol: 'ftps' });
    expect(refused.reason).toMatch(/^TLS: self[- ]signed certificate/);
    const allowed = await checkBackend(target, {
      ...options,
      allowUntrustedCertificates: true,
      check: 'login',
      user: ftps.user,
      password: ftps.password,
    });
    expect(allowed).toMatchObject({
      ok: true,
      protocol: 'ftps',
      reason: '220 banner, TLS handshake, login',
      warning: 'the certificate expires in 4 day(s)',
    });
    const days = ((allowed.certNotAfter as number) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(4);
    expect(days).toBeLessThan(5.01);
  });

  it('FTPS: a backend without TLS fails the AUTH TLS step', async () => {
    const result = await checkBackend(url(`ftps://127.0.0.1:${proftpd.port}`), options);
    expect(result).toMatchObject({ ok: false, protocol: 'ftps' });
    expect(result.reason).toMatch(/^AUTH TLS answered 5\d\d/);
  });

  it('SFTP: a real sshd passes the version and key exchange; a non-SSH listener fails', async () => {
    const result = await checkBackend(url(`sftp://127.0.0.1:${sshd.port}`), options);
    expect(result).toMatchObject({ ok: true, protocol: 'sftp' });
    expect(result.reason).toMatch(/^SSH key exchange \(.+, ssh-ed25519\)$/);
    expect(await checkBackend(url(`sftp://127.0.0.1:${portOf(silent)}`), options)).toMatchObject({
      ok: false,
      protocol: 'sftp',
    });
    expect(await checkBackend(url(`sftp://127.0.0.1:${proftpd.port}`), options)).toMatchObject({
      ok: false,
    });
  });

  it('SFTP: a stopped sshd fails, and passes again once restarted on its port', async () => {
    const target = url(`sftp://127.0.0.1:${sshd.port}`);
    await sshd.stop();
    const down = await checkBackend(target, options);
    expect(down).toMatchObject({ ok: false, protocol: 'sftp' });
    expect(down.reason).toContain('ECONNREFUSED');
    sshd = await startSshdForHealth({ port: sshd.port });
    expect(await checkBackend(target, options)).toMatchObject({ ok: true, protocol: 'sftp' });
  });
});
