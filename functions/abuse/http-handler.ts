import { httpAdapter } from '../core/handler/index.js';
import { handler as directHandler } from './handler.js';

/**
 * The Lambda entry point behind the HTTP API (payload 2.0): the same function as `handler.ts`, with
 * the request in the body and the answer as JSON (the edge workers' HTTP transport), through the
 * adapter `ftpx control-plane serve` uses too.
 */
export const handler = httpAdapter(directHandler);
