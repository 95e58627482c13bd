import { z } from 'zod';
import { parseDuration } from './duration.js';
import { parseTlsProtocols, TLS_PROTOCOL_NAMES } from './tls-protocols.js';

/** A duration ("30s", "250ms", a number of seconds); 0 means no limit. Held as milliseconds. */
const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a duration (use e.g. 30s, 500ms)` });
    return z.NEVER;
  }
  return ms;
});

const absolutePath = z
  .string()
  .min(1)
  .refine((value) => value.startsWith('/'), 'must be an absolute path');

/**
 * Protocol versions: a list (`[TLSv1.2, TLSv1.3]`) or ProFTPD's forms as one string
 * (`"TLSv1.2 TLSv1.3"`, `"ALL -TLSv1 -TLSv1.1"`). Held as the sorted list of versions allowed.
 */
const protocols = z
  .union([z.string(), z.array(z.enum(TLS_PROTOCOL_NAMES)).min(1)])
  .transform((value, ctx) => {
    const parsed = parseTlsProtocols(Array.isArray(value) ? value.join(' ') : value);
    if (!parsed.ok) {
      ctx.addIssue({ code: 'custom', message: parsed.error });
      return z.NEVER;
    }
    return parsed.versions;
  });

/** TLSRequired (mod_tls): what must be protected before the proxy serves a command or a transfer. */
export const TLS_REQUIRED_VALUES = [
  'off',
  'on',
  'both',
  'control',
  'ctrl',
  'data',
  '!data',
  'auth',
  'auth+data',
  'auth+!data',
  'ctrl+data',
  'ctrl+!data',
] as const;

const certificate = z
  .object({
    /** PEM certificate (TLSRSACertificateFile / TLSECCertificateFile); may hold the chain after it. */
    cert: absolutePath,
    /** PEM private key; the certificate file itself when absent (a combined PEM). */
    key: absolutePath.optional(),
    /** TLSCertificateChainFile: intermediates sent after the certificate. */
    chain: absolutePath.optional(),
    /**
     * The names this certificate answers in SNI (exact, or `*.example.com`); its DNS subject
     * alternative names when absent. The first certificate is also the default for clients that
     * send no SNI or a name no certificate has.
     */
    serverNames: z.array(z.string().min(1)).optional(),
  })
  .strict();

/** A listener's FTPS (mod_tls for the frontend). */
export const listenerTlsSchema = z
  .object({
    /**
     * `explicit`: plain FTP until the client sends AUTH TLS (port 21 style). `implicit`: TLS from the
     * first byte (port 990 style; mod_tls `TLSOptions UseImplicitSSL`).
     */
    mode: z.enum(['explicit', 'implicit']).default('explicit'),
    /** At least one; more than one are chosen by SNI. RSA and EC certificates may be mixed. */
    certificates: z.array(certificate).min(1, 'a TLS listener needs at least one certificate'),
    /** TLSProtocol; default TLSv1.2 and TLSv1.3. */
    protocols: protocols.default(['TLSv1.2', 'TLSv1.3']),
    /** TLSCipherSuite for TLS 1.2 and below (OpenSSL cipher list); Node's default when absent. */
    ciphers: z.string().min(1).optional(),
    /** TLSCipherSuite TLSv1.3 ...: the TLS 1.3 suites, e.g. TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256. */
    cipherSuites: z.string().min(1).optional(),
    /**
     * TLSVerifyClient: `off` (no certificate asked for), `optional` (asked for, verified when sent),
     * `on` (required and verified against clientCA).
     */
    verifyClient: z.enum(['off', 'optional', 'on']).default('off'),
    /** TLSCACertificateFile: the CAs client certificates must chain to. */
    clientCA: absolutePath.optional(),
    /** TLSRequired; default off (TLS offered, not required). */
    required: z.enum(TLS_REQUIRED_VALUES).default('off'),
    /**
     * TLS data connections must resume the control connection's TLS session (ProFTPD's default);
     * false is mod_tls `TLSOptions NoSessionReuseRequired`.
     */
    sessionReuseRequired: z.boolean().default(true),
    /** TLSTimeoutHandshake; default 300 s as in mod_tls; 0 waits forever. */
    handshakeTimeout: duration.default(300_000),
    /** SNI may choose the pool: a client naming `serverName` is served by `pool` (one of the config's pools). */
    sniPools: z
      .array(z.object({ serverName: z.string().min(1), pool: z.string().min(1) }).strict())
      .default([]),
  })
  .strict()
  .superRefine((tls, ctx) => {
    if (tls.verifyClient !== 'off' && tls.clientCA === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['clientCA'],
        message: `verifyClient ${tls.verifyClient} needs clientCA (TLSCACertificateFile)`,
      });
    }
  });

export const BACKEND_TLS_ENGINES = ['on', 'off', 'auto', 'MatchClient'] as const;

/** A pool's backend FTPS (mod_proxy's ProxyTLS* directives). */
export const backendTlsSchema = z
  .object({
    /**
     * ProxyTLSEngine: `auto` (default) tries AUTH TLS and falls back to plain FTP when the backend
     * refuses it; `on` requires TLS; `off` never uses it; `MatchClient` does what the client did.
     * An `ftps://host:990` backend is implicit FTPS whatever this says (unless `off`).
     */
    engine: z.enum(BACKEND_TLS_ENGINES).default('auto'),
    /** ProxyTLSTransferProtectionPolicy: PROT P to the backend (`required`), PROT C (`clear`), or what the client sent (`client`). */
    transferProtection: z.enum(['client', 'required', 'clear']).default('required'),
    /** ProxyTLSVerifyServer: the backend's chain and its host name (or IP address SAN) must verify. */
    verifyServer: z.boolean().default(true),
    /** ProxyTLSCACertificateFile: PEM CAs; Node's bundled roots when neither this nor caPath is set. */
    caFile: absolutePath.optional(),
    /** ProxyTLSCACertificatePath: a directory of PEM CA files (hashed names or not). */
    caPath: absolutePath.optional(),
    /** ProxyTLSCARevocationFile: PEM CRLs; a revoked backend certificate fails verification. */
    crlFile: absolutePath.optional(),
    /** ProxyTLSCARevocationPath: a directory of PEM CRL files. */
    crlPath: absolutePath.optional(),
    /** ProxyTLSCertificateFile: a client certificate for backends that ask for one (may hold the key). */
    certFile: absolutePath.optional(),
    /** ProxyTLSCertificateKeyFile */
    keyFile: absolutePath.optional(),
    /** ProxyTLSPreSharedKey: TLS-PSK (TLS 1.2) with this identity and a `hex:/path` key file. */
    preSharedKey: z
      .object({
        identity: z.string().min(1).max(128),
        /** `hex:/absolute/path`: not world-readable or writable, hex, at least 20 bytes. */
        key: z.string().regex(/^hex:\//, 'must be hex:/absolute/path (only the hex encoding exists)'),
      })
      .strict()
      .optional(),
    /** ProxyTLSCipherSuite for TLS 1.2 and below; default DEFAULT:!ADH:!EXPORT:!DES as mod_proxy. */
    ciphers: z.string().min(1).default('DEFAULT:!ADH:!EXPORT:!DES'),
    /** ProxyTLSCipherSuite TLSv1.3 ...: TLS 1.3 suites. */
    cipherSuites: z.string().min(1).optional(),
    /** ProxyTLSProtocol; default TLSv1.2 and TLSv1.3 (older ones need allowWeakSecurity in OpenSSL 3). */
    protocols: protocols.default(['TLSv1.2', 'TLSv1.3']),
    /** ProxyTLSTimeoutHandshake; default 30 s; 0 waits forever. */
    handshakeTimeout: duration.default(30_000),
    /** ProxyTLSOptions NoSessionCache: backend TLS sessions are not kept for the next proxy session. */
    noSessionCache: z.boolean().default(false),
    /** ProxyTLSOptions NoSessionTickets: no session tickets (session IDs only). */
    noSessionTickets: z.boolean().default(false),
    /** ProxyTLSOptions AllowWeakSecurity: OpenSSL security level 0 (old protocols, small keys). */
    allowWeakSecurity: z.boolean().default(false),
    /** ProxyTLSOptions EnableDiags: every backend handshake's details in the log (debug). */
    enableDiags: z.boolean().default(false),
  })
  .strict()
  .superRefine((tls, ctx) => {
    if (tls.keyFile !== undefined && tls.certFile === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['keyFile'],
        message: 'needs certFile (ProxyTLSCertificateFile)',
      });
    }
    if (/_/.test(tls.ciphers) && !tls.ciphers.includes(':') && tls.cipherSuites === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['ciphers'],
        message: `"${tls.ciphers}" looks like a TLS 1.3 suite: put TLS 1.3 suites in cipherSuites`,
      });
    }
  });

export type ListenerTlsConfig = z.output<typeof listenerTlsSchema>;
export type BackendTlsConfig = z.output<typeof backendTlsSchema>;
export type TlsRequired = (typeof TLS_REQUIRED_VALUES)[number];
export const DEFAULT_BACKEND_TLS: z.input<typeof backendTlsSchema> = {};
