import { timingSafeEqual } from 'node:crypto';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';

/** The local credential, standing in for IAM: the one key pair every signed request must use. */
export interface LocalCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** The ARN API Gateway's IAM authoriser reports for it. */
  userArn: string;
  accountId: string;
}

export interface SignedRequest {
  method: string;
  hostHeader: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: Buffer;
}

/** Up to 15 minutes of clock skew, as AWS allows. */
const MAX_SKEW_MS = 15 * 60_000;

/**
 * API Gateway's AWS_IAM authorisation, locally: the request's SigV4 signature is computed again with
 * AWS's own signer (@smithy/signature-v4) from the local secret and compared. Returns the IAM
 * authoriser context for the event, or why the request is refused (403).
 */
export async function verifySigV4(
  request: SignedRequest,
  credentials: LocalCredentials,
  region: string,
  now = Date.now(),
): Promise<{ ok: true; iam: Record<string, string> } | { ok: false; reason: string }> {
  const authorization = request.headers.authorization ?? '';
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
      authorization,
    );
  if (!match) return { ok: false, reason: 'Missing Authentication Token' };
  const [, accessKeyId, day, scopeRegion, service, signedHeaderList, signature] =
    match as unknown as string[];
  if (accessKeyId !== credentials.accessKeyId) {
    return { ok: false, reason: 'The security token included in the request is invalid.' };
  }
  if (scopeRegion !== region || service !== 'execute-api') {
    return { ok: false, reason: `Credential should be scoped to a valid region and to execute-api` };
  }
  const amzDate = request.headers['x-amz-date'] ?? '';
  const dateMatch = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!dateMatch || amzDate.slice(0, 8) !== day) return { ok: false, reason: 'Invalid X-Amz-Date' };
  const [, y, mo, d, h, mi, s] = dateMatch.map(Number) as number[];
  const signingDate = new Date(Date.UTC(y as number, (mo as number) - 1, d, h, mi, s));
  if (Math.abs(now - signingDate.getTime()) > MAX_SKEW_MS) return { ok: false, reason: 'Signature expired' };
  const signedHeaders = (signedHeaderList as string).split(';');
  if (!signedHeaders.includes('host')) return { ok: false, reason: 'the host header must be signed' };
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    headers[name] = name === 'host' ? request.hostHeader : (request.headers[name] ?? '');
  }
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of request.query) {
    const previous = query[name];
    query[name] =
      previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  const signer = new SignatureV4({
    service: 'execute-api',
    region,
    credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
    sha256: Sha256,
    applyChecksum: false,
  });
  const [hostname, port] = request.hostHeader.split(':');
  const expected = await signer.sign(
    {
      method: request.method,
      protocol: 'https:',
      hostname: hostname as string,
      ...(port ? { port: Number(port) } : {}),
      path: decodeURIComponent(request.path),
      query,
      headers,
      body: request.body.length > 0 ? request.body : undefined,
    },
    { signingDate, signableHeaders: new Set(signedHeaders) },
  );
  const got = /Signature=([0-9a-f]{64})/.exec(String(expected.headers.authorization))?.[1] ?? '';
  const same = got.length === 64 && timingSafeEqual(Buffer.from(got), Buffer.from(signature as string));
  if (!same) {
    return {
      ok: false,
      reason: 'The request signature we calculated does not match the signature you provided.',
    };
  }
  return {
    ok: true,
    iam: {
      accessKey: credentials.accessKeyId,
      accountId: credentials.accountId,
      callerId: credentials.accessKeyId,
      userArn: credentials.userArn,
      userId: credentials.accessKeyId,
    },
  };
}
