import { createHash, X509Certificate } from 'node:crypto';
import type { Server } from 'node:tls';
import type { ControlPlaneClient } from '../control-plane/control-plane-client.js';
import type { Logger } from '../log/logger.js';
import { flushCounters, newCounters } from './local-counters.js';
import { SharedSessionCache } from './shared-session-cache.js';
import { TicketKeyRotation } from './ticket-key-rotation.js';
import type { FrontendTlsCacheSettings } from './tls-cache-settings.js';

/** The certificate a TLS listener serves: PEM, with its chain and (optionally) its issuer apart. */
export interface FrontendCertificate {
  certPem: string;
  /** Intermediate certificates (PEM, concatenated), as given to the server. */
  chainPem?: string;
  /** The issuer's certificate, when it is not in the chain (needed for OCSP requests). */
  issuerPem?: string;
  /** The listener and its client verification settings (frontend-tls-context.ts), part of the session ID context. */
  sessionScope?: string;
}

export interface FrontendTlsCacheDeps {
  controlPlane: ControlPlaneClient;
  settings: FrontendTlsCacheSettings;
  log: Logger;
  /** Epoch ms; defaults to Date.now (tests move a clock). */
  now?: () => number;
}

export interface FrontendTlsCaches {
  /** The server's ticket key period, once the shared key is applied (undefined before, or with tickets off). */
  readonly ticketKeyEpoch: number | undefined;
  /** Resolves when the first ticket key fetch and the OCSP prefetch have finished (successfully or not). */
  readonly ready: Promise<void>;
  /**
   * Resolves when the first ticket key fetch has finished (applied or failed; at once with tickets
   * off). A listener accepts only after it: a ticket issued under the key Node starts with would
   * stop decrypting when the shared key is applied, and that client's data connections would then
   * not resume its control connection's session.
   */
  readonly ticketKeyReady: Promise<void>;
  /** Adds local hits and errors to the shared statistics now. */
  flushStats(): Promise<void>;
  /**
   * Removes the listeners and stops the timers; sends nothing more (await flushStats() first to
   * deliver the last local counts: a call in flight while the store shuts down would be lost).
   */
  close(): void;
}

/**
 * What a frontend tls.Server needs from createServer for its sessions to resume on other workers:
 * the same session ID context on every worker (Node's default hashes the process's argv, so two
 * workers started differently would never resume each other's sessions) and the cache's timeout
 * as the session and ticket lifetime. Spread into tls.createServer's options.
 */
export function frontendTlsServerOptions(
  settings: FrontendTlsCacheSettings,
  certificate: FrontendCertificate,
): { sessionIdContext: string; sessionTimeout: number } {
  return { sessionIdContext: sessionIdContextFor(certificate), sessionTimeout: settings.sessions.timeoutS };
}

/**
 * 32 hex characters (OpenSSL allows 32 bytes) derived from the certificate and the listener's
 * session scope (its client verification): same on every worker serving that listener, different
 * between listeners that verify clients differently.
 */
export function sessionIdContextFor(certificate: FrontendCertificate): string {
  const hash = createHash('sha256')
    .update('ftpx-frontend:')
    .update(new X509Certificate(certificate.certPem).raw);
  if (certificate.sessionScope !== undefined) hash.update('\0').update(certificate.sessionScope);
  return hash.digest('hex').slice(0, 32);
}

/**
 * Hooks mod_tls_shmcache's job onto one frontend tls.Server (an implicit FTPS listener, or the
 * server whose `newSession` / `resumeSession` / `OCSPRequest` events AUTH TLS upgrades raise):
 * - the shared session cache (TLS session IDs) on `newSession` / `resumeSession`;
 * - shared, rotated ticket keys via `server.setTicketKeys` (TLS 1.3 and TLS 1.2 tickets);
 * - OCSP stapling from the shared cache on `OCSPRequest`.
 * Attach before the server accepts connections (Node decides per connection whether to raise the
 * session events, from the listeners present then).
 */
export function attachFrontendTlsCaches(
  server: Server,
  certificate: FrontendCertificate,
  deps: FrontendTlsCacheDeps,
): FrontendTlsCaches {
  const { settings, log, controlPlane } = deps;
  const now = deps.now ?? Date.now;
  const counters = newCounters();
  const detach: Array<() => void> = [];
  const pending: Promise<unknown>[] = [];

  const expectedContext = sessionIdContextFor(certificate);
  const actualContext = (server as { sessionIdContext?: unknown }).sessionIdContext;
  if (actualContext !== expectedContext) {
    log.warn(
      'TLS listener built without frontendTlsServerOptions: sessions may not resume on other workers',
      {
        reason: 'session ID context differs',
      },
    );
  }

  let sessions: SharedSessionCache | undefined;
  if (settings.sessions.enabled) {
    sessions = new SharedSessionCache({
      controlPlane,
      settings: settings.sessions,
      lookupTimeoutMs: settings.lookupTimeoutMs,
      log,
      counters,
      now,
    });
    server.on('newSession', sessions.onNewSession);
    server.on('resumeSession', sessions.onResumeSession);
    const attached = sessions;
    detach.push(() => {
      server.off('newSession', attached.onNewSession);
      server.off('resumeSession', attached.onResumeSession);
      attached.close();
    });
  }

  let tickets: TicketKeyRotation | undefined;
  let ticketKeyReady: Promise<void> = Promise.resolve();
  if (settings.tickets.enabled) {
    tickets = new TicketKeyRotation(server, {
      controlPlane,
      settings: settings.tickets,
      lifetimeS: settings.sessions.timeoutS,
      log,
      now,
    });
    ticketKeyReady = tickets.start();
    pending.push(ticketKeyReady);
    const attached = tickets;
    detach.push(() => attached.close());
  }

  if (settings.stapling.enabled) {
    const issuers = [...pemCertificates(certificate.chainPem), ...pemCertificates(certificate.issuerPem)];
    // The OCSP code (ASN.1 parsers) loads only when stapling is on; the handler is attached now, as
    // Node decides per connection from the listeners present, and waits for it.
    const stapling = import('./ocsp/stapler.js').then(
      ({ OcspStapler }) =>
        new OcspStapler({
          controlPlane,
          settings: settings.stapling,
          lookupTimeoutMs: settings.lookupTimeoutMs,
          log,
          counters,
          now,
          issuers,
        }),
    );
    const onOcspRequest = (
      cert: Buffer,
      issuer: Buffer | null,
      callback: (err: Error | null, response?: Buffer | null) => void,
    ) => {
      stapling
        .then((stapler) => stapler.staple(cert, issuer))
        .then(
          (response) => callback(null, response),
          () => callback(null, null),
        );
    };
    server.on('OCSPRequest', onOcspRequest);
    const served = new X509Certificate(certificate.certPem);
    const issuer = issuers.find((candidate) => served.checkIssued(candidate));
    pending.push(
      stapling
        .then((stapler) => stapler.prefetch(served.raw, issuer ? issuer.raw : null))
        .catch(() => undefined),
    );
    detach.push(() => {
      server.off('OCSPRequest', onOcspRequest);
      void stapling.then(
        (stapler) => stapler.close(),
        () => undefined,
      );
    });
  }

  const flush = () => flushCounters(counters, controlPlane, log);
  const statsTimer = setInterval(() => void flush(), settings.statsFlushMs);
  statsTimer.unref();

  return {
    get ticketKeyEpoch() {
      return tickets?.activeEpoch;
    },
    ready: Promise.all(pending).then(() => undefined),
    ticketKeyReady,
    flushStats: flush,
    close: () => {
      clearInterval(statsTimer);
      for (const undo of detach.splice(0)) undo();
    },
  };
}

function pemCertificates(pem: string | undefined): X509Certificate[] {
  if (!pem) return [];
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => new X509Certificate(block));
}
