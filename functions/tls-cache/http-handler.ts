import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { httpAdapter } from '../core/handler/index.js';
import { handler as directHandler, scheduled } from './handler.js';

const httpHandler = httpAdapter(directHandler);

/**
 * The deployed Lambda entry point (infra/lib/functions.ts). Behind the HTTP API (payload 2.0) it is
 * `POST /v1/tls-cache`: the edge workers' requests in the body, through the adapter `ftpx
 * control-plane serve` uses too. Invoked directly, it is an EventBridge schedule: the event is a
 * scheduled request of the contract (`ticket-keys` or `ocsp-refresh`), which edge workers cannot
 * send over HTTP.
 */
export const handler = (event: unknown, context: Context) =>
  isHttpEvent(event) ? httpHandler(event, context) : scheduled(event, context);

function isHttpEvent(event: unknown): event is APIGatewayProxyEventV2 {
  if (typeof event !== 'object' || event === null) return false;
  const requestContext = (event as { requestContext?: { http?: unknown } }).requestContext;
  return typeof requestContext === 'object' && requestContext !== null && 'http' in requestContext;
}
