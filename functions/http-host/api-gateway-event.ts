import type { IncomingMessage } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

/**
 * The HTTP request as API Gateway's HTTP API (payload format 2.0) hands it to Lambda, so the local
 * host runs handlers with exactly the event they get in AWS: header names lower-cased, repeated
 * headers joined by commas, cookies moved to `cookies`, text bodies as strings and the rest base64.
 */
export function toApiGatewayEvent(input: {
  request: IncomingMessage;
  body: Buffer;
  routeKey: string;
  requestId: string;
  now: number;
}): APIGatewayProxyEventV2 {
  const { request, body, routeKey, requestId, now } = input;
  const target = request.url ?? '/';
  const queryAt = target.indexOf('?');
  const rawPath = queryAt < 0 ? target : target.slice(0, queryAt);
  const rawQueryString = queryAt < 0 ? '' : target.slice(queryAt + 1);

  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, value] of Object.entries(request.headersDistinct)) {
    if (value === undefined) continue;
    if (name === 'cookie') {
      cookies = value.flatMap((line) => line.split(';').map((cookie) => cookie.trim())).filter(Boolean);
      continue;
    }
    headers[name] = value.join(',');
  }

  // The edge's calls have no query string: nothing to parse on the login path.
  const queryStringParameters: Record<string, string> = {};
  if (rawQueryString) {
    const query = new URLSearchParams(rawQueryString);
    for (const key of new Set(query.keys())) queryStringParameters[key] = query.getAll(key).join(',');
  }

  const text = isTextual(headers['content-type']);
  const host = headers.host ?? 'localhost';
  const domainName = host.replace(/:\d+$/, '');
  const method = (request.method ?? 'GET').toUpperCase();
  return {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString,
    ...(cookies ? { cookies } : {}),
    headers,
    ...(rawQueryString ? { queryStringParameters } : {}),
    requestContext: {
      accountId: 'local',
      apiId: 'ftpx-local',
      domainName,
      domainPrefix: domainName.split('.')[0] ?? domainName,
      http: {
        method,
        path: rawPath,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? '',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey,
      stage: '$default',
      time: clfTime(now),
      timeEpoch: now,
    },
    ...(body.length > 0
      ? { body: text ? body.toString('utf8') : body.toString('base64'), isBase64Encoded: !text }
      : { isBase64Encoded: false }),
  };
}

/** What API Gateway passes as text rather than base64 (its HTTP APIs treat these media types as text). */
function isTextual(contentType: string | undefined): boolean {
  const media = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  return (
    media.startsWith('text/') ||
    /^application\/(?:json|javascript|xml|x-www-form-urlencoded)$/.test(media) ||
    /\+(?:json|xml)$/.test(media)
  );
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `12/Mar/2030:19:03:58 +0000`, the format of requestContext.time. */
function clfTime(epochMs: number): string {
  const d = new Date(epochMs);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(
    d.getUTCMinutes(),
  )}:${two(d.getUTCSeconds())} +0000`;
}

/**
 * A handler's answer as API Gateway reads it: a structured result is taken as is; anything else
 * (payload 2.0 allows returning a bare value) is a 200 with that value as JSON.
 */
export function normalizeResult(result: unknown): APIGatewayProxyStructuredResultV2 {
  if (typeof result === 'object' && result !== null && 'statusCode' in result) {
    return result as APIGatewayProxyStructuredResultV2;
  }
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: typeof result === 'string' ? result : JSON.stringify(result ?? null),
  };
}
