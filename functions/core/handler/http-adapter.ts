import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { InvalidRequestError } from './invalid-request-error.js';

/** A function as Lambda invokes it directly: the contract's request in, the contract's response out. */
export type DirectHandler<TEvent, TResult> = (event: TEvent, context: Context) => Promise<TResult>;

/** A function behind an API Gateway HTTP API (payload format 2.0), or behind the local HTTP host. */
export type HttpHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

/** The body of every error answer: a stable code for programs, a message for people. */
export interface HttpErrorBody {
  error: {
    code: string;
    message: string;
    /** Every problem found in the request, by path (dot-separated; empty for the whole body). */
    issues?: { path: string; message: string }[];
  };
}

export interface HttpAdapterOptions {
  /** The only method the route accepts; others get 405. Defaults to POST. */
  method?: string;
  /**
   * Called with every error that becomes a 500, for the log: the answer itself never carries it.
   * Defaults to one JSON line on standard error (CloudWatch, in Lambda).
   */
  onError?: (error: unknown, event: APIGatewayProxyEventV2) => void;
}

/** application/json, and structured types such as application/problem+json. */
const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json$/i;

/**
 * Wraps a direct-event handler (the middy handler Lambda would invoke with the contract's request)
 * into an HTTP API handler: the body is parsed as JSON and passed as the event, the result is sent
 * back as JSON. Errors become answers: 415 when the body is not declared JSON, 400 when it is not
 * valid JSON or the handler's validation rejects it (with every issue), 405 for another method, and
 * 500 with nothing of the error in it for anything else.
 */
export function httpAdapter<TEvent, TResult>(
  handler: DirectHandler<TEvent, TResult>,
  options: HttpAdapterOptions = {},
): HttpHandler {
  const method = (options.method ?? 'POST').toUpperCase();
  const onError = options.onError ?? logToStderr;
  return async (event, context) => {
    if (event.requestContext.http.method.toUpperCase() !== method) {
      return errorResult(405, 'method_not_allowed', `use ${method}`, { allow: method });
    }
    const parsed = parseJsonBody(event);
    if ('error' in parsed) return parsed.error;
    try {
      const result = await handler(parsed.value as TEvent, context);
      return jsonResult(200, result);
    } catch (err) {
      if (err instanceof InvalidRequestError) {
        return jsonResult(400, {
          error: { code: 'invalid_request', message: err.message, issues: err.issues },
        } satisfies HttpErrorBody);
      }
      onError(err, event);
      return errorResult(500, 'internal', 'internal error');
    }
  };
}

function parseJsonBody(
  event: APIGatewayProxyEventV2,
): { value: unknown } | { error: APIGatewayProxyStructuredResultV2 } {
  const contentType = headerValue(event.headers, 'content-type');
  const mediaType = contentType?.split(';')[0]?.trim() ?? '';
  if (!JSON_MEDIA_TYPE.test(mediaType)) {
    return {
      error: errorResult(
        415,
        'unsupported_media_type',
        contentType === undefined
          ? 'the body must be JSON (content-type: application/json)'
          : `the body must be JSON (content-type: application/json), not ${mediaType || 'empty'}`,
      ),
    };
  }
  const text =
    event.body === undefined
      ? ''
      : event.isBase64Encoded
        ? Buffer.from(event.body, 'base64').toString('utf8')
        : event.body;
  if (text.trim() === '') {
    return { error: invalidRequest('a JSON body is required', [{ path: '', message: 'body is empty' }]) };
  }
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return {
      error: invalidRequest('the body is not valid JSON', [{ path: '', message: reason.slice(0, 200) }]),
    };
  }
}

function invalidRequest(
  message: string,
  issues: { path: string; message: string }[],
): APIGatewayProxyStructuredResultV2 {
  return jsonResult(400, { error: { code: 'invalid_request', message, issues } } satisfies HttpErrorBody);
}

/** An error answer in the shape every route uses. */
export function errorResult(
  statusCode: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 {
  return jsonResult(statusCode, { error: { code, message } } satisfies HttpErrorBody, headers);
}

export function jsonResult(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

/** API Gateway lower-cases header names in payload 2.0; a hand-made event may not. */
function headerValue(
  headers: APIGatewayProxyEventV2['headers'] | undefined,
  name: string,
): string | undefined {
  if (!headers) return undefined;
  const direct = headers[name];
  if (direct !== undefined) return direct;
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name) return value;
  return undefined;
}

function logToStderr(error: unknown, event: APIGatewayProxyEventV2): void {
  const described =
    error instanceof Error ? { name: error.name, message: error.message } : { message: String(error) };
  process.stderr.write(
    `${JSON.stringify({
      time: new Date().toISOString(),
      level: 'error',
      msg: 'handler failed',
      route: event.routeKey,
      requestId: event.requestContext.requestId,
      error: described,
    })}\n`,
  );
}
