import type { Context } from 'aws-lambda';
import type { FunctionTelemetry } from '../telemetry/index.js';

/**
 * A function's Lambda entry point: on the first invocation it loads Powertools (powertools.ts) and
 * builds the handler with the function's telemetry, then runs every invocation under Powertools'
 * middlewares. Importing a handler module therefore loads no Powertools code: the edge worker,
 * which imports the same modules for its embedded control plane, stays light.
 */
export function lambdaEntry<TEvent, TResult>(
  name: string,
  build: (telemetry: FunctionTelemetry) => (event: TEvent, context: Context) => Promise<TResult>,
  options: { logEvent?: boolean } = {},
): (event: unknown, context: Context) => Promise<TResult> {
  let entry: Promise<(event: TEvent, context: Context) => Promise<TResult>> | undefined;
  return async (event, context) => {
    entry ??= import('./powertools.js').then(({ lambdaObservability, observedHandler }) => {
      const observability = lambdaObservability(name, options);
      return observedHandler(build(observability.telemetry), observability);
    });
    // A failed build (a missing environment variable) is tried again on the next invocation.
    const handler = await entry.catch((err: unknown) => {
      entry = undefined;
      throw err;
    });
    return handler(event as TEvent, context);
  };
}
