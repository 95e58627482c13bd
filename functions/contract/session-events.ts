import { z } from 'zod';

/**
 * The session-events contract: what an edge worker reports about its backend sessions, so that
 * LeastConns and LeastResponseTime see every worker's live connections and connect times.
 *
 * - `connected`: a session's connect to `backend` succeeded after `connectMs`: +1 on the worker's
 *   lease for that backend (its expiry extended), and one connect-time sample.
 * - `connect-failed`: a connect attempt failed: recorded per backend with the reason; it is not a
 *   connection (mod_proxy counts it as one).
 * - `ended`: a session that was `connected` ended: -1 on the worker's lease, never below zero.
 * - `heartbeat`: the worker is alive: extends the expiry of every lease it lists (each pool and
 *   backend it has at least one live session on). A lease not extended within the lease TTL
 *   expires, and its count drops out of every sum: that is how a dead worker's sessions vanish.
 *
 * `workerId` must be unique per worker process start (e.g. host, pid and a random id): a restarted
 * worker reusing an id would inherit its predecessor's live leases.
 */
export const DEFAULT_LEASE_TTL_MS = 30_000;

/** How often a worker should send `heartbeat`: a third of the lease TTL, so two may be lost. */
export const HEARTBEAT_INTERVAL_MS = 10_000;

const pool = z.string().min(1).max(256);
const backend = z.string().min(1).max(1024);
const workerId = z.string().min(1).max(256);

export const sessionEventsRequestSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('connected'),
      pool,
      backend,
      workerId,
      /** Milliseconds from starting the connect to the backend's 2xx banner. */
      connectMs: z.number().min(0).max(3_600_000),
    })
    .strict(),
  z
    .object({
      type: z.literal('connect-failed'),
      pool,
      backend,
      reason: z.string().min(1).max(1024),
      workerId: workerId.optional(),
    })
    .strict(),
  z.object({ type: z.literal('ended'), pool, backend, workerId }).strict(),
  /**
   * A connect succeeded to a backend resolve-backend flagged `health: suspect` or `unhealthy`:
   * clears its failure window and cool-down (passive health). Sent whatever the connect policy.
   */
  z.object({ type: z.literal('connect-succeeded'), pool, backend, workerId: workerId.optional() }).strict(),
  z
    .object({
      type: z.literal('heartbeat'),
      workerId,
      /** Every (pool, backend) the worker has live sessions on; duplicates are ignored. */
      leases: z.array(z.object({ pool, backend }).strict()).max(10_000),
    })
    .strict(),
]);

const leaseRef = z.object({ pool: z.string(), backend: z.string() });

export const sessionEventsResponseSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('connected'),
    /** The worker's live sessions on this backend, this one included. */
    leaseCount: z.number().int().min(0),
    /** When the lease expires unless extended (epoch seconds). */
    leaseExpiresAt: z.number().int(),
    /** The backend's smoothed connect time after this sample; absent if the sample lost every race. */
    connectMsEwma: z.number().min(0).optional(),
  }),
  z.object({
    type: z.literal('connect-failed'),
    /** Failures recorded for this backend (in the failure record's lifetime). */
    failures: z.number().int().min(1),
    /** Passive health: the backend is now unhealthy (marked by this failure or before it). */
    unhealthy: z.boolean().optional(),
  }),
  z.object({
    type: z.literal('connect-succeeded'),
    /** False when there was nothing to clear. */
    cleared: z.boolean(),
  }),
  z.object({
    type: z.literal('ended'),
    /** False when there was nothing to decrement (lease expired, or its count already zero). */
    released: z.boolean(),
    leaseCount: z.number().int().min(0),
  }),
  z.object({
    type: z.literal('heartbeat'),
    extended: z.number().int().min(0),
    /** Leases that had already expired: their counts are gone and were not revived. */
    expired: z.array(leaseRef),
  }),
]);

export type SessionEventsRequest = z.input<typeof sessionEventsRequestSchema>;
export type SessionEventsResponse = z.output<typeof sessionEventsResponseSchema>;
/** The answer to one kind of event. */
export type SessionEventsResponseOf<T extends SessionEventsRequest['type']> = Extract<
  SessionEventsResponse,
  { type: T }
>;
