import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentials } from '../../edge-worker/aws/sigv4.js';

/**
 * The AWS SDK's own SigV4 signer (@smithy/signature-v4, installed with the SDK clients), as an
 * independent reference for ours. Only tests use it.
 */
class NodeSha256 {
  private hash: Hash | Hmac;
  private readonly secret: string | Uint8Array | undefined;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.secret =
      secret === undefined || typeof secret === 'string'
        ? secret
        : ArrayBuffer.isView(secret)
          ? new Uint8Array(secret.buffer, secret.byteOffset, secret.byteLength)
          : new Uint8Array(secret);
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', this.secret);
  }
  update(data: string | Uint8Array): void {
    this.hash.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

export async function referenceSign(
  request: { method: string; url: string; headers: Record<string, string>; body: string },
  scope: { service: string; region: string },
  credentials: AwsCredentials,
  signingDate: Date,
): Promise<Record<string, string>> {
  const url = new URL(request.url);
  // applyChecksum off: x-amz-content-sha256 is an S3 header; ours, like the test suite, does not send it.
  const signer = new SignatureV4({ ...scope, credentials, sha256: NodeSha256, applyChecksum: false });
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
