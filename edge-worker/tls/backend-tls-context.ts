import { constants } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { isIP, type Socket } from 'node:net';
import {
  type ConnectionOptions,
  checkServerIdentity,
  connect,
  createSecureContext,
  type PeerCertificate,
  type SecureContext,
  type TLSSocket,
} from 'node:tls';
import { ConfigError } from '../config/config-error.js';
import { versionRange } from '../config/tls-protocols.js';
import type { BackendTlsConfig } from '../config/tls-schema.js';
import type { Logger } from '../log/logger.js';
import { BackendTlsSessions, type SharedBackendSessions } from './backend-tls-sessions.js';
import { backendSessionContext, backendTrustDigest } from './backend-trust-context.js';
import { nodeCipherList } from './cipher-list.js';
import { readConfigFile, readPemDirectory } from './read-pem.js';

/** A backend TLS handshake failed (verification, protocol, timeout) or could not start. */
export class BackendTlsError extends Error {
  override readonly name = 'BackendTlsError';
}

/** Minimum PSK length mod_proxy accepts (`tls_load_psk`). */
const MIN_PSK_BYTES = 20;

/**
 * A pool's backend TLS client: one secure context built from its ProxyTLS* settings at start, and
 * the cache of TLS sessions per backend and trust context so new proxy sessions resume.
 */
export class BackendTls {
  readonly sessions: BackendTlsSessions;

  private constructor(
    readonly config: BackendTlsConfig,
    private readonly context: SecureContext,
    private readonly psk: { identity: string; key: Buffer } | undefined,
    /** The digest of the settings that verify a backend (backend-trust-context.ts). */
    readonly trustDigest: string,
    shared: SharedBackendSessions | undefined,
  ) {
    this.sessions = new BackendTlsSessions(Date.now, shared);
  }

  /**
   * Under which context a control connection to `host` (the name or address its certificate must
   * match) may resume a cached session: only one made with these same trust settings, for that host.
   */
  sessionContext(host: string): string {
    return backendSessionContext(this.trustDigest, host);
  }

  /**
   * Whether a connected socket's sessions may be cached: with verifyServer, only those of a
   * handshake that verified (rejectUnauthorized already ends the others; this makes it explicit).
   */
  mayCacheSessionOf(socket: TLSSocket): boolean {
    return !this.config.verifyServer || socket.authorized;
  }

  /** `shared`: the store the backend sessions are shared through (none: this process only). */
  static async load(
    config: BackendTlsConfig,
    key: string,
    shared?: SharedBackendSessions,
  ): Promise<BackendTls> {
    const ca: string[] = [];
    if (config.caFile) ca.push(await readConfigFile(config.caFile, `${key}.caFile`, ''));
    if (config.caPath)
      ca.push(...(await readPemDirectory(config.caPath, 'CERTIFICATE', `${key}.caPath`, '')));
    const crl: string[] = [];
    if (config.crlFile) crl.push(await readConfigFile(config.crlFile, `${key}.crlFile`, ''));
    if (config.crlPath)
      crl.push(...(await readPemDirectory(config.crlPath, 'X509 CRL', `${key}.crlPath`, '')));
    const cert = config.certFile ? await readConfigFile(config.certFile, `${key}.certFile`, '') : undefined;
    const privateKey = config.certFile
      ? await readConfigFile(config.keyFile ?? config.certFile, `${key}.keyFile`, '')
      : undefined;
    const psk = config.preSharedKey ? await loadPsk(config.preSharedKey, `${key}.preSharedKey`) : undefined;
    let ciphers = config.ciphers;
    // OpenSSL's DEFAULT list has no PSK suites: a PSK backend would find nothing in common.
    if (psk && !/PSK/i.test(ciphers)) ciphers = `PSK:${ciphers}`;
    if (config.allowWeakSecurity) ciphers = `${ciphers}:@SECLEVEL=0`;
    // mod_proxy leaves the choice to the backend, which follows the client's order unless it has
    // TLSServerCipherPreference on: what is offered first is what most backends pick.
    ciphers = nodeCipherList(ciphers, config.cipherSuites).ciphers;
    const range = versionRange(config.protocols);
    // Node's TLS-PSK works up to TLS 1.2 only.
    const maxVersion = psk && range.maxVersion === 'TLSv1.3' ? ('TLSv1.2' as const) : range.maxVersion;
    let context: SecureContext;
    try {
      context = createSecureContext({
        minVersion: range.minVersion,
        maxVersion,
        ciphers,
        ...(ca.length > 0 ? { ca } : {}),
        ...(crl.length > 0 ? { crl } : {}),
        ...(cert && privateKey ? { cert, key: privateKey } : {}),
        ...(config.noSessionTickets ? { secureOptions: constants.SSL_OP_NO_TICKET } : {}),
      });
    } catch (err) {
      throw new ConfigError([{ file: '', key, message: `backend TLS settings: ${(err as Error).message}` }], {
        cause: err,
      });
    }
    const trustDigest = await backendTrustDigest({
      ca,
      crl,
      verifyServer: config.verifyServer,
      clientCert: cert,
      clientKey: privateKey,
      psk,
      minVersion: range.minVersion,
      maxVersion,
      ciphers,
      cipherSuites: config.cipherSuites,
    });
    return new BackendTls(config, context, psk, trustDigest, shared);
  }

  /**
   * The client side of a handshake on `socket`, to `host` (the backend's name or address): SNI is
   * the name (never an IP literal, RFC 6066), ALPN offers `ftp`, and with verifyServer the chain must
   * verify and the name match a DNS SAN (or the address an IP SAN). `session` resumes a TLS session:
   * the control connection's for data connections, a cached one for control connections.
   */
  async connect(
    socket: Socket,
    host: string,
    options: { session?: Buffer | undefined; log?: Logger },
  ): Promise<TLSSocket> {
    const verify = this.config.verifyServer;
    const connectOptions: ConnectionOptions = {
      socket,
      secureContext: this.context,
      ...(isIP(host) === 0 ? { servername: host } : {}),
      ALPNProtocols: ['ftp'],
      rejectUnauthorized: verify,
      // A PSK handshake has no certificate to check (mod_proxy lets such sessions pass too).
      checkServerIdentity: (_name: string, cert: PeerCertificate) =>
        verify && !(this.psk && !cert.raw) ? checkServerIdentity(host, cert) : undefined,
      ...(options.session ? { session: options.session } : {}),
      ...(this.psk
        ? { pskCallback: () => (this.psk ? { identity: this.psk.identity, psk: this.psk.key } : null) }
        : {}),
    };
    const log = options.log;
    if (isIP(host) === 0) log?.trace('proxy.tls', 9, () => `sending SNI '${host}'`);
    else log?.trace('proxy.tls', 9, () => `skipping sending of IP address SNI '${host}'`);
    const started = performance.now();
    const tlsSocket = connect(connectOptions);
    await new Promise<void>((resolve, reject) => {
      const timeoutMs = this.config.handshakeTimeout;
      const timer =
        timeoutMs > 0
          ? setTimeout(
              () => fail(new BackendTlsError(`TLS handshake with ${host} timed out after ${timeoutMs} ms`)),
              timeoutMs,
            )
          : undefined;
      const fail = (err: Error) => {
        clearTimeout(timer);
        tlsSocket.destroy();
        reject(
          err instanceof BackendTlsError
            ? err
            : new BackendTlsError(`TLS handshake with ${host} failed: ${err.message}`, { cause: err }),
        );
      };
      const closed = () =>
        fail(new BackendTlsError(`${host} closed the connection during the TLS handshake`));
      tlsSocket.once('secureConnect', () => {
        clearTimeout(timer);
        tlsSocket.off('error', fail);
        tlsSocket.off('close', closed);
        resolve();
      });
      tlsSocket.once('error', fail);
      tlsSocket.once('close', closed);
    });
    log?.trace('timing', 4, () => `TLS handshake duration: ${Math.round(performance.now() - started)} ms`);
    if (log?.traces('proxy.tls', 9)) {
      const cipher = tlsSocket.getCipher();
      log.trace(
        'proxy.tls',
        9,
        tlsSocket.isSessionReused()
          ? `RESUMED SSL/TLS session: ${tlsSocket.getProtocol()} using cipher ${cipher.name}`
          : 'negotiated NEW SSL/TLS session',
      );
    }
    if (this.config.enableDiags) {
      const peer = tlsSocket.getPeerCertificate();
      options.log?.info('backend TLS handshake', {
        host,
        protocol: tlsSocket.getProtocol(),
        cipher: tlsSocket.getCipher().name,
        reused: tlsSocket.isSessionReused(),
        alpn: tlsSocket.alpnProtocol,
        ...(peer?.subject ? { subject: peer.subject.CN, issuer: peer.issuer?.CN } : {}),
      });
    }
    return tlsSocket;
  }
}

/**
 * ProxyTLSPreSharedKey `identity hex:/path` with mod_proxy's checks (http://www.proftpd.org/docs/contrib/mod_proxy.html#ProxyTLSPreSharedKey): the file must
 * not be world-readable or world-writable, must hold hex only, and at least 20 bytes of key.
 */
async function loadPsk(
  setting: { identity: string; key: string },
  key: string,
): Promise<{ identity: string; key: Buffer }> {
  const path = setting.key.slice('hex:'.length);
  const refuse = (message: string) => new ConfigError([{ file: '', key, message: `${path}: ${message}` }]);
  const info = await stat(path).catch((err: Error) => {
    throw refuse(`cannot read: ${err.message}`);
  });
  if (!info.isFile()) throw refuse('is not a regular file');
  if (info.mode & 0o004) throw refuse('is world-readable: a pre-shared key must not be');
  if (info.mode & 0o002) throw refuse('is world-writable: a pre-shared key must not be');
  const text = (await readConfigFile(path, key, '')).trim();
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(text))
    throw refuse('must hold the key in hex (an even number of hex digits)');
  const bytes = Buffer.from(text, 'hex');
  if (bytes.length < MIN_PSK_BYTES) {
    throw refuse(`holds ${bytes.length} bytes; a pre-shared key needs at least ${MIN_PSK_BYTES}`);
  }
  return { identity: setting.identity, key: bytes };
}
