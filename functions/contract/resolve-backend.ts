import { z } from 'zod';
import { CONNECT_POLICIES, isStickyPolicy, STICKY_KEY_MEANING } from './connect-policies.js';

export {
  CONNECT_POLICIES,
  type ConnectPolicy,
  STICKY_POLICIES,
  type StickyPolicy,
} from './connect-policies.js';

/**
 * The resolve-backend contract, imported by the function and by the edge worker's control-plane
 * client. Backends travel as credential-free keys (`ftp://host:port`): URL credentials stay on the
 * edge worker and never reach the control plane or its logs.
 */
export const resolveBackendRequestSchema = z
  .object({
    pool: z.string().min(1).max(256),
    policy: z.enum(CONNECT_POLICIES),
    /** The pool's configured backends, in configuration order. */
    backends: z.array(z.string().min(1).max(1024)).min(1).max(1000),
    /** Positions in `backends` that already failed in this session: never returned again. */
    exclude: z.array(z.number().int().min(0)).max(1000).default([]),
    /**
     * What a sticky policy maps: the user name (PerUser), the user's primary group (PerGroup) or
     * the client IP address (PerHost). Required by those three; ignored by the others.
     */
    stickyKey: z.string().min(1).max(256).optional(),
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
  });

export const resolveBackendResponseSchema = z.object({
  /** Backends to try, best first; empty when every backend is excluded. */
  candidates: z.array(z.object({ index: z.number().int().min(0), backend: z.string() })),
});

export type ResolveBackendRequest = z.input<typeof resolveBackendRequestSchema>;
export type ResolveBackendResponse = z.output<typeof resolveBackendResponseSchema>;
