/** The public surface of functions/core/handler/: import from here, not from its files (docs/layers.md). */

export { errorResult, type HttpHandler, httpAdapter } from './http-adapter.js';
export { InvalidRequestError } from './invalid-request-error.js';
export { lambdaContext } from './lambda-context.js';
export { lambdaEntry } from './lambda-entry.js';
export { tableFromEnv } from './table-from-env.js';
export { validateEvent } from './validate-event.js';
