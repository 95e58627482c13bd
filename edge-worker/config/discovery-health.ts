import { z } from 'zod';
import { parseDnsServer } from '../../functions/core/discovery/index.js';
import { duration } from './duration-schema.js';

/** `HOST[:PORT]` of a DNS server (an IP address; port 53 by default). */
const dnsServer = z.string().superRefine((value, ctx) => {
  const parsed = parseDnsServer(value);
  if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.error });
});

/**
 * `dns`: how the control plane in this process resolves `+srv` / `+txt` backends. Record TTLs decide
 * how long an answer is used (clamped to [minTtl, maxTtl]); `refreshInterval` is how often the
 * scheduled refresh runs here (embedded mode has no EventBridge).
 */
export const dnsSchema = z
  .object({
    /** Empty: the system's resolvers (resolv.conf). `--dns-server HOST:PORT` adds to this. */
    servers: z.array(dnsServer).default([]),
    timeout: duration.default(2000),
    minTtl: duration.default(1000),
    maxTtl: duration.default(3_600_000),
    negativeTtl: duration.default(10_000),
    refreshInterval: duration.default(5000),
  })
  .strict();

const ftpCheckSchema = z
  .object({
    /** "banner": connect and read the 220; "noop": also NOOP; "login": also USER/PASS of this account. */
    check: z.enum(['banner', 'noop', 'login']).default('banner'),
    user: z.string().min(1).optional(),
    password: z.string().optional(),
  })
  .strict()
  .superRefine((ftp, ctx) => {
    if (ftp.check === 'login' && ftp.user === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['user'],
        message: 'check "login" needs a user (a health-check account)',
      });
    }
  });

/**
 * `health`: passive checks (failed connects reported by edge workers) and active checks (the
 * health-check function, run here on an interval). Defaults: passive on (3 failures within 60 s mark
 * a backend unhealthy for 30 s), active off, and when every backend is unhealthy, try them anyway.
 */
export const healthSchema = z
  .object({
    passive: z
      .object({
        enabled: z.boolean().default(true),
        failures: z.number().int().min(1).max(1000).default(3),
        window: duration.default(60_000),
        cooldown: duration.default(30_000),
      })
      .strict()
      .default({ enabled: true, failures: 3, window: 60_000, cooldown: 30_000 }),
    /** Every backend that may be tried is unhealthy: "try" them anyway, or "fail" the login at once. */
    whenAllUnhealthy: z.enum(['try', 'fail']).default('try'),
    active: z
      .object({
        enabled: z.boolean().default(false),
        interval: duration.default(10_000),
        timeout: duration.default(5000),
        /** How long a failed check keeps a backend unhealthy unless a later check passes. */
        hold: duration.default(60_000),
        ftp: ftpCheckSchema.default({ check: 'banner' }),
        /** FTPS checks: accept a self-signed or otherwise untrusted backend certificate. */
        allowUntrustedCertificates: z.boolean().default(false),
        /** FTPS checks: warn when the backend certificate expires within this many days. */
        certificateExpiryWarningDays: z.number().int().min(0).max(3650).default(14),
      })
      .strict()
      .default({
        enabled: false,
        interval: 10_000,
        timeout: 5000,
        hold: 60_000,
        ftp: { check: 'banner' },
        allowUntrustedCertificates: false,
        certificateExpiryWarningDays: 14,
      }),
  })
  .strict();

export type DnsConfig = z.output<typeof dnsSchema>;
export type HealthConfig = z.output<typeof healthSchema>;

/** The `dns` block with its defaults (absent from a config that does not mention it). */
export function dnsConfigOf(config: { dns?: DnsConfig | undefined }): DnsConfig {
  return config.dns ?? dnsSchema.parse({});
}

/** The `health` block with its defaults. */
export function healthConfigOf(config: { health?: HealthConfig | undefined }): HealthConfig {
  return config.health ?? healthSchema.parse({});
}
