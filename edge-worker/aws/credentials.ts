import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { AwsCredentials } from './sigv4.js';

/** Returns current credentials; refreshes temporary ones before they expire. */
export type CredentialsProvider = () => Promise<AwsCredentials>;

/**
 * The AWS SDK's default credential chain (environment, shared files, SSO, web identity, the ECS
 * task role, EC2 instance metadata), as the SDK resolves it for any client: memoised, and refreshed
 * before temporary credentials expire. Taken from a client the worker already depends on, so no
 * credential-provider package has to be installed separately. The client itself never sends a request.
 */
export function defaultCredentialsProvider(region: string): CredentialsProvider {
  const client = new DynamoDBClient({ region });
  const provider = client.config.credentials;
  return async () => {
    const identity = await provider();
    return {
      accessKeyId: identity.accessKeyId,
      secretAccessKey: identity.secretAccessKey,
      ...(identity.sessionToken ? { sessionToken: identity.sessionToken } : {}),
    };
  };
}
