import { isIP } from 'node:net';
import { z } from 'zod';
import { CONNECT_POLICIES } from '../../functions/contract/connect-policies.js';
import { PER_USER_FALLBACKS } from '../../functions/contract/resolve-backend.js';
import { identityHookConfigSchema } from '../../functions/core/auth/index.js';
import { urlPasswordRefusal } from '../../functions/core/backend-url.js';
import { parseCidr } from '../../functions/core/net/index.js';
import { MIN_SHARED_TOKEN_LENGTH } from '../../functions/core/registry/index.js';
import { isUnixSocketEndpoint } from '../../functions/core/store/index.js';
import { DEFAULT_FORWARD_METHOD, FORWARD_METHODS } from '../forward/forward-methods.js';
import { compileForwardTo } from '../forward/forward-to.js';
import { ACCESS_LOG_VARIABLES, parseLogFormat } from '../log/access-log.js';
import { parseBackendSource } from '../reverse/backend-source.js';
import { dnsSchema, healthSchema } from './discovery-health.js';
import { duration } from './duration-schema.js';
import { bansSchema, connectionLimitsSchema } from './limits-schema.js';
import { sftpListenerSchema, sftpPoolSchema } from './sftp-schema.js';
import { backendTlsSchema, listenerTlsSchema } from './tls-schema.js';

/**
 * One ProxyReverseServers entry: a backend URL (ftp://, ftps://, sftp://, with +srv / +txt accepted)
 * or a `file:` list (absolute path; `%U` for per-user lists, `%g` for per-group ones). See edge-worker/reverse/backend-source.ts.
 */
const backendEntry = z.string().superRefine((value, ctx) => {
  const parsed = parseBackendSource(value);
  if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.error });
});

export const DATA_TRANSFER_POLICIES = [
  'client',
  'active',
  'passive',
  'PASV',
  'EPSV',
  'PORT',
  'EPRT',
] as const;

const ipAddress = z.string().refine((value) => isIP(value) !== 0, 'must be an IP address');

/** An IPv4 or IPv6 network in CIDR notation ("10.0.0.0/8", "::1/128"); a bare address means one host. */
const cidr = z.string().superRefine((value, ctx) => {
  const parsed = parseCidr(value);
  if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.error });
});

const portRange = z
  .object({ min: z.number().int().min(1024).max(65535), max: z.number().int().min(1024).max(65535) })
  .strict()
  .refine((range) => range.min <= range.max, 'min must not be above max');

/** ProxyForwardTo: a regular expression the destination's `host:port` must match (or, negated, not match). */
const forwardToSchema = z
  .object({
    pattern: z.string().min(1),
    negate: z.boolean().default(false),
    ignoreCase: z.boolean().default(false),
  })
  .strict()
  .superRefine((rule, ctx) => {
    const compiled = compileForwardTo(rule);
    if (!compiled.ok) ctx.addIssue({ code: 'custom', path: ['pattern'], message: compiled.error });
  });

/** The forward role's settings (ProxyRole forward, http://www.proftpd.org/docs/contrib/mod_proxy.html#ProxyForwardMethod); see docs/forward-proxy.md. */
const forwardSchema = z
  .object({
    /** ProxyForwardMethod. */
    method: z.enum(FORWARD_METHODS).default(DEFAULT_FORWARD_METHOD),
    /** ProxyForwardTo: no restriction when absent. */
    to: forwardToSchema.optional(),
  })
  .strict();

export const poolSchema = z
  .object({
    name: z.string().min(1),
    /** ProxyRole: "reverse" relays to the pool's backends; "forward" to the destination the client names. */
    role: z.enum(['reverse', 'forward']).default('reverse'),
    /** ProxyReverseConnectPolicy; PerGroup needs proxyAuth (the group is known only after it). */
    connectPolicy: z.enum(CONNECT_POLICIES).default('RoundRobin'),
    /**
     * ProxyOptions UseReverseProxyAuth: the proxy checks USER/PASS itself (proxy users in the store, or
     * the identity hook) before it chooses and logs in to a backend.
     */
    proxyAuth: z.boolean().default(false),
    /** AuthUserFile / AuthGroupFile: ProFTPD passwd and group files imported as this pool's proxy users at start. */
    authUserFile: z.string().min(1).optional(),
    authGroupFile: z.string().min(1).optional(),
    /**
     * ProxyReverseServers: backend URLs and `file:` lists (static ones are read when the worker
     * starts; `%U` ones per session at USER, PerUser only). Backends registered through the
     * registry API join these at every selection.
     */
    backends: z.array(backendEntry).default([]),
    /**
     * PerUser, when the user has no list of its own (no `%U` file, no registered mapping): "global"
     * uses the pool's list (mod_proxy's behaviour), "refuse" refuses the login (mod_proxy issue #139;
     * no proftpd.conf directive).
     */
    perUserFallback: z.enum(PER_USER_FALLBACKS).default('global'),
    /** ProxyOptions IgnoreConfigPerms: `file:` lists in world-writable directories are accepted. */
    ignoreConfigPerms: z.boolean().default(false),
    retryCount: z.number().int().min(1).default(5),
    connectTimeout: duration.default(5000),
    /** Backend FTPS (ProxyTLS*): see edge-worker/config/tls-schema.ts. */
    tls: backendTlsSchema.default(backendTlsSchema.parse({})),
    /** ProxyDataTransferPolicy: which data command the proxy sends to the backend. */
    dataTransferPolicy: z.enum(DATA_TRANSFER_POLICIES).default('client'),
    /** ProxySourceAddress: local address for backend control and data connections. */
    sourceAddress: ipAddress.optional(),
    /**
     * A backend 227/229 naming another host than the backend: refused (default), allowed
     * (ProxyOptions AllowForeignAddress) or replaced by the backend's own address (IgnoreForeignAddress).
     */
    foreignDataAddress: z.enum(['refuse', 'allow', 'ignore']).default('refuse'),
    /** ProxyTimeoutLinger: after the data connection ends (or fails), how long to wait for the backend's final reply; 0: no limit after a normal end. */
    lingerTimeout: duration.default(3000),
    /**
     * ProxyDirectoryListPolicy: "client" relays listing commands as sent; "LIST" serves MLSD by asking
     * the backend for LIST and translating it (for backends without MLSD).
     */
    directoryListPolicy: z.enum(['client', 'LIST']).default('client'),
    /** Other names this pool answers to in a client's HOST command (ServerAlias). */
    hostNames: z.array(z.string().min(1)).default([]),
    /**
     * ProxyOptions UseDirectDataTransfers: PASV/EPSV/PORT/EPRT and transfers go to the backend as they
     * are, so data flows between client and backend directly (no bounce protection, no address hiding).
     */
    directDataTransfers: z.boolean().default(false),
    /** ProxyOptions ShowFeatures: relay the backend's FEAT reply as it is, instead of the filtered one. */
    showFeatures: z.boolean().default(false),
    /** ProxyOptions UseProxyProtocolV1/V2/V2TLVs: a PROXY header to each backend, naming the real client. */
    sendProxyProtocol: z.enum(['off', 'v1', 'v2', 'v2-tlvs']).default('off'),
    /** ProxyDirectoryListPolicy's UseSlink: symlinks as OS.unix=slink:<target> (FileZilla) under LIST. */
    useSlink: z.boolean().default(false),
    /**
     * Networks (CIDR) this pool may connect to whatever their class, for destinations ftpx did not
     * get from the operator: forward destinations, registered and discovered backends. Without it,
     * link-local (incl. cloud metadata), unspecified, multicast, broadcast, reserved and the proxy's
     * own addresses are refused, and loopback and private ones too unless a forward pool's
     * ProxyForwardTo pattern explicitly matches the address. No proftpd.conf directive.
     */
    allowDestinationNetworks: z.array(cidr).optional(),
    /** Forward role only: the login method and the destination filter. */
    forward: forwardSchema.optional(),
    /** ProxySFTP*: the backend SSH client, for sftp:// backends (docs/sftp.md). */
    sftp: sftpPoolSchema.optional(),
  })
  .strict()
  .superRefine(
    (pool, ctx) => {
      // Reported even when other keys of the pool are wrong, as a plain field check would be.
      if (pool.role !== 'forward' && Array.isArray(pool.backends) && pool.backends.length === 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['backends'],
          message: 'a reverse pool needs at least one backend URL',
        });
      }
    },
    { when: (payload) => typeof payload.value === 'object' && payload.value !== null },
  )
  .superRefine((pool, ctx) => {
    if (pool.role === 'forward') {
      const notForward: Array<[keyof typeof pool, boolean, string]> = [
        [
          'backends',
          pool.backends.length > 0,
          'a forward pool has no backends: each client names its destination',
        ],
        [
          'proxyAuth',
          pool.proxyAuth,
          'UseReverseProxyAuth is for reverse pools; forward.method chooses proxy authentication',
        ],
        [
          'sendProxyProtocol',
          pool.sendProxyProtocol !== 'off',
          'mod_proxy sends no PROXY header in forward mode',
        ],
      ];
      for (const [key, wrong, message] of notForward)
        if (wrong) ctx.addIssue({ code: 'custom', path: [key], message });
    } else if (pool.forward !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['forward'], message: 'applies to role forward only' });
    }
    if (pool.connectPolicy === 'PerGroup' && !pool.proxyAuth) {
      ctx.addIssue({
        code: 'custom',
        path: ['connectPolicy'],
        message:
          'PerGroup needs proxy authentication (proxyAuth: true, ProxyOptions UseReverseProxyAuth), as in mod_proxy',
      });
    }
    if (pool.authGroupFile !== undefined && pool.authUserFile === undefined) {
      ctx.addIssue({ code: 'custom', path: ['authGroupFile'], message: 'needs authUserFile' });
    }
    pool.backends.forEach((entry, index) => {
      const parsed = parseBackendSource(entry);
      if (
        parsed.ok &&
        parsed.source.kind === 'url' &&
        parsed.source.url.protocol === 'ftps' &&
        pool.tls.engine === 'off'
      ) {
        ctx.addIssue({
          code: 'custom',
          path: ['backends', index],
          message: 'an ftps:// backend needs TLS: tls.engine (ProxyTLSEngine) must not be off',
        });
      }
      if (
        parsed.ok &&
        parsed.source.kind === 'url' &&
        parsed.source.url.protocol === 'sftp' &&
        pool.sendProxyProtocol !== 'off'
      ) {
        // Refused rather than ignored: a backend that expects the header would see the proxy as the client.
        ctx.addIssue({
          code: 'custom',
          path: ['sendProxyProtocol'],
          message:
            'ftpx does not send a PROXY header to SSH (sftp://) backends yet: leave ProxyOptions UseProxyProtocolV1/V2/V2TLVs off for this pool',
        });
      }
      const passwordRefusal =
        parsed.ok && parsed.source.kind === 'url'
          ? urlPasswordRefusal(parsed.source.url, pool.proxyAuth)
          : undefined;
      if (passwordRefusal !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['backends', index], message: passwordRefusal });
      }
      if (
        parsed.ok &&
        parsed.source.kind === 'file' &&
        parsed.source.perUser &&
        pool.connectPolicy !== 'PerUser'
      ) {
        ctx.addIssue({
          code: 'custom',
          path: ['backends', index],
          message: `"${entry}": a per-user list (%U) needs connectPolicy PerUser (the backend is then chosen at USER), not ${pool.connectPolicy}`,
        });
      }
      if (
        parsed.ok &&
        parsed.source.kind === 'file' &&
        parsed.source.perGroup &&
        pool.connectPolicy !== 'PerGroup'
      ) {
        ctx.addIssue({
          code: 'custom',
          path: ['backends', index],
          message: `"${entry}": a per-group list (%g) needs connectPolicy PerGroup (the backend is then chosen after proxy authentication), not ${pool.connectPolicy}`,
        });
      }
    });
    if (pool.perUserFallback === 'refuse' && pool.connectPolicy !== 'PerUser') {
      ctx.addIssue({
        code: 'custom',
        path: ['perUserFallback'],
        message: `applies to connectPolicy PerUser only, not ${pool.connectPolicy}`,
      });
    }
  });

/** Frontend timeouts, as ProFTPD's core directives; 0 turns one off. */
const timeoutsSchema = z
  .object({
    /**
     * TimeoutLogin: from connect until logged in. 60 s, not ProFTPD's 300 s: on a public gateway every
     * connection not logged in holds a pre-login slot (and maybe a backend connection); docs/security.md.
     */
    login: duration.default(60_000),
    /** TimeoutIdle: no command while no transfer runs. */
    idle: duration.default(600_000),
    /** TimeoutNoTransfer: logged in, but no data transfer started. */
    noTransfer: duration.default(300_000),
    /** TimeoutStalled: a transfer during which no byte moves. */
    stalled: duration.default(3_600_000),
  })
  .strict();

export const listenerSchema = z
  .object({
    name: z.string().min(1).optional(),
    /**
     * ftp (FTP and FTPS; the default when absent) or sftp (an SSH server relaying SFTP and SCP to
     * sftp:// backends; docs/sftp.md).
     */
    protocol: z.enum(['ftp', 'sftp']).optional(),
    /** SFTPEngine and the SFTP* directives: the frontend SSH server of a `protocol: sftp` listener. */
    sftp: sftpListenerSchema.optional(),
    address: z.string().min(1).default('0.0.0.0'),
    port: z.number().int().min(0).max(65535),
    pool: z.string().min(1),
    /** A ProxyLog of this listener's own: its sessions log here instead of log.file. */
    logFile: z.string().min(1).optional(),
    /**
     * Pools a client may switch to with HOST (RFC 7151) before USER, by their name or hostNames: the
     * name-based virtual hosts sharing this address and port.
     */
    hostPools: z.array(z.string().min(1)).default([]),
    /**
     * Pool selection by who the client is (mod_ifsession's `<IfClass>`, `<IfUser>`, `<IfGroup>` around
     * ProxyReverseServers): at connect, at USER and after proxy authentication the first rule whose
     * conditions are all known and hold moves the session (before login) to its pool. See
     * docs/configuration.md, "Choosing the pool", for the order with tls.sniPools and HOST.
     */
    poolRules: z
      .array(
        z
          .object({
            pool: z.string().min(1),
            /** The client's `<Class>` (`!name`: any other class, or none). */
            class: z
              .string()
              .regex(/^!?[^\s!]+$/, 'a class name, or !name')
              .optional(),
            /** The client's address is in one of these networks. */
            from: z.array(cidr).min(1).optional(),
            /** The USER name is one of these. */
            users: z.array(z.string().min(1)).min(1).optional(),
            /** One of the user's groups (known with proxy authentication) is one of these. */
            groups: z.array(z.string().min(1)).min(1).optional(),
          })
          .strict()
          .refine(
            (rule) =>
              rule.class !== undefined ||
              rule.from !== undefined ||
              rule.users !== undefined ||
              rule.groups !== undefined,
            'a rule needs at least one condition: class, from, users or groups',
          ),
      )
      .optional(),
    /** Longest command line accepted from a client, in bytes. */
    maxCommandLength: z.number().int().min(512).max(65536).default(4096),
    /** How long to wait for a data connection to open (client passive connect, active connect out). */
    dataConnectTimeout: duration.default(30_000),
    /** PassivePorts: the range of ports for passive data connections; any free port when absent. */
    passivePorts: portRange.optional(),
    /** MasqueradeAddress: the IPv4 address (or a host name resolving to one) given in 227 replies. */
    masqueradeAddress: z.string().min(1).optional(),
    /**
     * `false` refuses EPSV (502), so clients fall back to PASV, whose 227 reply carries an address.
     * Needed where data must reach another address than the control connection did (behind a load
     * balancer, each task advertising its own address): a 229 reply names only a port, and the
     * client would connect to the load balancer. Absent: EPSV is served.
     */
    epsv: z.boolean().optional(),
    /**
     * ServerIdent: the text of the 220 greeting the proxy gives itself (the forward role always; the
     * reverse role when it chooses the backend at USER, under PerUser or proxy authentication). A
     * reverse proxy that connects at once relays the backend's greeting instead. Absent: "FTP proxy
     * ready." (reverse) or "FTP forward proxy ready." (forward).
     */
    greeting: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[^\r\n]*$/, 'one line: no CR or LF')
      .optional(),
    /**
     * AllowForeignAddress: PORT/EPRT may name another host than the client (true, or only hosts in
     * these networks). Ports below 1024 are refused regardless.
     */
    allowForeignAddress: z.union([z.boolean(), z.array(cidr)]).default(false),
    timeouts: timeoutsSchema.default({
      login: 60_000,
      idle: 600_000,
      noTransfer: 300_000,
      stalled: 3_600_000,
    }),
    /**
     * TransferRate: per-transfer speed limits by command, in KiB/s, after `freeBytes` at full speed.
     * The first rule naming the command whose conditions hold applies (rules with conditions first).
     */
    transferRate: z
      .array(
        z
          .object({
            commands: z.array(z.enum(['RETR', 'STOR', 'APPE', 'STOU', 'LIST', 'NLST', 'MLSD'])).min(1),
            kibPerSecond: z.number().positive(),
            freeBytes: z.number().int().min(0).default(0),
            /**
             * Only for these users / groups (known with proxy authentication) / classes (TransferRate's
             * `user`, `group`, `class` conditions); reverse pools only.
             */
            users: z.array(z.string().min(1)).min(1).optional(),
            groups: z.array(z.string().min(1)).min(1).optional(),
            classes: z.array(z.string().min(1)).min(1).optional(),
          })
          .strict(),
      )
      .default([]),
    /**
     * `<Limit>`: which commands which users or networks may send. The first rule naming a command (or
     * its group: READ, WRITE, DIRS, LOGIN, ALL) decides; see edge-worker/ftp/session/command-limits.ts.
     */
    limits: z
      .array(
        z
          .object({
            commands: z
              .array(z.string().regex(/^[A-Za-z]{3,5}$/, 'a command name or READ, WRITE, DIRS, LOGIN, ALL'))
              .min(1),
            allowUsers: z.array(z.string().min(1)).default([]),
            denyUsers: z.array(z.string().min(1)).default([]),
            /** AllowGroup / DenyGroup: need proxyAuth on the listener's pools (groups come from it). */
            allowGroups: z.array(z.string().min(1)).optional(),
            denyGroups: z.array(z.string().min(1)).optional(),
            /** AllowClass / DenyClass: the client's `<Class>` (classes). */
            allowClasses: z.array(z.string().min(1)).optional(),
            denyClasses: z.array(z.string().min(1)).optional(),
            allowFrom: z.array(cidr).default([]),
            denyFrom: z.array(cidr).default([]),
            otherwise: z.enum(['allow', 'deny']).optional(),
            order: z.enum(['allow,deny', 'deny,allow']).default('allow,deny'),
          })
          .strict(),
      )
      .default([]),
    /** MaxClients, MaxConnectionsPerHost...: see config/limits-schema.ts. */
    connections: connectionLimitsSchema.prefault({}),
    /** MaxLoginAttempts: failed logins before the connection is closed. */
    maxLoginAttempts: z.number().int().min(1).default(3),
    /**
     * PROXY protocol in (v1 or v2): connections from these networks (a load balancer) must start with
     * a header, whose client address then counts as the client's. Others are never parsed.
     */
    proxyProtocol: z
      .object({
        trustedNetworks: z.array(cidr).min(1, 'name at least one network (the load balancer)'),
        timeout: duration.default(5000),
      })
      .strict()
      .optional(),
    /** FTPS towards clients (mod_tls): see edge-worker/config/tls-schema.ts. Plain FTP only when absent. */
    tls: listenerTlsSchema.optional(),
  })
  .strict();

/** A `<Class>`: client networks, and whether they may use forward proxying (ProxyForwardEnabled). */
const clientClassSchema = z
  .object({
    name: z.string().min(1),
    /** `From`: networks in CIDR notation, or single addresses. */
    from: z.array(cidr).min(1, 'name at least one network'),
    /** ProxyForwardEnabled; absent: only RFC 1918 clients may forward. */
    forwardEnabled: z.boolean().optional(),
  })
  .strict();

export const storeSchema = z
  .object({
    /**
     * "embedded" runs a DynamoDB-API server (dynalite) in-process under dataDir; otherwise a URL, or
     * `unix:/path` (another ftpx process's embedded store socket).
     */
    endpoint: z
      .union([
        z.literal('embedded'),
        z.url({ protocol: /^https?$/ }),
        z.string().refine(isUnixSocketEndpoint, 'must be "embedded", an http(s) URL or unix:/ABSOLUTE/PATH'),
      ])
      .default('embedded'),
    region: z.string().min(1).default('us-east-1'),
    table: z.string().min(3).max(255).default('ftpx'),
  })
  .strict();

export const logSchema = z
  .object({
    level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    /**
     * ProxyLog: a file to append JSON lines to; omitted means standard error; `false` (ProxyLog none)
     * writes no log lines at all (trace lines still go to traceFile when one is given).
     */
    file: z.union([z.string().min(1), z.literal(false)]).optional(),
    /**
     * Trace channels (`Trace proxy.ftp.ctrl:20`): channel → highest trace level written. A channel
     * traced at 1-4 logs its info lines, at 5 and up its debug lines, whatever `level` says.
     */
    traces: z
      .record(
        z.string().regex(/^(\*|[a-z][a-z0-9]*(\.[a-z0-9]+)*)$/, 'is not a trace channel'),
        // Any level, as ProFTPD's Trace takes (mod_proxy's channels log up to 30 and more).
        z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
      )
      .optional(),
    /** TraceLog: where trace lines go; omitted means the log itself. */
    traceFile: z.string().min(1).optional(),
    /** ExtendedLog + LogFormat: one line per ended session, in the given format, to each file. */
    access: z
      .array(
        z
          .object({
            file: z.string().min(1),
            format: z
              .string()
              .min(1)
              .superRefine((format, ctx) => {
                const { unknown } = parseLogFormat(format);
                if (unknown.length > 0) {
                  ctx.addIssue({
                    code: 'custom',
                    message: `unknown LogFormat variable(s) ${unknown.join(', ')} (known: ${ACCESS_LOG_VARIABLES.join(' ')})`,
                  });
                }
              }),
          })
          .strict(),
      )
      .optional(),
  })
  .strict();

/** The control plane's base URL: http or https, no credentials (a token is given apart). */
export const controlPlaneUrlSchema = z
  .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
  .refine((value) => {
    const url = new URL(value);
    return url.username === '' && url.password === '';
  }, 'must not carry credentials (use controlPlane.token)')
  .refine((value) => {
    const url = new URL(value);
    return url.search === '' && url.hash === '';
  }, 'must not have a query or fragment');

/**
 * Whether `url` is plain http:// to a host that is not loopback: tokens, backend credentials and
 * TLS ticket keys would cross the network in clear.
 */
export function isPlainHttpToRemoteHost(url: string): boolean {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:') return false;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  return !(host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host));
}

export const PLAIN_HTTP_CONTROL_PLANE_MESSAGE =
  'is plain http:// to a host that is not loopback: the edge token, backend credentials and TLS ticket keys would cross the network in clear; use https:// (with controlPlane.ca or --control-plane-ca for a private CA)';

/**
 * Where the edge worker's control plane is. Without `url` the functions run in this process on the
 * store configured under `store` (the embedded mode); with it they are called over HTTP (another
 * machine's `ftpx control-plane serve`, or the HTTP API in AWS) and no store is opened here.
 */
export const controlPlaneSchema = z
  .object({
    url: controlPlaneUrlSchema.optional(),
    /** Sent as `Authorization: Bearer <token>` (the control plane's edge token). */
    token: z
      .string()
      .min(MIN_SHARED_TOKEN_LENGTH, `must be at least ${MIN_SHARED_TOKEN_LENGTH} characters`)
      .optional(),
    /**
     * CA certificates (PEM file) that the control plane's HTTPS certificate must chain to, instead
     * of the system's; FTPX_CONTROL_PLANE_CA and --control-plane-ca override it.
     */
    ca: z.string().min(1).optional(),
    /** Allow a plain http:// URL to a host that is not loopback (a network the operator trusts). */
    insecureHttp: z.boolean().default(false),
    /** Per attempt of a call. */
    timeout: duration.default(2000),
    /** Attempts after the first, with backoff and jitter, for network errors, 5xx and 429. */
    retries: z.number().int().min(0).max(10).default(2),
    /** How long after the control plane stopped answering cached backend selections are still used. */
    staleFor: duration.default(300_000),
    /**
     * Sign every call with AWS Signature V4 (an HTTP API with IAM authorisation), with the worker's
     * AWS credentials from the default chain (in ECS: the task role).
     */
    signing: z
      .object({
        service: z.string().min(1).default('execute-api'),
        /** Defaults to AWS_REGION. */
        region: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((controlPlane, ctx) => {
    if (controlPlane.token !== undefined && controlPlane.url === undefined) {
      ctx.addIssue({ code: 'custom', path: ['token'], message: 'a token needs controlPlane.url' });
    }
    if (controlPlane.token !== undefined && controlPlane.signing !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['signing'],
        message: 'give a token or signing, not both (both use the Authorization header)',
      });
    }
    // The file is judged on its own: --insecure-control-plane-http covers --control-plane-url only.
    if (
      controlPlane.url !== undefined &&
      !controlPlane.insecureHttp &&
      isPlainHttpToRemoteHost(controlPlane.url)
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['url'],
        message: `${PLAIN_HTTP_CONTROL_PLANE_MESSAGE}; or say controlPlane.insecureHttp: true if the network is trusted`,
      });
    }
    if (
      controlPlane.ca !== undefined &&
      controlPlane.url !== undefined &&
      !controlPlane.url.startsWith('https:')
    ) {
      ctx.addIssue({ code: 'custom', path: ['ca'], message: 'a CA needs an https:// controlPlane.url' });
    }
  });

// ---------------------------------------------------------------------------------------------
// Shared frontend TLS caches (mod_tls_shmcache's job across workers; docs/tls-caches.md).
// TLSSessionCache, TLSStaplingCache and TLSStapling* in a proftpd.conf map onto this block.
// ---------------------------------------------------------------------------------------------

/** A whole number of seconds, at least one, written as a duration ("30m", 1800). */
const wholeSeconds = duration.refine(
  (ms) => ms >= 1000 && ms % 1000 === 0,
  'must be a whole number of seconds, at least 1s',
);

export const tlsCacheSchema = z
  .object({
    /** TLSSessionCache: TLS sessions shared by every edge worker through the store. */
    sessions: z
      .object({
        /** `TLSSessionCache off` (or `internal:`): each worker keeps its own sessions only. */
        enabled: z.boolean().default(true),
        /** How long a session may be resumed (TLSSessionCache's timeout). */
        timeout: wholeSeconds.default(1_800_000),
        /** Total budget in bytes (`&size=`): divided into slots of maxEntrySize + 48 bytes; default 1538 KiB (153 sessions). */
        size: z.number().int().min(1).optional(),
        /** Largest session shared, bytes (mod_tls_shmcache's 10 KiB); larger ones stay on their worker. */
        maxEntrySize: z.number().int().min(64).max(65_536).default(10_240),
        /** The edge-local LRU in front of the store. */
        local: z
          .object({
            entries: z.number().int().min(0).max(1_000_000).default(1000),
            /** How long a worker trusts its local copy (a `cache clear` reaches workers within this). */
            ttl: duration.default(60_000),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    /** Session tickets (TLS 1.3, and TLS 1.2 clients that use them): one shared key per period. */
    tickets: z
      .object({
        enabled: z.boolean().default(true),
        /** How long one ticket key is current; all workers switch together at each period's end. */
        rotateEvery: wholeSeconds.refine((ms) => ms >= 60_000, 'must be at least 1m').default(43_200_000),
      })
      .strict()
      .prefault({}),
    /** TLSStaplingCache / TLSStapling: OCSP stapling from a shared cache. */
    stapling: z
      .object({
        enabled: z.boolean().default(false),
        /** TLSStaplingResponder: used instead of the certificate's AIA OCSP URL. */
        responder: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
        /** TLSStaplingTimeout. */
        timeout: duration.default(10_000),
        /** `TLSStaplingOptions NoFakeTryLater` sets this false. */
        fakeTryLater: z.boolean().default(true),
        /** `TLSStaplingOptions NoNonce` sets this false. */
        nonce: z.boolean().default(true),
        /** Total budget in bytes (`&size=`); slots of maxEntrySize + 80 bytes; default 1538 KiB (377 responses). */
        size: z.number().int().min(1).optional(),
        maxEntrySize: z.number().int().min(64).max(65_536).default(4096),
      })
      .strict()
      .prefault({}),
    /** How long a handshake waits for the store (session lookup, cached OCSP response) before going on without it. */
    lookupTimeout: duration.default(1000),
  })
  .strict();

/** `HOST:PORT` or `[IPv6]:PORT` (port 0: any free port). */
export const listenAddressSchema = z.string().transform((value, ctx) => {
  const match = /^(?:\[([^\]]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(value);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (!match || host === undefined || port > 65535) {
    ctx.addIssue({
      code: 'custom',
      message: `"${value}" is not HOST:PORT (e.g. 127.0.0.1:9090 or [::1]:9090)`,
    });
    return z.NEVER;
  }
  return { host, port };
});

/**
 * The admin HTTP endpoint (/healthz, /readyz, /metrics, /sessions, the status page). Off unless
 * `listen` is given here or with `--admin-listen`. A token is required when it is not on loopback.
 */
export const adminSchema = z
  .object({
    listen: listenAddressSchema.optional(),
    /** Required as `Authorization: Bearer <token>`; FTPX_ADMIN_TOKEN overrides it. */
    token: z
      .string()
      .min(MIN_SHARED_TOKEN_LENGTH, `must be at least ${MIN_SHARED_TOKEN_LENGTH} characters`)
      .optional(),
  })
  .strict();

/** How the serving processes run and stop. */
export const lifecycleSchema = z
  .object({
    /** Worker processes; "auto" is one per core. `--workers` overrides it. */
    workers: z.union([z.literal('auto'), z.number().int().min(1).max(256)]).default('auto'),
    /** SIGTERM: how long running sessions may go on before they are closed with 421. */
    drainTimeout: duration.default(30_000),
  })
  .strict();

export const configSchema = z
  .object({
    /** ProxyTables: where the embedded store keeps its data. */
    dataDir: z.string().min(1).default('./data'),
    log: logSchema.default({ level: 'info' }),
    /**
     * The external identity hook for proxy authentication (embedded mode; `ftpx control-plane serve`
     * reads FTPX_IDENTITY_HOOK_URL and friends instead): users the operator keeps elsewhere.
     */
    identityHook: identityHookConfigSchema.optional(),
    /** TransferLog: xferlog lines for every RETR, STOR, APPE and STOU; none when absent. */
    transferLog: z.string().min(1).optional(),
    store: storeSchema.default({ endpoint: 'embedded', region: 'us-east-1', table: 'ftpx' }),
    listeners: z.array(listenerSchema).min(1, 'at least one listener is needed'),
    pools: z.array(poolSchema).min(1, 'at least one pool is needed'),
    /** Absent: the control plane runs in this process (today's embedded mode). */
    controlPlane: controlPlaneSchema.optional(),
    /** `<Class>` sections: a client belongs to the first class naming its address. */
    classes: z.array(clientClassSchema).optional(),
    /** The shared frontend TLS caches (sessions, ticket keys, OCSP stapling); absent: all defaults. */
    tlsCache: tlsCacheSchema.optional(),
    /** Absent: no admin endpoint (unless --admin-listen). */
    admin: adminSchema.optional(),
    /** Absent: the defaults of lifecycleSchema. */
    lifecycle: lifecycleSchema.optional(),
    /** DNS discovery of `+srv` / `+txt` backends (embedded control plane); absent: the defaults. */
    dns: dnsSchema.optional(),
    /** mod_ban (BanEngine, BanOnEvent, BanMessage), shared by every worker; absent: engine on, no rules. */
    bans: bansSchema.optional(),
    /** Passive and active health of backends (embedded control plane); absent: the defaults. */
    health: healthSchema.optional(),
  })
  .strict()
  .superRefine((config, ctx) => {
    const classNames = new Set<string>();
    (config.classes ?? []).forEach((entry, index) => {
      if (classNames.has(entry.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['classes', index, 'name'],
          message: `class "${entry.name}" is defined twice`,
        });
      }
      classNames.add(entry.name);
    });
    const names = new Set<string>();
    config.pools.forEach((pool, index) => {
      if (names.has(pool.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['pools', index, 'name'],
          message: `pool "${pool.name}" is defined twice`,
        });
      }
      names.add(pool.name);
    });
    config.listeners.forEach((listener, index) => {
      listener.hostPools.forEach((pool, position) => {
        if (!names.has(pool)) {
          ctx.addIssue({
            code: 'custom',
            path: ['listeners', index, 'hostPools', position],
            message: `no pool named "${pool}"`,
          });
        }
      });
      checkListenerProtocol(config, listener, index, ctx);
      const ratePool = config.pools.find((pool) => pool.name === listener.pool);
      listener.transferRate.forEach((rate, position) => {
        const conditional = rate.users || rate.groups || rate.classes;
        if (conditional && ratePool?.role === 'forward') {
          ctx.addIssue({
            code: 'custom',
            path: ['listeners', index, 'transferRate', position],
            message:
              'user, group and class conditions apply in reverse pools only (not in forward pools yet)',
          });
        }
        if (rate.groups && ratePool && ratePool.role !== 'forward' && !ratePool.proxyAuth) {
          ctx.addIssue({
            code: 'custom',
            path: ['listeners', index, 'transferRate', position, 'groups'],
            message: `group conditions need proxy authentication on pool "${ratePool.name}" (proxyAuth: true, ProxyOptions UseReverseProxyAuth): the groups are known only then`,
          });
        }
        for (const className of rate.classes ?? []) {
          if (!classNames.has(className)) {
            ctx.addIssue({
              code: 'custom',
              path: ['listeners', index, 'transferRate', position, 'classes'],
              message: `no class named "${className}" (classes: ${[...classNames].join(', ') || 'none'})`,
            });
          }
        }
      });
      listener.limits.forEach((limit, position) => {
        for (const key of ['allowClasses', 'denyClasses'] as const) {
          for (const className of limit[key] ?? []) {
            if (!classNames.has(className)) {
              ctx.addIssue({
                code: 'custom',
                path: ['listeners', index, 'limits', position, key],
                message: `no class named "${className}" (classes: ${[...classNames].join(', ') || 'none'})`,
              });
            }
          }
        }
        const listenerPool = config.pools.find((pool) => pool.name === listener.pool);
        if ((limit.allowGroups || limit.denyGroups) && listenerPool && !listenerPool.proxyAuth) {
          ctx.addIssue({
            code: 'custom',
            path: ['listeners', index, 'limits', position, limit.denyGroups ? 'denyGroups' : 'allowGroups'],
            message:
              listenerPool.role === 'forward'
                ? 'group rules are applied in reverse pools with proxy authentication only (not in forward pools yet)'
                : `group rules need proxy authentication on pool "${listenerPool.name}" (proxyAuth: true, ProxyOptions UseReverseProxyAuth): the groups are known only then, as in mod_proxy`,
          });
        }
      });
      if (listener.protocol === 'sftp' && (listener.poolRules?.length ?? 0) > 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['listeners', index, 'poolRules'],
          message:
            'pool rules (<IfClass>, <IfUser>, <IfGroup>) are applied to FTP listeners only, not to SFTP ones yet',
        });
      }
      listener.poolRules?.forEach((rule, position) => {
        if (!names.has(rule.pool)) {
          ctx.addIssue({
            code: 'custom',
            path: ['listeners', index, 'poolRules', position, 'pool'],
            message: `no pool named "${rule.pool}"`,
          });
        }
        const className = rule.class?.replace(/^!/, '');
        if (className !== undefined && !classNames.has(className)) {
          ctx.addIssue({
            code: 'custom',
            path: ['listeners', index, 'poolRules', position, 'class'],
            message: `no class named "${className}" (classes: ${[...classNames].join(', ') || 'none'})`,
          });
        }
      });
      listener.tls?.sniPools.forEach((entry, position) => {
        if (!names.has(entry.pool)) {
          ctx.addIssue({
            code: 'custom',
            path: ['listeners', index, 'tls', 'sniPools', position, 'pool'],
            message: `no pool named "${entry.pool}"`,
          });
        }
      });
      if (!names.has(listener.pool)) {
        ctx.addIssue({
          code: 'custom',
          path: ['listeners', index, 'pool'],
          message: `no pool named "${listener.pool}" (known: ${[...names].join(', ') || 'none'})`,
        });
      }
    });
  });

/**
 * An sftp listener needs its SSH settings and a pool of sftp:// backends; an FTP listener's pool has no
 * sftp:// backends (a session cannot change protocol on the way).
 */
function checkListenerProtocol(
  config: { pools: z.output<typeof poolSchema>[] },
  listener: z.output<typeof listenerSchema>,
  index: number,
  ctx: z.RefinementCtx,
): void {
  if (listener.protocol === 'sftp' && listener.sftp === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['listeners', index, 'sftp'],
      message: 'a protocol: sftp listener needs an sftp block with at least hostKeys (SFTPHostKey)',
    });
  }
  if (listener.protocol !== 'sftp' && listener.sftp !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['listeners', index, 'sftp'],
      message: 'sftp settings need protocol: sftp (SFTPEngine on)',
    });
  }
  const pool = config.pools.find((candidate) => candidate.name === listener.pool);
  if (!pool) return;
  for (const entry of pool.backends) {
    const parsed = parseBackendSource(entry);
    if (!parsed.ok || parsed.source.kind !== 'url') continue;
    const isSftp = parsed.source.url.protocol === 'sftp';
    if (isSftp !== (listener.protocol === 'sftp')) {
      ctx.addIssue({
        code: 'custom',
        path: ['listeners', index, 'pool'],
        message: isSftp
          ? `pool "${pool.name}" has sftp:// backends, which need a protocol: sftp listener (SFTPEngine on)`
          : `a protocol: sftp listener needs sftp:// backends; pool "${pool.name}" has ${parsed.source.url.protocol}://`,
      });
      return;
    }
  }
}

/** What a config file says, before defaults are applied. */
export type ConfigInput = z.input<typeof configSchema>;
/** The validated configuration the edge worker runs with. */
export type FtpxConfig = z.output<typeof configSchema>;
export type PoolConfig = z.output<typeof poolSchema>;
export type ListenerConfig = z.output<typeof listenerSchema>;
export type ControlPlaneConfig = z.output<typeof controlPlaneSchema>;
export type TlsCacheConfig = z.output<typeof tlsCacheSchema>;
export type LifecycleConfig = z.output<typeof lifecycleSchema>;

/** The lifecycle settings with their defaults. */
export function lifecycleOf(config: { lifecycle?: LifecycleConfig | undefined }): LifecycleConfig {
  return config.lifecycle ?? lifecycleSchema.parse({});
}
export { CONNECT_POLICIES };
export type DataTransferPolicy = (typeof DATA_TRANSFER_POLICIES)[number];
