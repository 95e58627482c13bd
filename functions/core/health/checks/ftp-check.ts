import { isIP, connect as netConnect, type Socket } from 'node:net';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import type { BackendUrl } from '../../backend-url.js';
import type { CheckResult } from '../health-state.js';
import { command, type FtpReply, readReply } from './ftp-replies.js';

export interface FtpCheckOptions {
  timeoutMs: number;
  /** "banner": the 220 only; "noop": then NOOP (200); "login": then USER/PASS (230). */
  check: 'banner' | 'noop' | 'login';
  user?: string;
  password?: string;
  /** FTPS: accept a certificate no trusted CA signed (self-signed backends). */
  allowUntrustedCertificates: boolean;
  /** FTPS: warn when the certificate expires within this many days. */
  certificateExpiryWarningDays: number;
  /** Epoch ms; defaults to Date.now. */
  now?: () => number;
}

/** The check failed for a reason worth storing (not a bug). */
class CheckFailed extends Error {}

/**
 * An FTP or FTPS backend's active check: connect, a 220 banner within the timeout (a 421 or any
 * other code fails), for ftps:// `AUTH TLS` (or TLS from the first byte for implicit FTPS) with the
 * certificate checked and its expiry warned about, then optionally NOOP or a login with the
 * health-check account, and QUIT. Latency is the time to the banner (plus the handshake for FTPS).
 */
export async function checkFtp(
  url: BackendUrl,
  options: FtpCheckOptions,
  /** Connect here rather than to `url.host` (an address the destination policy judged). */
  address?: string,
): Promise<CheckResult> {
  const now = options.now ?? Date.now;
  const started = now();
  const protocol = url.protocol === 'ftps' ? 'ftps' : 'ftp';
  const deadline = started + options.timeoutMs;
  const left = () => Math.max(1, deadline - now());
  let socket: Socket | undefined;
  try {
    socket = await connectTcp(address ?? url.host, url.port, options.timeoutMs);
    let certificate: { notAfter: number } | undefined;
    if (protocol === 'ftps' && url.implicitTls) {
      const tls = await startTls(socket, url, options, left());
      socket = tls.socket;
      certificate = tls.certificate;
    }
    const banner = await readReply(socket, left(), '220 banner', options.timeoutMs);
    if (banner.code !== 220) throw new CheckFailed(`banner ${describe(banner)}`);
    if (protocol === 'ftps' && !url.implicitTls) {
      const auth = await command(socket, 'AUTH TLS', left(), options.timeoutMs);
      if (auth.code !== 234) throw new CheckFailed(`AUTH TLS answered ${describe(auth)}`);
      const tls = await startTls(socket, url, options, left());
      socket = tls.socket;
      certificate = tls.certificate;
    }
    const latencyMs = now() - started;
    if (options.check === 'noop') {
      const noop = await command(socket, 'NOOP', left(), options.timeoutMs);
      if (noop.code !== 200) throw new CheckFailed(`NOOP answered ${describe(noop)}`);
    } else if (options.check === 'login') {
      await login(socket, options, left);
    }
    socket.write('QUIT\r\n');
    const warning = certificate ? expiryWarning(certificate.notAfter, now(), options) : undefined;
    return {
      ok: true,
      at: started,
      latencyMs,
      protocol,
      reason: `220 banner${protocol === 'ftps' ? ', TLS handshake' : ''}${options.check === 'banner' ? '' : `, ${options.check}`}`,
      ...(certificate ? { certNotAfter: certificate.notAfter } : {}),
      ...(warning ? { warning } : {}),
    };
  } catch (err) {
    return {
      ok: false,
      at: started,
      latencyMs: now() - started,
      protocol,
      reason: err instanceof Error ? err.message : String(err),
    };
  } finally {
    socket?.destroy();
  }
}

function describe(reply: FtpReply): string {
  return `${reply.code} ${reply.text}`.slice(0, 200);
}

async function login(socket: Socket, options: FtpCheckOptions, left: () => number): Promise<void> {
  if (options.user === undefined) throw new CheckFailed('login check without a health-check user');
  const user = await command(socket, `USER ${options.user}`, left(), options.timeoutMs);
  if (user.code === 230) return;
  if (user.code !== 331) throw new CheckFailed(`USER answered ${describe(user)}`);
  socket.write(`PASS ${options.password ?? ''}\r\n`);
  // The reply to PASS is read without echoing the command anywhere.
  const pass = await readReply(socket, left(), 'reply to PASS', options.timeoutMs);
  if (pass.code !== 230) throw new CheckFailed(`login answered ${describe(pass)}`);
}

function connectTcp(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host, port });
    socket.pause();
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new CheckFailed(`no TCP connection within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      // Errors between reads must not go unhandled; the next read sees the close.
      socket.on('error', () => {});
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new CheckFailed(`connect: ${err.message}`));
    });
  });
}

function startTls(
  socket: Socket,
  url: BackendUrl,
  options: FtpCheckOptions,
  timeoutMs: number,
): Promise<{ socket: TLSSocket; certificate?: { notAfter: number } }> {
  return new Promise((resolve, reject) => {
    const tls = tlsConnect({
      socket,
      ...(isIP(url.host) === 0 ? { servername: url.host } : {}),
      rejectUnauthorized: !options.allowUntrustedCertificates,
    });
    const timer = setTimeout(() => {
      tls.destroy();
      reject(new CheckFailed(`no TLS handshake within ${timeoutMs} ms`));
    }, timeoutMs);
    tls.once('secureConnect', () => {
      clearTimeout(timer);
      tls.removeAllListeners('error');
      tls.on('error', () => {});
      tls.pause();
      const notAfter = Date.parse(tls.getPeerCertificate().valid_to ?? '');
      resolve({ socket: tls, ...(Number.isFinite(notAfter) ? { certificate: { notAfter } } : {}) });
    });
    tls.once('error', (err) => {
      clearTimeout(timer);
      tls.destroy();
      reject(new CheckFailed(`TLS: ${err.message}`));
    });
  });
}

function expiryWarning(notAfter: number, nowMs: number, options: FtpCheckOptions): string | undefined {
  const days = (notAfter - nowMs) / 86_400_000;
  if (days < 0) return `the certificate expired ${Math.ceil(-days)} day(s) ago`;
  if (days < options.certificateExpiryWarningDays)
    return `the certificate expires in ${Math.floor(days)} day(s)`;
  return undefined;
}
