import { z } from 'zod';
import { CONNECT_POLICIES } from '../../functions/contract/connect-policies.js';
import { identityHookConfigSchema } from '../../functions/core/auth/index.js';
import { MIN_SHARED_TOKEN_LENGTH } from '../../functions/core/registry/index.js';
import { isUnixSocketEndpoint } from '../../functions/core/store/index.js';
import { ACCESS_LOG_VARIABLES, parseLogFormat } from '../log/access-log.js';
import { parseBackendSource } from '../reverse/backend-source.js';
import { dnsSchema, healthSchema } from './discovery-health.js';
import { duration } from './duration-schema.js';
import { bansSchema } from './limits-schema.js';
import { listenerSchema } from './listener-schema.js';
import { cidr } from './network-schema.js';
import { poolSchema } from './pool-schema.js';

export { type ListenerConfig, listenerSchema } from './listener-schema.js';
export {
  DATA_TRANSFER_POLICIES,
  type DataTransferPolicy,
  type PoolConfig,
  poolSchema,
} from './pool-schema.js';

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
        /** `TLSSessionCache off` or `internal:`: no shared cache (see workerCache). */
        enabled: z.boolean().default(true),
        /**
         * Without the shared cache, each worker still resumes the session IDs it issued (mod_tls's
         * internal cache, `TLSSessionCache internal:`). `TLSSessionCache off` sets it false: no
         * session-ID resumption at all, as mod_tls's SSL_SESS_CACHE_OFF (tickets are `tickets`).
         */
        workerCache: z.boolean().default(true),
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
      const limitedClasses = new Set<string>();
      listener.connections.maxClientsPerClass?.forEach((entry, position) => {
        const path = ['listeners', index, 'connections', 'maxClientsPerClass', position, 'class'];
        if (!classNames.has(entry.class)) {
          ctx.addIssue({
            code: 'custom',
            path,
            message: `no class named "${entry.class}" (classes: ${[...classNames].join(', ') || 'none'})`,
          });
        }
        if (limitedClasses.has(entry.class)) {
          ctx.addIssue({ code: 'custom', path, message: `class "${entry.class}" is limited twice` });
        }
        limitedClasses.add(entry.class);
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
export type ControlPlaneConfig = z.output<typeof controlPlaneSchema>;
export type TlsCacheConfig = z.output<typeof tlsCacheSchema>;
export type LifecycleConfig = z.output<typeof lifecycleSchema>;

/** The lifecycle settings with their defaults. */
export function lifecycleOf(config: { lifecycle?: LifecycleConfig | undefined }): LifecycleConfig {
  return config.lifecycle ?? lifecycleSchema.parse({});
}
export { CONNECT_POLICIES };
