import { createHash, createHmac } from 'node:crypto';

/**
 * AWS Signature Version 4 for one HTTP request, with node:crypto only. Written for the edge worker's
 * calls to an IAM-authorised API Gateway (service `execute-api`) and EC2's query API; checked against
 * AWS's published signature test suite and the AWS SDK's own signer (test/unit/edge-worker/aws/sigv4.test.ts).
 * Not for S3, whose canonical path and payload rules differ.
 */

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** Temporary credentials (a role: ECS task, EC2 instance, SSO) come with one. */
  sessionToken?: string;
}

export interface SignableRequest {
  method: string;
  /** Absolute URL; its host is signed, its path and query are canonicalised. */
  url: string;
  /** Headers that will be sent as given (names in any case); every one of them is signed. */
  headers: Readonly<Record<string, string>>;
  body: string | Uint8Array;
}

export interface SigningScope {
  service: string;
  region: string;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';

/** Headers never signed: the signature's own, and hop-by-hop ones an intermediary may change. */
const UNSIGNED_HEADERS = new Set(['authorization', 'connection', 'expect', 'user-agent', 'x-amzn-trace-id']);

/**
 * The headers to add to `request` so AWS accepts it: `authorization`, `x-amz-date`, and with
 * temporary credentials `x-amz-security-token`. `host` is signed from the URL (HTTP clients set it
 * from the URL too), so it is not returned.
 */
export function signRequest(
  request: SignableRequest,
  scope: SigningScope,
  credentials: AwsCredentials,
  now: Date = new Date(),
): Record<string, string> {
  const amzDate = toAmzDate(now);
  const date = amzDate.slice(0, 8);
  const url = new URL(request.url);
  const added: Record<string, string> = { 'x-amz-date': amzDate };
  if (credentials.sessionToken) added['x-amz-security-token'] = credentials.sessionToken;

  const headers = new Map<string, string>();
  for (const [name, value] of Object.entries(request.headers)) {
    const lower = name.toLowerCase();
    if (UNSIGNED_HEADERS.has(lower)) continue;
    const normalized = normalizeHeaderValue(value);
    const previous = headers.get(lower);
    headers.set(lower, previous === undefined ? normalized : `${previous},${normalized}`);
  }
  if (!headers.has('host')) headers.set('host', url.host);
  for (const [name, value] of Object.entries(added)) headers.set(name, value);
  const names = [...headers.keys()].sort();
  const signedHeaders = names.join(';');
  const canonicalHeaders = names.map((name) => `${name}:${headers.get(name)}\n`).join('');

  const canonicalRequest = [
    request.method.toUpperCase(),
    canonicalPath(url.pathname),
    canonicalQuery(url.searchParams),
    canonicalHeaders,
    signedHeaders,
    sha256Hex(request.body),
  ].join('\n');
  const credentialScope = `${date}/${scope.region}/${scope.service}/aws4_request`;
  const stringToSign = [ALGORITHM, amzDate, credentialScope, sha256Hex(canonicalRequest)].join('\n');
  const signature = createHmac('sha256', signingKey(credentials.secretAccessKey, date, scope))
    .update(stringToSign, 'utf8')
    .digest('hex');
  added.authorization =
    `${ALGORITHM} Credential=${credentials.accessKeyId}/${credentialScope}, ` +
    `SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return added;
}

/** `20150830T123600Z` */
export function toAmzDate(now: Date): string {
  return now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

function signingKey(secret: string, date: string, scope: SigningScope): Buffer {
  const kDate = hmac(`AWS4${secret}`, date);
  const kRegion = hmac(kDate, scope.region);
  const kService = hmac(kRegion, scope.service);
  return hmac(kService, 'aws4_request');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Trimmed, inner runs of blanks collapsed to one space (the canonical header value). */
function normalizeHeaderValue(value: string): string {
  return value.trim().replace(/\s+/g, ' ');
}

/**
 * RFC 3986 percent-encoding (unreserved characters kept), as SigV4 wants it: encodeURIComponent
 * leaves `!'()*` alone, which SigV4 encodes.
 */
function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * The path with `.` and `..` segments and empty segments removed, then each segment encoded again
 * (non-S3 services sign the already-encoded path encoded once more).
 */
function canonicalPath(pathname: string): string {
  const segments: string[] = [];
  for (const segment of pathname.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const trailing = segments.length > 0 && pathname.endsWith('/') ? '/' : '';
  return `/${segments.map(uriEncode).join('/')}${trailing}`;
}

/** Parameters encoded, sorted by name and then value. */
function canonicalQuery(params: URLSearchParams): string {
  return [...params.entries()]
    .map(([name, value]) => [uriEncode(name), uriEncode(value)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}
