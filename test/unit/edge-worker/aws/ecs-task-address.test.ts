import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { discoverTaskAddress, TaskAddressError } from '../../../../edge-worker/aws/ecs-task-address.js';
import {
  resolveMasqueradeAddress,
  withMasqueradeAddress,
} from '../../../../edge-worker/cli/masquerade-address.js';
import { UsageError } from '../../../../edge-worker/cli/usage.js';
import { configSchema } from '../../../../edge-worker/config/schema.js';
import { referenceSign } from '../../../support/aws-reference-signer.js';

/**
 * Finding the address an ECS task advertises in 227/229. Two test-only servers stand in for what
 * only exists inside AWS, answering in the real formats: ECS task metadata v4 (JSON) and EC2's query
 * API (XML, with its signature checked by the AWS SDK's signer).
 */
const credentials = { accessKeyId: 'ASIATASKROLE', secretAccessKey: 'task-role-secret', sessionToken: 'tok' };

const TASK_METADATA = {
  Cluster: 'arn:aws:ecs:eu-west-1:123456789012:cluster/ftpx',
  TaskARN: 'arn:aws:ecs:eu-west-1:123456789012:task/ftpx/0123456789abcdef',
  Containers: [
    {
      Name: 'edge-worker',
      Networks: [{ NetworkMode: 'awsvpc', IPv4Addresses: ['10.40.3.17'], AttachmentIndex: 0 }],
    },
  ],
  LaunchType: 'FARGATE',
};

const describeReply = (association: string) => `<?xml version="1.0" encoding="UTF-8"?>
<DescribeNetworkInterfacesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>7b2d9f2e-0000-4000-8000-000000000000</requestId>
  <networkInterfaceSet>
    <item>
      <networkInterfaceId>eni-0123456789abcdef0</networkInterfaceId>
      <privateIpAddress>10.40.3.17</privateIpAddress>
      ${association}
    </item>
  </networkInterfaceSet>
</DescribeNetworkInterfacesResponse>`;

let metadata: Server;
let ec2: Server;
let metadataUri: string;
let ec2Endpoint: string;
let ec2Reply: { status: number; body: string };
const ec2Requests: { url: string; headers: IncomingHttpHeaders }[] = [];

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  metadata = createServer((req, res) => {
    if (req.url === '/v4/abc-123/task') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(TASK_METADATA));
    } else {
      res.writeHead(404).end();
    }
  });
  ec2 = createServer((req, res) => {
    ec2Requests.push({ url: req.url ?? '', headers: req.headers });
    res.writeHead(ec2Reply.status, { 'content-type': 'text/xml;charset=UTF-8' });
    res.end(ec2Reply.body);
  });
  metadataUri = `${await listen(metadata)}/v4/abc-123`;
  ec2Endpoint = await listen(ec2);
});

afterAll(async () => {
  for (const server of [metadata, ec2]) await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  ec2Requests.length = 0;
  ec2Reply = {
    status: 200,
    body: describeReply(
      '<association><publicIp>203.0.113.44</publicIp><publicDnsName>ec2-203-0-113-44.eu-west-1.compute.amazonaws.com</publicDnsName><ipOwnerId>amazon</ipOwnerId></association>',
    ),
  };
});

const options = (kind: 'public' | 'private') => ({
  kind,
  metadataUri,
  region: 'eu-west-1',
  credentials: async () => credentials,
  ec2Endpoint,
});

describe('ECS task address', () => {
  it('private: the task’s VPC address from task metadata, without asking EC2', async () => {
    await expect(discoverTaskAddress(options('private'))).resolves.toBe('10.40.3.17');
    expect(ec2Requests).toHaveLength(0);
  });

  it('public: the public IP of that address’s interface, from a signed DescribeNetworkInterfaces', async () => {
    await expect(discoverTaskAddress(options('public'))).resolves.toBe('203.0.113.44');
    expect(ec2Requests).toHaveLength(1);
    const [request] = ec2Requests;
    const url = new URL(request?.url as string, ec2Endpoint);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      Action: 'DescribeNetworkInterfaces',
      Version: '2016-11-15',
      'Filter.1.Name': 'addresses.private-ip-address',
      'Filter.1.Value.1': '10.40.3.17',
    });
    const amzDate = request?.headers['x-amz-date'] as string;
    const date = new Date(
      amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'),
    );
    const expected = await referenceSign(
      { method: 'GET', url: `http://${request?.headers.host}${request?.url}`, headers: {}, body: '' },
      { service: 'ec2', region: 'eu-west-1' },
      credentials,
      date,
    );
    expect(request?.headers.authorization).toBe(expected.authorization);
    expect(request?.headers['x-amz-security-token']).toBe('tok');
  });

  it('public without a public IP: says how to fix it', async () => {
    ec2Reply = { status: 200, body: describeReply('') };
    await expect(discoverTaskAddress(options('public'))).rejects.toThrow(
      /10\.40\.3\.17 has no public IP \(give the task a public IP, or use ecs-task:private\)/,
    );
  });

  it('an EC2 refusal names its code and never repeats the signed request', async () => {
    ec2Reply = {
      status: 403,
      body: '<?xml version="1.0"?><Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized</Message></Error></Errors></Response>',
    };
    const error = await discoverTaskAddress(options('public')).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(TaskAddressError);
    expect((error as Error).message).toBe('EC2 DescribeNetworkInterfaces: HTTP 403 UnauthorizedOperation');
  });

  it('outside ECS: a clear error', async () => {
    await expect(discoverTaskAddress({ ...options('private'), metadataUri: undefined })).rejects.toThrow(
      /ECS_CONTAINER_METADATA_URI_V4 is not set/,
    );
  });
});

describe('ftpx serve --masquerade-address', () => {
  const config = configSchema.parse({
    listeners: [
      { port: 2121, pool: 'main', masqueradeAddress: '198.51.100.1' },
      { port: 2122, pool: 'main' },
    ],
    pools: [{ name: 'main', backends: ['ftp://127.0.0.1:21'] }],
  });

  it('sets every listener’s address, literally or from the ECS task', async () => {
    const literal = withMasqueradeAddress(config, await resolveMasqueradeAddress('ftp.example.com', {}));
    expect(literal.listeners.map((l) => l.masqueradeAddress)).toEqual(['ftp.example.com', 'ftp.example.com']);
    const fromTask = withMasqueradeAddress(
      config,
      await resolveMasqueradeAddress('ecs-task:private', {
        ECS_CONTAINER_METADATA_URI_V4: metadataUri,
        AWS_REGION: 'eu-west-1',
      }),
    );
    expect(fromTask.listeners.map((l) => l.masqueradeAddress)).toEqual(['10.40.3.17', '10.40.3.17']);
    expect(withMasqueradeAddress(config, await resolveMasqueradeAddress(undefined, {}))).toBe(config);
  });

  it('refuses an unknown ecs-task kind', async () => {
    await expect(resolveMasqueradeAddress('ecs-task:elastic', {})).rejects.toThrow(UsageError);
  });
});
