import middy from '@middy/core';
import type { z } from 'zod';
import { type ResolveBackendResponse, resolveBackendRequestSchema } from '../contract/resolve-backend.js';
import { tableFromEnv } from '../shared/handler/table-from-env.js';
import { validateEvent } from '../shared/handler/validate-event.js';
import type { Random } from '../shared/random.js';
import { resolveBackend } from '../shared/resolve-backend.js';
import type { Table } from '../shared/store/table.js';

type Event = z.output<typeof resolveBackendRequestSchema>;

export interface ResolveBackendDeps {
  table: Table;
  /** Epoch milliseconds; defaults to Date.now (tests pass a clock they move). */
  now?: () => number;
  /** Uniform in [0, 1); defaults to Math.random (tests pass a seeded generator). */
  random?: Random;
  /** How long an unused sticky mapping lives; defaults to 30 days. */
  stickyTtlMs?: number;
}

/** Builds the handler around its dependencies: Lambda takes them from the environment, embedded mode passes its own. */
export function createResolveBackendHandler(deps: ResolveBackendDeps) {
  const { table, ...options } = deps;
  return middy<Event, ResolveBackendResponse>()
    .use(validateEvent(resolveBackendRequestSchema))
    .handler(async (event) => resolveBackend(table, event, options));
}

let lambdaHandler: ReturnType<typeof createResolveBackendHandler> | undefined;

/** The Lambda entry point. Built on first use so importing this module has no side effects. */
export const handler = (
  event: unknown,
  context: Parameters<ReturnType<typeof createResolveBackendHandler>>[1],
) => {
  lambdaHandler ??= createResolveBackendHandler({ table: tableFromEnv() });
  return lambdaHandler(event as Event, context);
};
