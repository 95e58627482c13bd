import type { TaskAddressKind } from '../aws/ecs-task-address.js';
import type { FtpxConfig } from '../config/schema.js';
import { UsageError } from './usage.js';

/**
 * `ftpx serve --masquerade-address VALUE`: the address every listener gives in 227/229 replies,
 * over the config's `masqueradeAddress`. VALUE is an IPv4 address or host name, or
 * `ecs-task:public` / `ecs-task:private` to use the ECS task's own address. Resolved once at start
 * (a reload keeps the address: the task's address does not change while it runs).
 */
export async function resolveMasqueradeAddress(
  value: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  if (value === undefined) return undefined;
  if (value === '') throw new UsageError('--masquerade-address must not be empty');
  const ecs = /^ecs-task:(.*)$/.exec(value);
  if (!ecs) return value;
  const kind = ecs[1];
  if (kind !== 'public' && kind !== 'private') {
    throw new UsageError(`--masquerade-address ecs-task:public or ecs-task:private (got "${value}")`);
  }
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  // The AWS SDK (credentials, SigV4) loads only for ecs-task: addresses.
  const [{ defaultCredentialsProvider }, { discoverTaskAddress }] = await Promise.all([
    import('../aws/credentials.js'),
    import('../aws/ecs-task-address.js'),
  ]);
  return discoverTaskAddress({
    kind: kind as TaskAddressKind,
    metadataUri: env.ECS_CONTAINER_METADATA_URI_V4,
    region,
    credentials: defaultCredentialsProvider(region),
    ...(env.FTPX_EC2_ENDPOINT ? { ec2Endpoint: env.FTPX_EC2_ENDPOINT } : {}),
  });
}

/** The config with every listener's masqueradeAddress set to `address` (unchanged when undefined). */
export function withMasqueradeAddress(config: FtpxConfig, address: string | undefined): FtpxConfig {
  if (address === undefined) return config;
  return {
    ...config,
    listeners: config.listeners.map((listener) => ({ ...listener, masqueradeAddress: address })),
  };
}
