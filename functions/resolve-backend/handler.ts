import middy from '@middy/core';
import type { z } from 'zod';
import { type ResolveBackendResponse, resolveBackendRequestSchema } from '../contract/resolve-backend.js';
import { tableFromEnv } from '../shared/handler/table-from-env.js';
import { validateEvent } from '../shared/handler/validate-event.js';
import { resolveBackend } from '../shared/resolve-backend.js';
import type { Table } from '../shared/store/table.js';

type Event = z.output<typeof resolveBackendRequestSchema>;

export interface ResolveBackendDeps {
  table: Table;
}

/** Builds the handler around its dependencies: Lambda takes them from the environment, embedded mode passes its own. */
export function createResolveBackendHandler(deps: ResolveBackendDeps) {
  return middy<Event, ResolveBackendResponse>()
    .use(validateEvent(resolveBackendRequestSchema))
    .handler(async (event) => resolveBackend(deps.table, event));
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
