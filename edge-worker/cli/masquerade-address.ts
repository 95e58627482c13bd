import { defaultCredentialsProvider } from '../aws/credentials.js';
import { discoverTaskAddress, type TaskAddressKind } from '../aws/ecs-task-address.js';
import type { FtpxConfig } from '../config/schema.js';
import { UsageError } from './usage.js';

/**
 * `ftpx serve --masquerade-address VALUE`: the address every listener gives in 227/229 replies,
 * over the config's `masqueradeAddress`. VALUE is an IPv4 address or host name, or
 * `ecs-task:public` / `ecs-task:private` to use the ECS task's own address (found at start).
 */
export async function withMasqueradeAddress(
  config: FtpxConfig,
  value: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<FtpxConfig> {
  if (value === undefined) return config;
  if (value === '') throw new UsageError('--masquerade-address must not be empty');
  let address = value;
  const ecs = /^ecs-task:(.*)$/.exec(value);
  if (ecs) {
    const kind = ecs[1];
    if (kind !== 'public' && kind !== 'private') {
      throw new UsageError(`--masquerade-address ecs-task:public or ecs-task:private (got "${value}")`);
    }
    const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
    address = await discoverTaskAddress({
      kind: kind as TaskAddressKind,
      metadataUri: env.ECS_CONTAINER_METADATA_URI_V4,
      region,
      credentials: defaultCredentialsProvider(region),
      ...(env.FTPX_EC2_ENDPOINT ? { ec2Endpoint: env.FTPX_EC2_ENDPOINT } : {}),
    });
  }
  return {
    ...config,
    listeners: config.listeners.map((listener) => ({ ...listener, masqueradeAddress: address })),
  };
}
