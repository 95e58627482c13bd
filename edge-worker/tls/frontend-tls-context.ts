import { constants, createHash, X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import {
  createSecureContext,
  createServer,
  type SecureContext,
  type SecureContextOptions,
  type Server,
  TLSSocket,
} from 'node:tls';
import { ConfigError } from '../config/config-error.js';
import { versionRange } from '../config/tls-protocols.js';
import type { ListenerTlsConfig } from '../config/tls-schema.js';
import { nodeCipherList } from './cipher-list.js';
import { sessionIdContextFor } from './frontend-caches.js';
import { readConfigFile } from './read-pem.js';
import { SessionBinding } from './session-binding.js';
import { type TlsPolicy, tlsPolicy } from './tls-policy.js';

/** A frontend TLS handshake failed, timed out, or was refused after it (client certificate, reuse). */
export class FrontendTlsError extends Error {
  override readonly name: string = 'FrontendTlsError';
}

/**
 * A data connection resumed a TLS session, but not one of its control connection: another client's
 * connection (or a client that mixes up its own sessions). The passive port may still get its own
 * client's connection.
 */
export class ForeignSessionError extends FrontendTlsError {
  override readonly name = 'ForeignSessionError';
}

/** The listener's default certificate, as the TLS caches see it (OCSP stapling, session ID context). */
export interface ListenerCertificate {
  certPem: string;
  chainPem?: string;
  /**
   * The listener and its client verification (TLSVerifyClient, TLSCACertificateFile), as part of
   * the session ID context: a session resumes only where it was verified the same way.
   */
  sessionScope?: string;
}

/**
 * Where the TLS caches attach (edge-worker/tls/frontend-caches.ts: shared sessions, ticket keys, OCSP
 * stapling): once per TLS listener, on its tls.Server. Every frontend TLS socket (implicit control
 * connections, AUTH TLS upgrades, data connections) is created with `server` set to it, so Node routes
 * 'newSession', 'resumeSession' and 'OCSPRequest' of all of them through it, and its ticket keys
 * (server.setTicketKeys) apply to them all.
 */
export interface TlsServerHook {
  /** Options the caches need on the server itself (a session ID context every worker shares). */
  serverOptions?(certificate: ListenerCertificate): { sessionIdContext?: string; sessionTimeout?: number };
  /** `ready`, when given, is awaited before the listener is used (see FrontendTlsCaches.ticketKeyReady). */
  attach(
    server: Server,
    certificate: ListenerCertificate,
  ): { close(): void | Promise<void>; ready?: Promise<void> };
  /** Every completed frontend handshake (control and data connections), for the metrics. */
  handshake?(resumed: boolean): void;
}

interface CertificateGroup {
  names: string[];
  context: SecureContext;
}

/** One TLS listener's certificates, settings and tls.Server; shared by all its sessions. */
export class FrontendTls {
  readonly policy: TlsPolicy;
  private closeHook: (() => void | Promise<void>) | undefined;
  private onHandshake: ((resumed: boolean) => void) | undefined;
  private readonly sessions = new SessionBinding();

  private constructor(
    readonly config: ListenerTlsConfig,
    readonly server: Server,
    private readonly groups: CertificateGroup[],
  ) {
    this.policy = tlsPolicy(config.required);
    // Before any socket exists: Node enables session events per socket, from the listeners present then.
    server.on('newSession', this.sessions.onNewSession);
  }

  static async load(config: ListenerTlsConfig, key: string, hook?: TlsServerHook): Promise<FrontendTls> {
    const clientCA = config.clientCA
      ? await readConfigFile(config.clientCA, `${key}.clientCA`, '')
      : undefined;
    const cipherList = nodeCipherList(config.ciphers, config.cipherSuites);
    const common: SecureContextOptions = {
      ...versionRange(config.protocols),
      ciphers: cipherList.ciphers,
      // The server's order wins (honorCipherOrder), except over a client that lists ChaCha20 first:
      // it says it has no AES hardware, and there ChaCha20 is the cheaper suite for both ends.
      ...(cipherList.defaultSuites ? { secureOptions: constants.SSL_OP_PRIORITIZE_CHACHA } : {}),
      ...(clientCA ? { ca: clientCA } : {}),
      honorCipherOrder: true,
    };
    // Certificates answering the same names share one context, so one name can have an RSA and an
    // EC certificate (TLSRSACertificateFile and TLSECCertificateFile) and OpenSSL picks per client.
    const byNames = new Map<string, { names: string[]; certs: string[]; keys: string[] }>();
    let firstCert = '';
    let firstChain: string | undefined;
    for (const [index, entry] of config.certificates.entries()) {
      const where = `${key}.certificates[${index}]`;
      const cert = await readConfigFile(entry.cert, `${where}.cert`, '');
      const privateKey = await readConfigFile(entry.key ?? entry.cert, `${where}.key`, '');
      const chain = entry.chain ? await readConfigFile(entry.chain, `${where}.chain`, '') : undefined;
      let names = entry.serverNames;
      if (!names) {
        try {
          names = dnsNames(new X509Certificate(cert));
        } catch (err) {
          throw new ConfigError(
            [{ file: '', key: `${where}.cert`, message: `${entry.cert} is not a PEM certificate` }],
            { cause: err },
          );
        }
      }
      if (index === 0) {
        firstCert = cert;
        firstChain = chain;
      }
      const groupKey = names
        .map((name) => name.toLowerCase())
        .sort()
        .join(' ');
      const group = byNames.get(groupKey) ?? { names, certs: [], keys: [] };
      group.certs.push(chain ? `${cert.trim()}\n${chain}` : cert);
      group.keys.push(privateKey);
      byNames.set(groupKey, group);
    }
    const groups: CertificateGroup[] = [];
    for (const group of byNames.values()) {
      try {
        groups.push({
          names: group.names,
          context: createSecureContext({ ...common, cert: group.certs, key: group.keys }),
        });
      } catch (err) {
        const names = group.names.join(', ') || '(no names)';
        throw new ConfigError(
          [{ file: '', key: `${key}.certificates`, message: `for ${names}: ${(err as Error).message}` }],
          { cause: err },
        );
      }
    }
    const defaultGroup = [...byNames.values()][0];
    const certificate: ListenerCertificate = {
      certPem: firstCert,
      ...(firstChain ? { chainPem: firstChain } : {}),
      sessionScope: sessionScopeOf(key, config, clientCA),
    };
    const server = createServer({
      ...common,
      // Node's default context is a hash of the process's argv: every listener of a worker would
      // accept every other's sessions, whatever its client verification.
      sessionIdContext: sessionIdContextFor(certificate),
      ...hook?.serverOptions?.(certificate),
      cert: defaultGroup?.certs,
      key: defaultGroup?.keys,
      requestCert: config.verifyClient !== 'off',
      rejectUnauthorized: config.verifyClient === 'on',
    });
    const frontend = new FrontendTls(config, server, groups);
    if (hook) {
      const attached = hook.attach(server, certificate);
      frontend.closeHook = () => attached.close();
      frontend.onHandshake = hook.handshake?.bind(hook);
      await attached.ready;
    }
    return frontend;
  }

  /** The pool SNI names for `serverName`, if the listener maps it. */
  poolFor(serverName: string | undefined): string | undefined {
    if (!serverName) return undefined;
    const name = serverName.toLowerCase();
    return this.config.sniPools.find((entry) => matchesName(entry.serverName.toLowerCase(), name))?.pool;
  }

  /**
   * Runs the server side of a handshake on `socket` (an implicit control connection, one upgraded
   * by AUTH TLS, or a data connection) and resolves once it is secure. A client certificate that was
   * sent but does not verify is refused even when it is optional (mod_tls `TLSVerifyClient optional`).
   * A data connection (`resumes` given) must resume that control connection's session (one it
   * established or was issued, session-binding.ts) unless sessionReuseRequired is off.
   */
  async accept(
    socket: Socket,
    options: { resumes?: TLSSocket; timeoutMs?: number } = {},
  ): Promise<TLSSocket> {
    const tlsSocket = this.sessions.track(
      () =>
        new TLSSocket(socket, {
          isServer: true,
          server: this.server,
          secureContext: sharedContextOf(this.server),
          requestCert: this.config.verifyClient !== 'off',
          rejectUnauthorized: this.config.verifyClient === 'on',
          SNICallback: (servername, callback) => callback(null, this.contextFor(servername)),
        }),
    );
    await new Promise<void>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? this.config.handshakeTimeout;
      const timer =
        timeoutMs > 0
          ? setTimeout(
              () => fail(new FrontendTlsError(`TLS handshake timed out after ${timeoutMs} ms`)),
              timeoutMs,
            )
          : undefined;
      const fail = (err: Error) => {
        clearTimeout(timer);
        tlsSocket.off('secure', done);
        tlsSocket.destroy();
        reject(
          err instanceof FrontendTlsError
            ? err
            : new FrontendTlsError(`TLS handshake failed: ${err.message}`, { cause: err }),
        );
      };
      const done = () => {
        clearTimeout(timer);
        tlsSocket.off('error', fail);
        tlsSocket.off('close', closed);
        resolve();
      };
      const closed = () => fail(new FrontendTlsError('connection closed during the TLS handshake'));
      tlsSocket.once('secure', done);
      tlsSocket.once('error', fail);
      tlsSocket.once('close', closed);
    });
    tlsSocket.on('error', () => {});
    this.sessions.established(tlsSocket);
    if (this.config.verifyClient !== 'off') {
      const refusal = clientCertificateRefusal(tlsSocket, this.config.verifyClient === 'on');
      if (refusal) {
        tlsSocket.destroy();
        throw new FrontendTlsError(`client certificate refused: ${refusal}`);
      }
    }
    if (options.resumes && this.config.sessionReuseRequired) {
      if (!tlsSocket.isSessionReused()) {
        tlsSocket.destroy();
        throw new FrontendTlsError(
          'the data connection did not reuse the TLS session of the control connection',
        );
      }
      if (!this.sessions.belongsTo(tlsSocket, options.resumes)) {
        tlsSocket.destroy();
        throw new ForeignSessionError(
          "the data connection resumed a TLS session that is not the control connection's",
        );
      }
    }
    this.onHandshake?.(tlsSocket.isSessionReused());
    return tlsSocket;
  }

  async close(): Promise<void> {
    const close = this.closeHook;
    this.closeHook = undefined;
    await close?.();
  }

  private contextFor(servername: string): SecureContext | undefined {
    const name = servername.toLowerCase();
    for (const group of this.groups) {
      if (group.names.some((candidate) => matchesName(candidate.toLowerCase(), name))) return group.context;
    }
    return undefined;
  }
}

/**
 * What besides the certificate must match for a session to resume (session ID context): the
 * listener, and how it verifies client certificates. OpenSSL refuses to resume a session (by ID or
 * ticket) whose context differs, so a session made where no certificate was asked for, or another
 * CA was trusted, never skips this listener's client verification. The same on every worker with
 * the same configuration.
 */
function sessionScopeOf(key: string, config: ListenerTlsConfig, clientCA: string | undefined): string {
  const ca = clientCA ? createHash('sha256').update(clientCA).digest('hex') : 'none';
  return `${key} verify=${config.verifyClient} ca=${ca}`;
}

/**
 * The context tls.Server uses for the connections it accepts itself, and whose ticket keys
 * server.setTicketKeys() changes: sockets made here use it too, so tickets and the server's session
 * settings are the same for every connection of the listener. Node keeps it in `_sharedCreds`
 * (stable since Node 0.x, but not documented); a Node without it would get a fresh context, which
 * still works, only without the server's ticket keys.
 */
function sharedContextOf(server: Server): SecureContext | undefined {
  return (server as unknown as { _sharedCreds?: SecureContext })._sharedCreds;
}

/**
 * Why the client's certificate is not acceptable, or undefined. Node's verify callback accepts every
 * chain during the handshake and leaves the verdict to JavaScript, which tls.Server does only for
 * the sockets it creates itself (setting `authorized`); for ours the verdict is read here from the
 * handle (`verifyError`, internal but stable for years). Without it, a certificate counts as
 * unverified: fail closed.
 */
export function clientCertificateRefusal(socket: TLSSocket, required: boolean): string | undefined {
  const certificate = socket.getPeerX509Certificate();
  if (!certificate) return required ? 'none was presented' : undefined;
  const handle = (socket as unknown as { _handle?: { verifyError?: () => Error | null } })._handle;
  if (typeof handle?.verifyError !== 'function') return 'cannot be verified on this Node version';
  const error = handle.verifyError();
  if (!error) return undefined;
  return (error as Error & { code?: string }).code ?? error.message;
}

/** `*.example.com` matches one label (`ftp.example.com`, not `a.b.example.com`); otherwise exact. */
function matchesName(pattern: string, name: string): boolean {
  if (pattern.startsWith('*.')) {
    const suffix = pattern.slice(1);
    return (
      name.endsWith(suffix) && !name.slice(0, -suffix.length).includes('.') && name.length > suffix.length
    );
  }
  return pattern === name;
}

function dnsNames(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? '')
    .split(/,\s*/)
    .filter((entry) => entry.startsWith('DNS:'))
    .map((entry) => entry.slice(4));
}
