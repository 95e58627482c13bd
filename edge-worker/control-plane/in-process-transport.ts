import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { createAbuseHandler } from '../../functions/abuse/handler.js';
import { createAuthHandler } from '../../functions/auth/handler.js';
import { abuseResponseSchema } from '../../functions/contract/abuse.js';
import { authResponseSchema } from '../../functions/contract/auth.js';
import { resolveBackendResponseSchema } from '../../functions/contract/resolve-backend.js';
import { sessionEventsResponseSchema } from '../../functions/contract/session-events.js';
import { sshHostKeyResponseSchema } from '../../functions/contract/ssh-host-keys.js';
import { tlsCacheResponseSchema } from '../../functions/contract/tls-cache.js';
import type { IdentityHookConfig } from '../../functions/core/auth/index.js';
import type { DiscoveryContext } from '../../functions/core/discovery/index.js';
import { lambdaContext } from '../../functions/core/handler/index.js';
import type { HealthSettings } from '../../functions/core/health/index.js';
import type { Table } from '../../functions/core/store/index.js';
import { createResolveBackendHandler } from '../../functions/resolve-backend/handler.js';
import { createSessionEventsHandler } from '../../functions/session-events/handler.js';
import { createSshHostKeysHandler } from '../../functions/ssh-host-keys/handler.js';
import type { createTlsCacheHandler } from '../../functions/tls-cache/handler.js';
import { withTimeout } from '../net/with-timeout.js';
import { type ControlPlaneClient, ControlPlaneError } from './control-plane-client.js';

const CALL_TIMEOUT_MS = 5000;

/**
 * Runs the very handlers Lambda runs, in this process: the embedded mode is the cloud mode with a
 * shorter wire. Responses are checked against the contract exactly as the HTTP transport will.
 */
export function createInProcessControlPlane(
  table: Table,
  options: {
    identityHook?: IdentityHookConfig | readonly IdentityHookConfig[];
    /** DNS discovery (resolvers, settings) for `+srv` / `+txt` backends. */
    discovery?: DiscoveryContext;
    health?: HealthSettings;
    /**
     * false: answers go out unchecked, for a caller that checks them against the same contract on
     * arrival (a cluster worker over IPC, ipc-transport.ts): one check per answer, in the worker
     * that uses it, instead of a second one in the primary every worker waits for.
     */
    checkResponses?: boolean;
  } = {},
): ControlPlaneClient {
  const { identityHook, discovery, health } = options;
  const call = options.checkResponses === false ? callUnchecked : callChecked;
  const resolveBackend = createResolveBackendHandler({
    table,
    ...(discovery ? { discovery } : {}),
    ...(health ? { health } : {}),
  });
  const sessionEvents = createSessionEventsHandler({ table, ...(health ? { health } : {}) });
  const auth = createAuthHandler({ table, ...(identityHook ? { identityHook } : {}) });
  // The TLS cache function (OCSP fetching, ASN.1 schemas, undici) loads with its first call: only
  // TLS listeners and FTPS backends make one.
  let tlsCache: Promise<ReturnType<typeof createTlsCacheHandler>> | undefined;
  const tlsCacheHandler = () => {
    tlsCache ??= import('../../functions/tls-cache/handler.js').then((module) =>
      module.createTlsCacheHandler({ table }),
    );
    return tlsCache;
  };
  const sshHostKeys = createSshHostKeysHandler({ table });
  const abuse = createAbuseHandler({ table });
  return {
    resolveBackend: (request) =>
      call('resolve-backend', resolveBackendResponseSchema, () =>
        resolveBackend(request as never, context('resolve-backend')),
      ),
    sessionEvent: (event) =>
      call('session-events', sessionEventsResponseSchema, () =>
        sessionEvents(event as never, context('session-events')),
      ),
    authenticate: (request) =>
      call('authenticate', authResponseSchema, () => auth(request as never, context('authenticate'))),
    tlsCache: (request) =>
      call('tls-cache', tlsCacheResponseSchema, async () =>
        (await tlsCacheHandler())(request as never, context('tls-cache')),
      ),
    sshHostKey: (request) =>
      call('ssh-host-keys', sshHostKeyResponseSchema, () =>
        sshHostKeys(request as never, context('ssh-host-keys')),
      ),
    abuse: (request) => call('abuse', abuseResponseSchema, () => abuse(request as never, context('abuse'))),
  };
}

/** Invokes a handler with a deadline and checks its answer against the contract. */
async function callChecked<S extends z.ZodType>(
  operation: string,
  schema: S,
  run: () => Promise<unknown>,
): Promise<z.output<S>> {
  const result = await invoke(operation, run);
  const parsed = schema.safeParse(result);
  if (!parsed.success) throw new ControlPlaneError(operation, 'malformed response', { cause: parsed.error });
  return parsed.data;
}

/** Invokes a handler with a deadline; the caller checks the answer. */
function callUnchecked<S extends z.ZodType>(
  operation: string,
  _schema: S,
  run: () => Promise<unknown>,
): Promise<z.output<S>> {
  return invoke(operation, run) as Promise<z.output<S>>;
}

async function invoke<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await withTimeout(call(), CALL_TIMEOUT_MS, () => {
      throw new ControlPlaneError(operation, `no answer within ${CALL_TIMEOUT_MS} ms`);
    });
  } catch (err) {
    if (err instanceof ControlPlaneError) throw err;
    throw new ControlPlaneError(operation, err instanceof Error ? err.message : String(err), { cause: err });
  }
}

function context(functionName: string) {
  return lambdaContext(functionName, randomUUID(), Date.now() + CALL_TIMEOUT_MS);
}
