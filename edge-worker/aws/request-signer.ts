import type { RequestSigner } from '../control-plane/http-transport.js';
import { type CredentialsProvider, defaultCredentialsProvider } from './credentials.js';
import { type SigningScope, signRequest } from './sigv4.js';

export interface SigV4SignerOptions {
  /** `execute-api` for API Gateway. */
  service: string;
  /** Defaults to AWS_REGION, then AWS_DEFAULT_REGION. */
  region?: string;
  /** Defaults to the SDK's default chain (in ECS: the task role). */
  credentials?: CredentialsProvider;
  now?: () => Date;
}

export class SigningConfigError extends Error {
  override name = 'SigningConfigError';
}

/** A RequestSigner for the control-plane HTTP transport: SigV4 with the worker's AWS credentials. */
export function createSigV4Signer(options: SigV4SignerOptions): RequestSigner {
  const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!region) {
    throw new SigningConfigError(
      'controlPlane.signing needs a region: set controlPlane.signing.region or AWS_REGION',
    );
  }
  const scope: SigningScope = { service: options.service, region };
  const credentials = options.credentials ?? defaultCredentialsProvider(region);
  const now = options.now ?? (() => new Date());
  return async (request) => await signRequest(request, scope, await credentials(), now());
}
