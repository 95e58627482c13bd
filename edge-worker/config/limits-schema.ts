import { z } from 'zod';
import { BAN_RULE_MAX_COUNT, BAN_RULE_MAX_MS, BAN_RULE_MIN_MS } from '../../functions/contract/abuse.js';
import { duration } from './duration-schema.js';

/**
 * A ProFTPD connection limit: `max` connections, and the optional message argument that replaces
 * ProFTPD's text (`%m` stands for the limit). A bare number is the limit with ProFTPD's text.
 */
const connectionLimit = z
  .union([
    z.number().int().min(1),
    z.object({ max: z.number().int().min(1), message: z.string().min(1).max(512).optional() }).strict(),
  ])
  .transform((value) => (typeof value === 'number' ? { max: value } : value));

/**
 * The connection limits of a listener (ProFTPD's core limits; docs/security.md): counted across
 * every edge worker through the store, except maxInstances and the pre-login caps, which are per
 * worker process.
 */
export const connectionLimitsSchema = z
  .object({
    /** MaxClients: logged-in clients of this listener. */
    maxClients: connectionLimit.optional(),
    /** MaxClientsPerHost: logged-in clients from one address. */
    maxClientsPerHost: connectionLimit.optional(),
    /**
     * MaxClientsPerClass: logged-in clients of one `<Class>` (classes[]), one entry per class; a client
     * of no class, or of a class not named here, is not counted.
     */
    maxClientsPerClass: z
      .array(
        z
          .object({
            class: z.string().min(1),
            max: z.number().int().min(1),
            message: z.string().min(1).max(512).optional(),
          })
          .strict(),
      )
      .optional(),
    /** MaxClientsPerUser: logged-in clients as one user. */
    maxClientsPerUser: connectionLimit.optional(),
    /** MaxConnectionsPerHost: connections from one address, logged in or not (checked at connect). */
    maxConnectionsPerHost: connectionLimit.optional(),
    /** MaxHostsPerUser: distinct client addresses logged in as one user. */
    maxHostsPerUser: connectionLimit.optional(),
    /** MaxInstances: connections this worker process serves at once on this listener; more are closed. */
    maxInstances: z.number().int().min(1).optional(),
    /** Connections not logged in yet (TLS and SSH handshakes included), per worker process. */
    maxUnauthenticated: z.number().int().min(1).default(1024),
    /** Connections not logged in yet from one client address, per worker process. */
    maxUnauthenticatedPerHost: z.number().int().min(1).default(32),
  })
  .strict();

/** BanOnEvent's events: ProFTPD's names, and ftpx's own for what only a proxy sees. */
export const BAN_EVENTS = [
  'ClientConnectRate',
  'LoginRate',
  'MaxClientsPerClass',
  'MaxClientsPerHost',
  'MaxClientsPerUser',
  'MaxConnectionsPerHost',
  'MaxHostsPerUser',
  'MaxLoginAttempts',
  'TimeoutIdle',
  'TimeoutLogin',
  'UnhandledCommand',
  'TLSHandshake',
  'BadProxyHeader',
  'SSHAuthFailure',
  'ProxyAuthFailure',
] as const;
export type BanEventName = (typeof BAN_EVENTS)[number];

/** How a rule's time reads in an error: the milliseconds and, past a minute, hours or days. */
function spelled(ms: number): string {
  if (ms < 60_000) return `${ms} ms`;
  const days = ms / 86_400_000;
  return days >= 1
    ? `${ms / 1000} s (${Number(days.toFixed(1))} days)`
    : `${ms / 1000} s (${Number((ms / 3_600_000).toFixed(2))} h)`;
}

/**
 * A rule's window or duration: what the store counts and bans with, 1 s to 366 days. Refused at load,
 * since a rule outside it would have every event refused by the store (and only logged).
 */
const banRuleTime = duration.superRefine((ms, ctx) => {
  if (ms >= BAN_RULE_MIN_MS && ms <= BAN_RULE_MAX_MS) return;
  ctx.addIssue({
    code: 'custom',
    message: `must be from 1s to 366 days, got ${spelled(ms)}; a bare number is seconds: write e.g. 10m or 1h`,
  });
});

/** mod_ban, shared by every edge worker (docs/security.md). */
export const bansSchema = z
  .object({
    /** BanEngine: refuse banned clients and apply the rules. */
    engine: z.boolean().default(true),
    /** BanMessage: what a banned client is told (`%a` address, `%u` user, `%c` class); absent: nothing. */
    message: z.string().min(1).max(512).optional(),
    /** How often each worker reads the shared ban list (a ban reaches every node within this). */
    pollInterval: duration.default(2000),
    /** BanOnEvent: `count` events within `window` ban the host (the user, for the per-user events) for `duration`. */
    rules: z
      .array(
        z
          .object({
            event: z.enum(BAN_EVENTS),
            count: z.number().int().min(1).max(BAN_RULE_MAX_COUNT),
            window: banRuleTime,
            duration: banRuleTime,
            message: z.string().min(1).max(512).optional(),
            /**
             * What the rule counts and bans: the client's address (the default), its user name (the
             * default of MaxClientsPerUser and MaxHostsPerUser; a per-user failure budget), or its
             * `<Class>` (the default of MaxClientsPerClass, as in mod_ban).
             */
            target: z.enum(['host', 'user', 'class']).optional(),
          })
          .strict(),
      )
      .default([]),
  })
  .strict();

export type ConnectionLimitsConfig = z.output<typeof connectionLimitsSchema>;
export type BansConfig = z.output<typeof bansSchema>;
