import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../edge-worker/config/schema.js';
import { FtpxStack } from '../../../infra/lib/ftpx-stack.js';
import { FUNCTIONS, type FunctionSpec } from '../../../infra/lib/functions.js';
import {
  parseParameters,
  rateSeconds,
  StackParametersError,
  type StackParametersInput,
} from '../../../infra/lib/parameters.js';
import { edgeWorkerConfig } from '../../../infra/lib/worker-config.js';
import { type Cfn, REPO_ROOT } from './template.js';

/**
 * Stack variants from context, synthesised without bundling (esbuild runs in stack.test.ts) and
 * with an image URI (no Docker build context to stage): only resources are looked at here.
 */
const IMAGE = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/ftpx:test';

const ALL_FUNCTIONS: readonly FunctionSpec[] = FUNCTIONS;

function synthVariant(parameters: StackParametersInput, functions?: readonly FunctionSpec[]): Template {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const input = { ...parameters, edge: { image: IMAGE, ...(parameters.edge ?? {}) } };
  const stack = new FtpxStack(app, 'Ftpx', {
    parameters: parseParameters(input),
    repoRoot: REPO_ROOT,
    ...(functions ? { functions } : {}),
    env: { account: '123456789012', region: 'eu-west-1' },
  });
  return Template.fromStack(stack);
}

const lambdaIdOf = (template: Template, spec: FunctionSpec) => {
  const found = Object.entries(template.findResources('AWS::Lambda::Function')).filter(
    ([, r]) => r.Properties.Description === spec.description,
  );
  expect(found, spec.name).toHaveLength(1);
  return (found[0] as [string, unknown])[0];
};

describe('schedules and Route 53, with every manifest function', () => {
  const template = synthVariant(
    { dns: { zoneName: 'backends.ftpx.internal', private: true } },
    ALL_FUNCTIONS,
  );

  it('creates one EventBridge rule per schedule, at the configured rate, aimed at its function', () => {
    const rules = Object.values(template.findResources('AWS::Events::Rule'));
    const expected = ALL_FUNCTIONS.flatMap((spec) => spec.schedules.map((schedule) => ({ spec, schedule })));
    expect(expected.map(({ schedule }) => schedule.key).sort()).toEqual([
      'discoveryRefresh',
      'healthCheck',
      'ocspRefresh',
      'ticketKeyRotation',
    ]);
    expect(rules).toHaveLength(expected.length);
    const parameters = parseParameters({ dns: { zoneName: 'backends.ftpx.internal', private: true } });
    const rates = parameters.schedules;
    for (const { spec, schedule } of expected) {
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: rates[schedule.key],
        State: 'ENABLED',
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [lambdaIdOf(template, spec), 'Arn'] },
            Input: JSON.stringify(schedule.input(parameters)),
          }),
        ],
      });
    }
  });

  it('creates a private hosted zone in the VPC and lets only the DNS functions change it', () => {
    template.hasResourceProperties('AWS::Route53::HostedZone', {
      Name: 'backends.ftpx.internal.',
      VPCs: [Match.objectLike({ VPCId: { Ref: Match.anyValue() } })],
    });
    const zoneId = Object.keys(template.findResources('AWS::Route53::HostedZone'))[0] as string;
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    const changers = policies.filter((policy) =>
      JSON.stringify(policy.Properties.PolicyDocument).includes('route53:ChangeResourceRecordSets'),
    );
    expect(changers).toHaveLength(ALL_FUNCTIONS.filter((spec) => spec.route53 === 'read-write').length);
    for (const policy of changers) {
      const statement = (policy.Properties.PolicyDocument.Statement as Cfn[]).find((s) =>
        (s.Action as string[]).includes('route53:ChangeResourceRecordSets'),
      );
      expect(JSON.stringify(statement?.Resource)).toContain(zoneId);
      expect(statement?.Resource).not.toBe('*');
    }
  });
});

describe('context variants', () => {
  it('puts the registration API behind a JWT authoriser when asked, edge routes staying IAM', () => {
    const template = synthVariant({
      api: { registryAuth: 'jwt', jwt: { issuer: 'https://issuer.example.com/', audience: ['ftpx'] } },
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      JwtConfiguration: { Issuer: 'https://issuer.example.com/', Audience: ['ftpx'] },
    });
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties);
    for (const route of routes) {
      const key = route.RouteKey as string;
      const expected = key.startsWith('POST /v1/') && !key.includes('pools') ? 'AWS_IAM' : undefined;
      if (key === 'GET /openapi.json') expect(route.AuthorizationType).toBe('NONE');
      else if (expected) expect(route.AuthorizationType, key).toBe('AWS_IAM');
      else expect(route.AuthorizationType, key).toBe('JWT');
    }
  });

  it('reserves concurrency for the per-session functions only', () => {
    const template = synthVariant({ functions: { edgeReservedConcurrency: 40 } });
    for (const spec of FUNCTIONS) {
      const fn = template.findResources('AWS::Lambda::Function')[lambdaIdOf(template, spec)];
      expect(fn?.Properties.ReservedConcurrentExecutions, spec.name).toBe(spec.edgeHotPath ? 40 : undefined);
    }
  });

  it('lets the scheduled health checks probe only the networks named for them', () => {
    const healthCheck = FUNCTIONS.find((spec) => spec.name === 'health-check');
    if (!healthCheck) throw new Error('no health-check function in the manifest');
    const variableOf = (template: Template) =>
      template.findResources('AWS::Lambda::Function')[lambdaIdOf(template, healthCheck)]?.Properties
        .Environment.Variables.FTPX_HEALTH_CHECK_ALLOW_NETWORKS;
    expect(variableOf(synthVariant({}))).toBeUndefined();
    const allowed = synthVariant({
      functions: { healthCheckAllowNetworks: ['10.40.0.0/16', '10.41.0.0/16'] },
    });
    expect(variableOf(allowed)).toBe('10.40.0.0/16,10.41.0.0/16');
    expect(() => parseParameters({ functions: { healthCheckAllowNetworks: ['169.254.0.0'] } })).toThrow(
      /ftpx\.functions\.healthCheckAllowNetworks/,
    );
  });

  it('runs private tasks behind an internal NLB, advertising their VPC address, with a NAT gateway', () => {
    const template = synthVariant({ edge: { passiveAddress: 'private', internetFacing: false } });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Scheme: 'internal' });
    template.hasResourceProperties('AWS::ECS::Service', {
      NetworkConfiguration: { AwsvpcConfiguration: { AssignPublicIp: 'DISABLED' } },
    });
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
    const [taskDefinition] = Object.values(template.findResources('AWS::ECS::TaskDefinition'));
    const command = taskDefinition?.Properties.ContainerDefinitions[0].Command as string[];
    expect(command).toEqual(expect.arrayContaining(['--masquerade-address', 'ecs-task:private']));
    // No EC2 describe permission when no public address has to be found.
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).not.toContain('ec2:Describe');
  });

  it('keeps deletion protection and PITR switchable', () => {
    const template = synthVariant({
      table: { deletionProtection: false, pointInTimeRecovery: false, removalPolicy: 'destroy' },
    });
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({
        DeletionProtectionEnabled: false,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: false },
      }),
    });
  });

  it.each(['small', 'large', 'localstack'])('synthesises the %s example context', (name) => {
    const file = join(REPO_ROOT, 'infra', 'context', `${name}.json`);
    const context = JSON.parse(readFileSync(file, 'utf8')) as { ftpx: StackParametersInput };
    const template = synthVariant(context.ftpx);
    const edge = parseParameters(context.ftpx).edge;
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: edge.minTasks,
      MaxCapacity: edge.maxTasks,
    });
  });
});

describe('the ADOT collector sidecar (edge.otel)', () => {
  const containersOf = (template: Template): Cfn[] => {
    const [taskDefinition] = Object.values(template.findResources('AWS::ECS::TaskDefinition')) as Cfn[];
    return taskDefinition?.Properties.ContainerDefinitions as Cfn[];
  };
  const envOf = (container: Cfn | undefined): Record<string, unknown> =>
    Object.fromEntries(
      ((container?.Environment ?? []) as { Name: string; Value: unknown }[]).map((e) => [e.Name, e.Value]),
    );

  it('adds the collector and points the worker at it over OTLP/HTTP when enabled', () => {
    const template = synthVariant({ edge: { otel: { enabled: true } } });
    const containers = containersOf(template);
    expect(containers.map((container) => container.Name)).toEqual(['edge-worker', 'aws-otel-collector']);
    const [worker, collector] = containers;
    expect(collector).toMatchObject({
      Image: 'public.ecr.aws/aws-observability/aws-otel-collector:latest',
      Essential: false,
      Command: ['--config=/etc/ecs/ecs-default-config.yaml'],
    });
    expect(envOf(worker).OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://localhost:4318');
    expect(worker?.DependsOn).toEqual([{ ContainerName: 'aws-otel-collector', Condition: 'START' }]);
    // The task role may send traces to X-Ray.
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: Match.arrayWith(['xray:PutTraceSegments']), Resource: '*' }),
        ]),
      },
    });
  });

  it('takes another collector image', () => {
    const image = 'public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0';
    const [, collector] = containersOf(synthVariant({ edge: { otel: { enabled: true, image } } }));
    expect(collector?.Image).toBe(image);
  });

  it('is off by default: one container, no OTLP endpoint, no X-Ray actions', () => {
    const template = synthVariant({});
    const containers = containersOf(template);
    expect(containers.map((container) => container.Name)).toEqual(['edge-worker']);
    expect(envOf(containers[0])).not.toHaveProperty('OTEL_EXPORTER_OTLP_ENDPOINT');
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).not.toContain('xray:');
  });
});

describe('the manifest', () => {
  it('names every function once, with a unique description; every entry exists', () => {
    expect(new Set(FUNCTIONS.map((spec) => spec.name)).size).toBe(FUNCTIONS.length);
    expect(new Set(FUNCTIONS.map((spec) => spec.description)).size).toBe(FUNCTIONS.length);
    for (const spec of FUNCTIONS) expect(existsSync(join(REPO_ROOT, spec.entry)), spec.entry).toBe(true);
  });
});

describe('parameters', () => {
  it('names the bad key of a wrong context', () => {
    expect(() => parseParameters({ edge: { passivePorts: { min: 40000, max: 30000 } } })).toThrow(
      /ftpx\.edge\.passivePorts: min must not exceed max/,
    );
    expect(() => parseParameters({ edge: { minTasks: 'two' } })).toThrow(StackParametersError);
    expect(() => parseParameters({ functions: { logRetentionDays: 10 } })).toThrow(
      /ftpx\.functions\.logRetentionDays/,
    );
    expect(() => parseParameters({ api: { registryAuth: 'jwt' } })).toThrow(/ftpx\.api\.jwt/);
    expect(() => parseParameters({ tabel: {} })).toThrow(/tabel/);
  });

  it('refuses FTPS without a certificate secret and SFTP without an sftp:// pool, by name', () => {
    expect(() => parseParameters({ edge: { protocols: ['ftp', 'ftps'] } })).toThrow(
      /ftpx\.edge\.secrets\.tlsCertificate: ftps needs a certificate/,
    );
    expect(() =>
      parseParameters({ edge: { protocols: ['sftp'], pools: [{ name: 'main', backends: ['ftp://a:21'] }] } }),
    ).toThrow(/ftpx\.edge\.pools: sftp needs a pool of sftp:\/\/ backends/);
    expect(() =>
      parseParameters({ edge: { pools: [{ name: 'main', backends: ['ftp://a:21', 'sftp://b:22'] }] } }),
    ).toThrow(/not both/);
    expect(() => parseParameters({ edge: { secrets: { adminToken: 'no spaces allowed' } } })).toThrow(
      /ftpx\.edge\.secrets\.adminToken/,
    );
  });

  it('names existing secrets instead of creating them', () => {
    const template = synthVariant({
      edge: {
        protocols: ['ftp', 'sftp'],
        secrets: { adminToken: 'ftpx/admin-token', sshHostKeySeed: 'ftpx/ssh-host-key-seed' },
      },
    });
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    const [taskDefinition] = Object.values(template.findResources('AWS::ECS::TaskDefinition')) as [Cfn];
    const [container] = taskDefinition.Properties.ContainerDefinitions as [Cfn];
    const names = (container.Secrets as { Name: string }[]).map((s) => s.Name).sort();
    expect(names).toEqual(['FTPX_ADMIN_TOKEN', 'FTPX_SSH_HOST_KEY_SEED']);
    expect(JSON.stringify(container.Secrets)).toContain('secret:ftpx/admin-token');
  });

  it('with ftp only: no host key seed, plain FTP on 21, and still an admin token', () => {
    const parameters = parseParameters({
      edge: { protocols: ['ftp'], pools: [{ name: 'main', backends: ['ftp://a:21'] }] },
    });
    const config = configSchema.parse(
      edgeWorkerConfig({
        edge: parameters.edge,
        tlsCache: parameters.tlsCache,
        loadBalancerNetwork: '10.40.0.0/16',
      }),
    );
    expect(config.listeners.map((listener) => [listener.port, listener.tls?.mode])).toEqual([
      [21, undefined],
    ]);
    const template = synthVariant({
      edge: { protocols: ['ftp'], pools: [{ name: 'main', backends: ['ftp://a:21'] }] },
    });
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
  });

  it('hands a pool’s private networks for registered backends to the worker config', () => {
    const parameters = parseParameters({
      edge: {
        pools: [
          { name: 'main', backends: ['ftp://10.0.12.34:21'], allowDestinationNetworks: ['10.0.0.0/16'] },
        ],
      },
    });
    const config = configSchema.parse(
      edgeWorkerConfig({
        edge: parameters.edge,
        tlsCache: parameters.tlsCache,
        loadBalancerNetwork: '10.40.0.0/16',
      }),
    );
    expect(config.pools[0]?.allowDestinationNetworks).toEqual(['10.0.0.0/16']);
    const without = edgeWorkerConfig({
      edge: parseParameters({}).edge,
      tlsCache: parameters.tlsCache,
      loadBalancerNetwork: '10.40.0.0/16',
    });
    expect(JSON.stringify(without)).not.toContain('allowDestinationNetworks');
  });

  it('keeps the ticket-key schedule at least as frequent as the rotation, and schedules as rates', () => {
    expect(() =>
      parseParameters({
        tlsCache: { ticketRotateEverySeconds: 3600 },
        schedules: { ticketKeyRotation: 'rate(2 hours)' },
      }),
    ).toThrow(
      /ftpx\.schedules\.ticketKeyRotation: must run at least every tlsCache\.ticketRotateEverySeconds \(3600 s\)/,
    );
    expect(
      parseParameters({
        tlsCache: { ticketRotateEverySeconds: 3600 },
        schedules: { ticketKeyRotation: 'rate(30 minutes)' },
      }).schedules.ticketKeyRotation,
    ).toBe('rate(30 minutes)');
    expect(() => parseParameters({ schedules: { ocspRefresh: 'cron(0 * * * ? *)' } })).toThrow(
      /ftpx\.schedules\.ocspRefresh: must be a rate expression/,
    );
    expect(rateSeconds('rate(1 day)')).toBe(86_400);
    expect(rateSeconds('rate(5 minutes)')).toBe(300);
    expect(rateSeconds('rate(0 hours)')).toBeUndefined();
  });
});
