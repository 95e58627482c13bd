import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentials } from '../../edge-worker/aws/sigv4.js';

/**
 * The AWS SDK's own SigV4 signer (@smithy/signature-v4, installed with the SDK clients), as an
 * independent reference for ours. Only tests use it.
 */

export async function referenceSign(
  request: { method: string; url: string; headers: Record<string, string>; body: string },
  scope: { service: string; region: string },
  credentials: AwsCredentials,
  signingDate: Date,
): Promise<Record<string, string>> {
  const url = new URL(request.url);
  // applyChecksum off: x-amz-content-sha256 is an S3 header; ours, like the test suite, does not send it.
  const signer = new SignatureV4({ ...scope, credentials, sha256: Sha256, applyChecksum: false });
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of url.searchParams) {
    const previous = query[name];
    query[name] =
      previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: decodeURIComponent(url.pathname),
      query,
      headers: { host: url.host, ...request.headers },
      body: request.body,
    },
    { signingDate },
  );
  return signed.headers as Record<string, string>;
}
