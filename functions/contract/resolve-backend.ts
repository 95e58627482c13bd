import { z } from 'zod';
import { CONNECT_POLICIES, isStickyPolicy, STICKY_KEY_MEANING } from './connect-policies.js';

export {
  CONNECT_POLICIES,
  type ConnectPolicy,
  STICKY_POLICIES,
  type StickyPolicy,
} from './connect-policies.js';

/** Policies whose sticky key is a name with its own backend list (mod_proxy's `%U`/`%g` and `sql:`). */
export const PER_NAME_POLICIES = ['PerUser', 'PerGroup'] as const;

export function isPerNamePolicy(policy: string): policy is (typeof PER_NAME_POLICIES)[number] {
  return (PER_NAME_POLICIES as readonly string[]).includes(policy);
}

/** What PerUser (PerGroup) does when the name has no backends of its own. */
export const PER_USER_FALLBACKS = ['global', 'refuse'] as const;
export type PerUserFallback = (typeof PER_USER_FALLBACKS)[number];

/** Which list an answer was drawn from: the pool's (global) list, or the user's (group's) own. */
export const CANDIDATE_LISTS = ['pool', 'user'] as const;

const backendKeyText = z.string().min(1).max(1024);

/**
 * The resolve-backend contract, imported by the function and by the edge worker's control-plane
 * client. The edge worker lists its backends as credential-free keys (`ftp://host:port`): URL
 * credentials written in its configuration or in its `file:` lists stay on the worker. Backends
 * registered through the registry API are added by the function and come back with their full URL
 * (credentials included), since the worker has no other way to know them: this contract is internal
 * (edge worker to control plane) and answers must never be logged.
 */
export const resolveBackendRequestSchema = z
  .object({
    pool: z.string().min(1).max(256),
    policy: z.enum(CONNECT_POLICIES),
    /**
     * The backends the edge worker lists, in order: the pool's configured ones (URLs and static
     * `file:` lists), or with `backendsScope: "user"` the user's own (its `%U` files). May be empty
     * (a pool whose only list is per user, or registered).
     */
    backends: z.array(backendKeyText).max(1000),
    /**
     * "pool" (default): `backends` is the pool's global list; the function adds the pool's registered
     * backends, and under PerUser / PerGroup first looks for the name's registered backends.
     * "user": `backends` is the user's own list (PerUser / PerGroup only); the function appends the
     * name's registered backends and never falls back to the global list.
     */
    backendsScope: z.enum(CANDIDATE_LISTS).default('pool'),
    /** Positions in `backends` that already failed in this session: never returned again. */
    exclude: z.array(z.number().int().min(0)).max(1000).default([]),
    /**
     * Backend keys that already failed in this session, whatever list they came from (listed or
     * registered): never returned again. Preferred over `exclude`, which only reaches listed ones.
     */
    excludeBackends: z.array(backendKeyText).max(1000).default([]),
    /**
     * What a sticky policy maps: the user name (PerUser), the user's primary group (PerGroup) or
     * the client IP address (PerHost). Required by those three; ignored by the others.
     */
    stickyKey: z.string().min(1).max(256).optional(),
    /**
     * The client has not logged in yet (PerHost at connect, PerUser at USER): a sticky policy follows
     * an existing mapping but writes none (no new mapping, no renewal), so clients that never log in
     * cannot grow the store. The edge asks again without it once the login succeeded, which writes.
     */
    provisional: z.boolean().optional(),
    /**
     * PerUser / PerGroup with `backendsScope: "pool"`: when the name has no registered backends,
     * "global" (default) uses the global list; "refuse" answers no candidate and says why in `refused`
     * (mod_proxy issue #139).
     */
    perUserFallback: z.enum(PER_USER_FALLBACKS).default('global'),
    /** The calling edge worker, for logs; selection does not depend on it. */
    workerId: z.string().min(1).max(256).optional(),
  })
  .strict()
  .superRefine((request, context) => {
    if (isStickyPolicy(request.policy) && request.stickyKey === undefined) {
      context.addIssue({
        code: 'custom',
        path: ['stickyKey'],
        message: `required by the ${request.policy} policy (${STICKY_KEY_MEANING[request.policy]})`,
      });
    }
    if (request.backendsScope === 'user' && !isPerNamePolicy(request.policy)) {
      context.addIssue({
        code: 'custom',
        path: ['backendsScope'],
        message: `"user" needs the PerUser or PerGroup policy, not ${request.policy}`,
      });
    }
  });

/**
 * One backend to try. Exactly one of `index` and `url` is present:
 * - `index`: the position in the request's `backends` (the edge worker has the URL);
 * - `url`: a registered backend's URL, with its credentials (`registry` says where it is registered:
 *   the pool's backends, or the user's / group's mapping).
 * `backend` is always the credential-free key, the one to log, report in session events and exclude.
 */
export const resolveBackendCandidateSchema = z
  .object({
    backend: z.string(),
    index: z.number().int().min(0).optional(),
    url: z.string().min(1).max(2048).optional(),
    registry: z.enum(['pool', 'user', 'group']).optional(),
    /**
     * Found through DNS discovery from this `+srv` / `+txt` entry (`index`: its position in the
     * request's `backends`). `url` then carries no credentials for a listed entry: the edge worker
     * adds those it holds for that entry.
     */
    via: z.object({ backend: z.string(), index: z.number().int().min(0).optional() }).optional(),
    /**
     * Absent: healthy. "suspect": recent failed connects (or on probation after a cool-down): report
     * a successful connect (`connect-succeeded`) so that it is cleared. "unhealthy": every backend
     * left is unhealthy and the pool tries them anyway (whenAllUnhealthy: try).
     */
    health: z.enum(['suspect', 'unhealthy']).optional(),
  })
  .refine((candidate) => (candidate.index === undefined) !== (candidate.url === undefined), {
    message: 'a candidate has either an index or a url',
  });

export const resolveBackendResponseSchema = z.object({
  /** Backends to try, best first; empty when every backend is excluded, or the login is refused. */
  candidates: z.array(resolveBackendCandidateSchema),
  /** Which list the candidates were drawn from (absent from older functions: "pool"). */
  list: z.enum(CANDIDATE_LISTS).optional(),
  /** Why there is no candidate on purpose (perUserFallback "refuse", or nothing listed at all). */
  refused: z.string().optional(),
  /** Discovery problems met on the way (a `+srv` name without records, a DNS failure): for logs. */
  notes: z.array(z.string()).optional(),
});

export type ResolveBackendRequest = z.input<typeof resolveBackendRequestSchema>;
export type ResolveBackendResponse = z.output<typeof resolveBackendResponseSchema>;
export type ResolveBackendCandidate = z.output<typeof resolveBackendCandidateSchema>;
