import { z } from 'zod';
import { CONNECT_POLICIES } from '../../functions/contract/connect-policies.js';
import { PER_USER_FALLBACKS } from '../../functions/contract/resolve-backend.js';
import { urlPasswordRefusal } from '../../functions/core/backend-url.js';
import { DEFAULT_FORWARD_METHOD, FORWARD_METHODS } from '../forward/forward-methods.js';
import { compileForwardTo } from '../forward/forward-to.js';
import { parseBackendSource } from '../reverse/backend-source.js';
import { duration } from './duration-schema.js';
import { cidr, ipAddress } from './network-schema.js';
import { sftpPoolSchema } from './sftp-schema.js';
import { backendTlsSchema } from './tls-schema.js';

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

export type PoolConfig = z.output<typeof poolSchema>;
export type DataTransferPolicy = (typeof DATA_TRANSFER_POLICIES)[number];
