import { isIP } from 'node:net';
import { z } from 'zod';
import { CONNECT_POLICIES } from '../../functions/contract/connect-policies.js';
import { PER_USER_FALLBACKS } from '../../functions/contract/resolve-backend.js';
import { identityHookConfigSchema } from '../../functions/shared/auth/identity-hook.js';
import { parseCidr } from '../net/cidr.js';
import { parseBackendSource } from '../reverse/backend-source.js';
import { parseDuration } from './duration.js';
import { backendTlsSchema, listenerTlsSchema } from './tls-schema.js';

/** A duration written as "5s", "250ms", "2m" or a number of seconds; held as milliseconds. */
const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `"${value}" is not a duration (use e.g. 5s, 250ms, 2m or a number of seconds)`,
    });
    return z.NEVER;
  }
  return ms;
});

/**
 * One ProxyReverseServers entry: a backend URL (ftp://, with +srv / +txt accepted) or a `file:` list
 * (absolute path; `%U` for per-user lists). See edge-worker/reverse/backend-source.ts.
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

export const poolSchema = z
  .object({
    name: z.string().min(1),
    role: z.literal('reverse').default('reverse'),
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
    backends: z.array(backendEntry).min(1, 'a reverse pool needs at least one backend URL'),
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
    /** ProxyTimeoutLinger: after a failed data relay, how long to wait for the backend's final reply. */
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
  })
  .strict()
  .superRefine((pool, ctx) => {
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
    /** TimeoutLogin: from connect until logged in. */
    login: duration.default(300_000),
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
    address: z.string().min(1).default('0.0.0.0'),
    port: z.number().int().min(0).max(65535),
    pool: z.string().min(1),
    /**
     * Pools a client may switch to with HOST (RFC 7151) before USER, by their name or hostNames: the
     * name-based virtual hosts sharing this address and port.
     */
    hostPools: z.array(z.string().min(1)).default([]),
    /** Longest command line accepted from a client, in bytes. */
    maxCommandLength: z.number().int().min(512).max(65536).default(4096),
    /** How long to wait for a data connection to open (client passive connect, active connect out). */
    dataConnectTimeout: duration.default(30_000),
    /** PassivePorts: the range of ports for passive data connections; any free port when absent. */
    passivePorts: portRange.optional(),
    /** MasqueradeAddress: the IPv4 address (or a host name resolving to one) given in 227 replies. */
    masqueradeAddress: z.string().min(1).optional(),
    /**
     * AllowForeignAddress: PORT/EPRT may name another host than the client (true, or only hosts in
     * these networks). Ports below 1024 are refused regardless.
     */
    allowForeignAddress: z.union([z.boolean(), z.array(cidr)]).default(false),
    timeouts: timeoutsSchema.default({
      login: 300_000,
      idle: 600_000,
      noTransfer: 300_000,
      stalled: 3_600_000,
    }),
    /**
     * TransferRate: per-transfer speed limits by command, in KiB/s, after `freeBytes` at full speed.
     * The first rule naming the command applies.
     */
    transferRate: z
      .array(
        z
          .object({
            commands: z.array(z.enum(['RETR', 'STOR', 'APPE', 'STOU', 'LIST', 'NLST', 'MLSD'])).min(1),
            kibPerSecond: z.number().positive(),
            freeBytes: z.number().int().min(0).default(0),
          })
          .strict(),
      )
      .default([]),
    /**
     * `<Limit>`: which commands which users or networks may send. The first rule naming a command (or
     * its group: READ, WRITE, DIRS, LOGIN, ALL) decides; see edge-worker/ftp/command-limits.ts.
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
            allowFrom: z.array(cidr).default([]),
            denyFrom: z.array(cidr).default([]),
            otherwise: z.enum(['allow', 'deny']).optional(),
            order: z.enum(['allow,deny', 'deny,allow']).default('allow,deny'),
          })
          .strict(),
      )
      .default([]),
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

export const storeSchema = z
  .object({
    /** "embedded" runs a DynamoDB-API server (dynalite) in-process under dataDir; otherwise a URL. */
    endpoint: z.union([z.literal('embedded'), z.url({ protocol: /^https?$/ })]).default('embedded'),
    region: z.string().min(1).default('us-east-1'),
    table: z.string().min(3).max(255).default('ftpx'),
  })
  .strict();

export const logSchema = z
  .object({
    level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    /** ProxyLog: a file to append JSON lines to; omitted means standard error. */
    file: z.string().min(1).optional(),
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
 * Where the edge worker's control plane is. Without `url` the functions run in this process on the
 * store configured under `store` (the embedded mode); with it they are called over HTTP (another
 * machine's `ftpx control-plane serve`, or the HTTP API in AWS) and no store is opened here.
 */
export const controlPlaneSchema = z
  .object({
    url: controlPlaneUrlSchema.optional(),
    /** Sent as `Authorization: Bearer <token>` (the control plane's edge token). */
    token: z.string().min(1).optional(),
    /** Per attempt of a call. */
    timeout: duration.default(2000),
    /** Attempts after the first, with backoff and jitter, for network errors, 5xx and 429. */
    retries: z.number().int().min(0).max(10).default(2),
    /** How long after the control plane stopped answering cached backend selections are still used. */
    staleFor: duration.default(300_000),
  })
  .strict()
  .superRefine((controlPlane, ctx) => {
    if (controlPlane.token !== undefined && controlPlane.url === undefined) {
      ctx.addIssue({ code: 'custom', path: ['token'], message: 'a token needs controlPlane.url' });
    }
  });

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
  })
  .strict()
  .superRefine((config, ctx) => {
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

/** What a config file says, before defaults are applied. */
export type ConfigInput = z.input<typeof configSchema>;
/** The validated configuration the edge worker runs with. */
export type FtpxConfig = z.output<typeof configSchema>;
export type PoolConfig = z.output<typeof poolSchema>;
export type ListenerConfig = z.output<typeof listenerSchema>;
export type ControlPlaneConfig = z.output<typeof controlPlaneSchema>;
export { CONNECT_POLICIES };
export type DataTransferPolicy = (typeof DATA_TRANSFER_POLICIES)[number];
