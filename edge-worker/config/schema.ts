import { z } from 'zod';
import { parseBackendUrl } from '../../functions/shared/backend-url.js';
import { parseDuration } from './duration.js';

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

const backendUrl = z.string().superRefine((value, ctx) => {
  const parsed = parseBackendUrl(value);
  if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.error });
});

export const CONNECT_POLICIES = ['RoundRobin'] as const;

export const poolSchema = z
  .object({
    name: z.string().min(1),
    role: z.literal('reverse').default('reverse'),
    connectPolicy: z.enum(CONNECT_POLICIES).default('RoundRobin'),
    backends: z.array(backendUrl).min(1, 'a reverse pool needs at least one backend URL'),
    retryCount: z.number().int().min(1).default(5),
    connectTimeout: duration.default(5000),
    /** Backend FTPS. Only "off" exists today: backends that offer TLS are used in plain FTP. */
    backendTls: z.literal('off').default('off'),
  })
  .strict();

export const listenerSchema = z
  .object({
    name: z.string().min(1).optional(),
    address: z.string().min(1).default('0.0.0.0'),
    port: z.number().int().min(0).max(65535),
    pool: z.string().min(1),
    /** Longest command line accepted from a client, in bytes. */
    maxCommandLength: z.number().int().min(512).max(65536).default(4096),
    /** How long to wait for the client to open a passive data connection. */
    dataConnectTimeout: duration.default(30_000),
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

export const configSchema = z
  .object({
    /** ProxyTables: where the embedded store keeps its data. */
    dataDir: z.string().min(1).default('./data'),
    log: logSchema.default({ level: 'info' }),
    store: storeSchema.default({ endpoint: 'embedded', region: 'us-east-1', table: 'ftpx' }),
    listeners: z.array(listenerSchema).min(1, 'at least one listener is needed'),
    pools: z.array(poolSchema).min(1, 'at least one pool is needed'),
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
