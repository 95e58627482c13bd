import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import type { AwsCredentials } from './sigv4.js';

/** Returns current credentials; refreshes temporary ones before they expire. */
export type CredentialsProvider = () => Promise<AwsCredentials>;

/**
 * The AWS SDK's default credential chain for Node (environment, shared files and profiles, SSO, web
 * identity, the ECS task role, EC2 instance metadata): memoised, and refreshed before temporary
 * credentials expire. `region` is the one its STS calls (role assumption, web identity) use.
 */
export function defaultCredentialsProvider(region: string): CredentialsProvider {
  const provider = fromNodeProviderChain({ clientConfig: { region } });
  return async () => {
    const identity = await provider();
    return {
      accessKeyId: identity.accessKeyId,
      secretAccessKey: identity.secretAccessKey,
      ...(identity.sessionToken ? { sessionToken: identity.sessionToken } : {}),
    };
  };
}
