import { isIPv4 } from 'node:net';
import { request } from 'undici';
import type { CredentialsProvider } from './credentials.js';
import { signRequest } from './sigv4.js';

/**
 * The address an ECS task gives FTP clients in 227/229 replies, found when the worker starts:
 * `private` is the task's own VPC address (ECS task metadata v4), `public` the public IP associated
 * with that address's network interface (EC2 DescribeNetworkInterfaces, signed with the task role).
 * Passive data connections then go straight to the task that holds the control session, never
 * through the load balancer (docs/deploy-aws.md, "FTP passive mode").
 */
export type TaskAddressKind = 'public' | 'private';

export class TaskAddressError extends Error {
  override name = 'TaskAddressError';
}

export interface TaskAddressOptions {
  kind: TaskAddressKind;
  /** ECS_CONTAINER_METADATA_URI_V4, which ECS sets in every container. */
  metadataUri: string | undefined;
  region: string;
  credentials: CredentialsProvider;
  /** Defaults to `https://ec2.<region>.amazonaws.com` (tests point it at a local server). */
  ec2Endpoint?: string;
  timeoutMs?: number;
}

const MAX_BODY = 1024 * 1024;

export async function discoverTaskAddress(options: TaskAddressOptions): Promise<string> {
  if (!options.metadataUri) {
    throw new TaskAddressError(
      'ECS_CONTAINER_METADATA_URI_V4 is not set: ecs-task addresses work only inside an ECS task',
    );
  }
  const timeoutMs = options.timeoutMs ?? 5000;
  const privateIp = await taskPrivateIp(options.metadataUri, timeoutMs);
  if (options.kind === 'private') return privateIp;
  return publicIpOf(privateIp, options, timeoutMs);
}

async function taskPrivateIp(metadataUri: string, timeoutMs: number): Promise<string> {
  const text = await getText(`${metadataUri.replace(/\/+$/, '')}/task`, {}, timeoutMs, 'ECS task metadata');
  let task: unknown;
  try {
    task = JSON.parse(text);
  } catch (err) {
    throw new TaskAddressError('ECS task metadata is not JSON', { cause: err });
  }
  const containers = (task as { Containers?: { Networks?: { IPv4Addresses?: unknown[] }[] }[] }).Containers;
  for (const container of containers ?? []) {
    for (const network of container.Networks ?? []) {
      const address = network.IPv4Addresses?.find((value) => typeof value === 'string' && isIPv4(value));
      if (typeof address === 'string') return address;
    }
  }
  throw new TaskAddressError('ECS task metadata names no IPv4 address (is the task in awsvpc mode?)');
}

async function publicIpOf(
  privateIp: string,
  options: TaskAddressOptions,
  timeoutMs: number,
): Promise<string> {
  const endpoint = (options.ec2Endpoint ?? `https://ec2.${options.region}.amazonaws.com`).replace(/\/+$/, '');
  const query = new URLSearchParams({
    Action: 'DescribeNetworkInterfaces',
    Version: '2016-11-15',
    'Filter.1.Name': 'addresses.private-ip-address',
    'Filter.1.Value.1': privateIp,
  });
  const url = `${endpoint}/?${query.toString()}`;
  const signed = await signRequest(
    { method: 'GET', url, headers: {}, body: '' },
    { service: 'ec2', region: options.region },
    await options.credentials(),
  );
  const xml = await getText(url, signed, timeoutMs, 'EC2 DescribeNetworkInterfaces');
  const association = /<association>([\s\S]*?)<\/association>/.exec(xml)?.[1];
  const publicIp = association && /<publicIp>([^<]+)<\/publicIp>/.exec(association)?.[1]?.trim();
  if (!publicIp || !isIPv4(publicIp)) {
    throw new TaskAddressError(
      `the network interface of ${privateIp} has no public IP (give the task a public IP, or use ecs-task:private)`,
    );
  }
  return publicIp;
}

async function getText(
  url: string,
  headers: Record<string, string>,
  timeoutMs: number,
  what: string,
): Promise<string> {
  let status: number;
  let text: string;
  try {
    const response = await request(url, {
      method: 'GET',
      headers,
      signal: AbortSignal.timeout(timeoutMs),
      maxResponseSize: MAX_BODY,
    } as Parameters<typeof request>[1]);
    status = response.statusCode;
    text = await response.body.text();
  } catch (err) {
    throw new TaskAddressError(`${what}: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
  if (status !== 200) {
    // EC2 errors are XML with a <Code>; never repeat the request (it carries a signature).
    const code = /<Code>([^<]{1,100})<\/Code>/.exec(text)?.[1];
    throw new TaskAddressError(`${what}: HTTP ${status}${code ? ` ${code}` : ''}`);
  }
  return text;
}
