import { z } from 'zod';

/**
 * What edge workers share to resist abuse (docs/security.md): the ban list every worker polls
 * (mod_ban's ban table, in the store), BanOnEvent occurrences counted across the cluster, and the
 * connection-limit counts (MaxClients, MaxClientsPerClass, MaxClientsPerHost, MaxClientsPerUser,
 * MaxConnectionsPerHost, MaxHostsPerUser) kept as per-worker leases that expire when a worker dies.
 */

export const BAN_KINDS = ['host', 'user', 'class'] as const;
export const banKindSchema = z.enum(BAN_KINDS);
export type BanKind = z.output<typeof banKindSchema>;

export const banSchema = z.object({
  kind: banKindSchema,
  /** A client address, a user name or a `<Class>` name. */
  value: z.string().min(1).max(256),
  reason: z.string().max(512),
  /** The rule's message (BanOnEvent's last argument, or given with the ban); else BanMessage. */
  message: z.string().max(512).optional(),
  /** Epoch milliseconds. */
  createdAt: z.number().int().min(0),
  /** Epoch seconds; absent: until removed. */
  expiresAt: z.number().int().min(0).optional(),
});
export type Ban = z.output<typeof banSchema>;

/** The range of a BanOnEvent rule's window and duration, and its largest count (config checks them at load). */
export const BAN_RULE_MIN_MS = 1000;
export const BAN_RULE_MAX_MS = 366 * 86_400_000;
export const BAN_RULE_MAX_COUNT = 1_000_000;

const groupSchema = z.string().min(1).max(600);
const memberSchema = z.string().max(256);
const workerIdSchema = z.string().min(1).max(256);

export const abuseRequestSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('list-bans') }).strict(),
  z
    .object({
      op: z.literal('ban-event'),
      /** The BanOnEvent event name (MaxLoginAttempts, TimeoutLogin, ...). */
      event: z.string().min(1).max(64),
      kind: banKindSchema,
      value: z.string().min(1).max(256),
      /** The rule: `count` occurrences within `windowMs` ban for `durationMs`. */
      count: z.number().int().min(1).max(BAN_RULE_MAX_COUNT),
      windowMs: z.number().int().min(BAN_RULE_MIN_MS).max(BAN_RULE_MAX_MS),
      durationMs: z.number().int().min(BAN_RULE_MIN_MS).max(BAN_RULE_MAX_MS),
      message: z.string().max(512).optional(),
    })
    .strict(),
  z
    .object({ op: z.literal('acquire'), group: groupSchema, member: memberSchema, workerId: workerIdSchema })
    .strict(),
  z
    .object({ op: z.literal('release'), group: groupSchema, member: memberSchema, workerId: workerIdSchema })
    .strict(),
  z
    .object({
      op: z.literal('heartbeat'),
      workerId: workerIdSchema,
      slots: z.array(z.object({ group: groupSchema, member: memberSchema }).strict()).max(10_000),
    })
    .strict(),
]);
export type AbuseRequest = z.input<typeof abuseRequestSchema>;
export type AbuseRequestParsed = z.output<typeof abuseRequestSchema>;

export const abuseResponseSchema = z.object({
  /** list-bans. */
  bans: z.array(banSchema).optional(),
  /** ban-event: the occurrences counted in the window, and the ban it caused (if it did). */
  count: z.number().int().optional(),
  ban: banSchema.optional(),
  /** acquire: the group's live connections across the cluster (this one included), distinct members. */
  total: z.number().int().optional(),
  members: z.number().int().optional(),
  /** release / heartbeat. */
  done: z.boolean().optional(),
});
export type AbuseResponse = z.output<typeof abuseResponseSchema>;

/** Registry API: `PUT /v1/bans/{kind}/{value}`: bans a host, user or class (admin). */
export const banParamsSchema = z.object({ kind: banKindSchema, value: z.string().min(1).max(256) }).strict();

export const banCreateSchema = z
  .object({
    reason: z.string().max(512).default('banned by an operator'),
    message: z.string().min(1).max(512).optional().meta({
      description: 'What the client is told (%a address, %u user, %c class); absent: BanMessage.',
    }),
    expiresInSeconds: z
      .number()
      .int()
      .min(1)
      .max(366 * 86_400)
      .optional()
      .meta({ description: 'How long the ban lasts; absent: until removed.' }),
  })
  .strict();

export const banListSchema = z.object({ items: z.array(banSchema) });
