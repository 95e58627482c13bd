import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { z } from 'zod';
import type { ErrorCode } from '../contract/registry.js';
import { InvalidRequestError } from '../core/handler/index.js';
import type { RegistryError, RegistryErrorKind } from '../core/store/index.js';

/** HTTP plumbing of the registry API: errors as statuses, headers, bodies, If-Match. */

export interface Issue {
  path: string;
  message: string;
}

/** A request the API refuses with a status; its message and issues go to the client as they are. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly issues?: Issue[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

/** What a route handler answers; the dispatcher turns it into the Lambda result. */
export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

const REGISTRY_STATUS: Record<RegistryErrorKind, [number, ErrorCode]> = {
  invalid: [400, 'invalid_request'],
  invalid_cursor: [400, 'invalid_request'],
  forbidden: [403, 'forbidden'],
  not_found: [404, 'not_found'],
  already_exists: [409, 'already_exists'],
  version_mismatch: [409, 'version_mismatch'],
  conflict: [409, 'conflict'],
  pool_not_empty: [409, 'pool_not_empty'],
  pool_being_deleted: [409, 'pool_being_deleted'],
  url_credentials_need_proxy_auth: [400, 'url_credentials_need_proxy_auth'],
};

export function fromRegistryError(err: RegistryError): HttpError {
  const [status, code] = REGISTRY_STATUS[err.kind];
  if (err.kind === 'invalid_cursor') {
    return new HttpError(status, code, 'invalid cursor', [{ path: 'query.cursor', message: err.message }]);
  }
  const issues = err.issues?.map((issue) => ({ path: `body.${issue.path}`, message: issue.message }));
  return new HttpError(status, code, err.message, issues);
}

/** A 400 naming every bad field of one part of the request (`body`, `query`, `path`, `headers`). */
export function invalid(where: string, error: z.ZodError): HttpError {
  const issues = InvalidRequestError.fromZod(error).issues.map((issue) => ({
    path: issue.path === '' ? where : `${where}.${issue.path}`,
    message: issue.message,
  }));
  return new HttpError(
    400,
    'invalid_request',
    `invalid request: ${issues.map((i) => i.path).join(', ')}`,
    issues,
  );
}

export function result(reply: Reply): APIGatewayProxyStructuredResultV2 {
  const headers: Record<string, string> = { 'cache-control': 'no-store', ...reply.headers };
  if (reply.body === undefined) return { statusCode: reply.status, headers };
  return {
    statusCode: reply.status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(reply.body),
  };
}

export function errorReply(err: HttpError): Reply {
  return {
    status: err.status,
    body: {
      error: {
        code: err.code,
        message: err.message,
        ...(err.issues && err.issues.length > 0 ? { issues: err.issues } : {}),
      },
    },
    ...(err.headers ? { headers: err.headers } : {}),
  };
}

/** A header by name, whatever its case (API Gateway lowercases them; other hosts may not). */
export function header(event: APIGatewayProxyEventV2, name: string): string | undefined {
  const headers = event.headers ?? {};
  const direct = headers[name];
  if (direct !== undefined) return direct;
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === lower) return value;
  return undefined;
}

/** `application/json` or any `application/*+json`, parameters (charset) allowed. */
export function isJsonMediaType(contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? '';
  return type === 'application/json' || /^application\/[a-z0-9.!#$&^_-]+\+json$/.test(type);
}

/** The JSON body: 415 unless it is declared JSON, 400 when empty or not JSON. Never echoes the body. */
export function jsonBody(event: APIGatewayProxyEventV2): unknown {
  if (!isJsonMediaType(header(event, 'content-type'))) {
    throw new HttpError(
      415,
      'unsupported_media_type',
      'the body must be JSON (Content-Type: application/json)',
    );
  }
  const raw = event.body ?? '';
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (text.trim() === '') {
    throw new HttpError(400, 'invalid_request', 'a JSON body is required', [
      { path: 'body', message: 'required' },
    ]);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'invalid_request', 'the body is not valid JSON', [
      { path: 'body', message: 'not valid JSON' },
    ]);
  }
}

/** If-Match as a version: `"3"` (the ETag we send) or `3`. Undefined when absent. */
export function ifMatchVersion(event: APIGatewayProxyEventV2): number | undefined {
  const value = header(event, 'if-match');
  if (value === undefined) return undefined;
  const match = /^\s*"?([1-9]\d{0,14})"?\s*$/.exec(value);
  if (!match?.[1]) {
    throw new HttpError(400, 'invalid_request', 'If-Match must be a version, as in the ETag', [
      { path: 'headers.if-match', message: 'expected a version number such as "3"' },
    ]);
  }
  return Number(match[1]);
}

export function etag(version: number): string {
  return `"${version}"`;
}

/** A path from segments, each percent-encoded (for Location headers). */
export function pathOf(...segments: string[]): string {
  return `/${segments.map((segment) => encodeURIComponent(segment)).join('/')}`;
}
