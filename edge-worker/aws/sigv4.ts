import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';

/**
 * AWS Signature Version 4 for one HTTP request, by the AWS SDK's own signer (@smithy/signature-v4)
 * with node:crypto's SHA-256 (@smithy/core's Sha256). For the edge worker's calls to an
 * IAM-authorised API Gateway (service `execute-api`) and EC2's query API; the AWS signature test
 * suite checks the way requests are handed to it (test/unit/edge-worker/aws/sigv4.test.ts).
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

/** Headers the signer sets; any value the request had for them is replaced. */
const SIGNER_HEADERS = new Set(['authorization', 'x-amz-date', 'x-amz-security-token', 'host']);

/**
 * The headers to add to `request` so AWS accepts it: `authorization`, `x-amz-date`, and with
 * temporary credentials `x-amz-security-token`. `host` is signed from the URL (HTTP clients set it
 * from the URL too), so it is not returned.
 */
export async function signRequest(
  request: SignableRequest,
  scope: SigningScope,
  credentials: AwsCredentials,
  now: Date = new Date(),
): Promise<Record<string, string>> {
  const url = new URL(request.url);
  // applyChecksum off: x-amz-content-sha256 is an S3 header; API Gateway and EC2 do not want it.
  const signer = new SignatureV4({ ...scope, credentials, sha256: Sha256, applyChecksum: false });
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of url.searchParams) {
    const previous = query[name];
    query[name] =
      previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  const headers: Record<string, string> = { host: url.host };
  for (const [name, value] of Object.entries(request.headers)) {
    if (!SIGNER_HEADERS.has(name.toLowerCase())) headers[name] = value;
  }
  const signed = await signer.sign(
    {
      method: request.method.toUpperCase(),
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      // The signer encodes the path itself: it wants it decoded.
      path: decodeURIComponent(url.pathname),
      query,
      headers,
      body: request.body,
    },
    { signingDate: now },
  );
  const added: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers)) {
    const lower = name.toLowerCase();
    if (lower !== 'host' && SIGNER_HEADERS.has(lower)) added[lower] = value;
  }
  return added;
}
