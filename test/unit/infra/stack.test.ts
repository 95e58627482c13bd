import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configSchema } from '../../../edge-worker/config/schema.js';
import { tlsCacheScheduledRequestSchema } from '../../../functions/contract/tls-cache.js';
import { SECRET_ENVIRONMENT } from '../../../infra/lib/edge-secrets.js';
import { type FunctionSpec, TABLE_ACTIONS } from '../../../infra/lib/functions.js';
import { TTL_ATTRIBUTE } from '../../../infra/lib/table.js';
import { SECRET_FILES } from '../../../infra/lib/worker-config.js';
import { type Cfn, expectedFunctions, synth } from './template.js';

type Resource = { Type: string; Properties: Cfn; [key: string]: unknown };

// One synthesis for the whole file, with every function bundled by esbuild as `cdk synth` does it,
// with every protocol (FTPS needs a certificate secret, named by ARN).
let template: Template;
let outdir: string;
const functions = expectedFunctions();
const CERTIFICATE_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ftpx/ftps-AbCdEf';

beforeAll(() => {
  const synthesized = synth({
    edge: { protocols: ['ftp', 'ftps', 'sftp'], secrets: { tlsCertificate: CERTIFICATE_ARN } },
  });
  template = synthesized.template;
  outdir = (synthesized.stack.node.root as unknown as { outdir: string }).outdir;
}, 180_000);

const resources = (type: string) => Object.entries(template.findResources(type)) as [string, Resource][];
const tableId = () => {
  const [[id]] = resources('AWS::DynamoDB::Table') as [[string, Resource]];
  return id;
};

/** The Lambda function resource of a manifest entry (descriptions are unique). */
function lambdaOf(spec: FunctionSpec): [string, Resource] {
  const found = resources('AWS::Lambda::Function').filter(
    ([, r]) => r.Properties.Description === spec.description,
  );
  expect(found, spec.name).toHaveLength(1);
  return found[0] as [string, Resource];
}

/** Every statement of every policy attached to a role. */
function statementsOfRole(roleRef: unknown): Cfn[] {
  const roleId = (roleRef as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  return resources('AWS::IAM::Policy')
    .filter(([, policy]) =>
      (policy.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleId),
    )
    .flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement as Cfn[]);
}

const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

describe('the control-plane table', () => {
  it('has string keys pk/sk, on-demand billing, TTL on expiresAt, PITR and deletion protection', () => {
    expect(TTL_ATTRIBUTE).toBe('expiresAt');
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: {
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
      },
    });
  });
});

describe('functions', () => {
  it('deploys exactly the manifest entries this checkout has', () => {
    expect(functions.map((spec) => spec.name)).toEqual(
      expect.arrayContaining(['resolve-backend', 'session-events', 'auth', 'registry']),
    );
    template.resourceCountIs('AWS::Lambda::Function', functions.length);
  });

  it('runs every function on nodejs22.x, arm64, with log retention and the table name', () => {
    for (const spec of functions) {
      const [, fn] = lambdaOf(spec);
      expect(fn.Properties.Runtime, spec.name).toBe('nodejs22.x');
      expect(fn.Properties.Architectures, spec.name).toEqual(['arm64']);
      expect(fn.Properties.Handler, spec.name).toBe(`index.${spec.handler}`);
      if (spec.table !== 'none') {
        expect(fn.Properties.Environment.Variables.FTPX_TABLE_NAME, spec.name).toEqual({ Ref: tableId() });
      }
      const logGroupId = fn.Properties.LoggingConfig.LogGroup.Ref as string;
      expect(template.toJSON().Resources[logGroupId].Properties.RetentionInDays, spec.name).toBe(30);
    }
  });

  it('gives each function its own role with only its table actions, on the table alone', () => {
    const roles = new Set<string>();
    for (const spec of functions) {
      const [, fn] = lambdaOf(spec);
      roles.add(JSON.stringify(fn.Properties.Role));
      const statements = statementsOfRole(fn.Properties.Role);
      const actions = statements.flatMap((statement) => asArray(statement.Action as string | string[]));
      for (const action of actions) {
        expect(action, spec.name).not.toBe('*');
        expect(action, spec.name).not.toMatch(/^dynamodb:\*|\*$/);
      }
      const dynamo = statements.filter((statement) =>
        asArray(statement.Action as string | string[]).some((action) => action.startsWith('dynamodb:')),
      );
      if (spec.table === 'none') {
        expect(dynamo, spec.name).toEqual([]);
        continue;
      }
      expect(dynamo.flatMap((statement) => asArray(statement.Action)).sort(), spec.name).toEqual(
        [...TABLE_ACTIONS[spec.table]].sort(),
      );
      for (const statement of dynamo) {
        // The table's ARN itself: no '*', no other table, no index wildcard.
        expect(asArray(statement.Resource), spec.name).toEqual([{ 'Fn::GetAtt': [tableId(), 'Arn'] }]);
      }
    }
    expect(roles.size).toBe(functions.length);
  });

  it('keeps read-only functions read-only', () => {
    const auth = functions.find((spec) => spec.name === 'auth');
    expect(auth?.table).toBe('read');
    const [, fn] = lambdaOf(auth as FunctionSpec);
    const actions = statementsOfRole(fn.Properties.Role).flatMap((statement) => asArray(statement.Action));
    for (const write of ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Scan']) {
      expect(actions).not.toContain(write);
    }
  });

  /** Loads bundles in a plain `node` (what Lambda does), outside vitest's module transform. */
  function runInNode(script: string, env: Record<string, string> = {}): string {
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
      timeout: 60_000,
    });
    expect(result.status, result.stderr).toBe(0);
    return result.stdout;
  }
  const bundleOf = (spec: FunctionSpec) => {
    const [, fn] = lambdaOf(spec);
    const key = fn.Properties.Code.S3Key as string;
    return join(outdir, `asset.${key.replace(/\.zip$/, '')}`, 'index.mjs');
  };

  it('bundles each function as an ES module that loads and exports its handler', () => {
    const files = functions.map((spec) => ({ name: spec.name, file: bundleOf(spec), handler: spec.handler }));
    for (const { file } of files) expect(existsSync(file), file).toBe(true);
    const out = runInNode(
      `const files = ${JSON.stringify(files)};
       for (const f of files) {
         const m = await import(${JSON.stringify('file://')} + f.file);
         console.log(f.name + ' ' + typeof m[f.handler]);
       }`,
    );
    expect(out.trim().split('\n').sort()).toEqual(functions.map((spec) => `${spec.name} function`).sort());
  }, 90_000);

  /** An API Gateway payload 2.0 event, as the HTTP API sends it. */
  const apiEvent = (method: string, path: string, body?: unknown) => ({
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    isBase64Encoded: false,
    requestContext: { http: { method, path }, requestId: 'r1' },
  });

  it('answers an API Gateway event from the bundled registry function (GET /openapi.json)', () => {
    const registry = functions.find((spec) => spec.name === 'registry') as FunctionSpec;
    const event = apiEvent('GET', '/openapi.json');
    const out = runInNode(
      `const { handler } = await import(${JSON.stringify(`file://${bundleOf(registry)}`)});
       const reply = await handler(${JSON.stringify(event)}, { awsRequestId: 'r1' });
       console.log(JSON.stringify({ status: reply.statusCode, openapi: JSON.parse(reply.body).openapi }));`,
      { FTPX_TABLE_NAME: 'ftpx-unused', AWS_REGION: 'eu-west-1' },
    );
    const last = out.trim().split('\n').at(-1) as string;
    expect(JSON.parse(last)).toEqual({ status: 200, openapi: expect.stringMatching(/^3\.1/) });
  }, 60_000);

  it('answers API Gateway events and refuses the scheduled-only op from the bundled tls-cache function', () => {
    const tlsCache = functions.find((spec) => spec.name === 'tls-cache') as FunctionSpec;
    const event = apiEvent('POST', '/v1/tls-cache', { op: 'ocsp-refresh', aheadS: 0 });
    const out = runInNode(
      `const { handler } = await import(${JSON.stringify(`file://${bundleOf(tlsCache)}`)});
       const reply = await handler(${JSON.stringify(event)}, { awsRequestId: 'r1' });
       const scheduled = await handler({ type: 'refresh-ocsp' }, { awsRequestId: 'r2' }).then(
         () => 'accepted',
         (err) => err.name,
       );
       console.log(JSON.stringify({ status: reply.statusCode, code: JSON.parse(reply.body).error.code, scheduled }));`,
      { FTPX_TABLE_NAME: 'ftpx-unused', AWS_REGION: 'eu-west-1' },
    );
    const last = out.trim().split('\n').at(-1) as string;
    expect(JSON.parse(last)).toEqual({
      status: 400,
      code: 'invalid_request',
      scheduled: 'InvalidRequestError',
    });
  }, 60_000);
});

describe('the HTTP API', () => {
  it('has exactly the manifest routes, each with its authoriser', () => {
    const routes = resources('AWS::ApiGatewayV2::Route').map(([, route]) => route.Properties);
    const expected = functions.flatMap((spec) => spec.routes);
    expect(routes.map((route) => route.RouteKey).sort()).toEqual(
      expected.map((route) => `${route.method} ${route.path}`).sort(),
    );
    for (const route of expected) {
      const found = routes.find((r) => r.RouteKey === `${route.method} ${route.path}`);
      expect(found?.AuthorizationType, found?.RouteKey).toBe(route.auth === 'public' ? 'NONE' : 'AWS_IAM');
    }
    // The only unauthenticated route is the API's own description.
    expect(
      routes.filter((route) => route.AuthorizationType === 'NONE').map((route) => route.RouteKey),
    ).toEqual(['GET /openapi.json']);
  });

  it('throttles the stage', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 },
    });
  });

  it('lets edge tasks invoke the edge routes and nothing else', () => {
    const [[, taskDefinition]] = resources('AWS::ECS::TaskDefinition') as [[string, Resource]];
    const statements = statementsOfRole(taskDefinition.Properties.TaskRoleArn);
    const invoke = statements.filter((statement) => statement.Action === 'execute-api:Invoke');
    expect(invoke).toHaveLength(1);
    const arns = asArray(invoke[0]?.Resource).map((arn) => JSON.stringify(arn));
    const edgeRoutes = functions.flatMap((spec) => spec.routes).filter((route) => route.auth === 'edge');
    expect(arns).toHaveLength(edgeRoutes.length);
    for (const route of edgeRoutes) {
      expect(arns.some((arn) => arn.includes(`/$default/${route.method}${route.path}"`))).toBe(true);
    }
    expect(arns.join()).not.toContain('/v1/pools');
    expect(arns.join()).toContain('/POST/v1/tls-cache"');
    expect(arns.join()).not.toContain('/v1/tls-cache/');
  });
});

describe('the shared TLS caches', () => {
  const tlsCache = () => functions.find((spec) => spec.name === 'tls-cache') as FunctionSpec;
  const workerConfig = () => {
    const [[, taskDefinition]] = resources('AWS::ECS::TaskDefinition') as [[string, Resource]];
    const [container] = taskDefinition.Properties.ContainerDefinitions as Cfn[];
    const env = Object.fromEntries(
      ((container as Cfn).Environment as { Name: string; Value: unknown }[]).map((e) => [e.Name, e.Value]),
    );
    return configSchema.parse(parse(env.FTPX_CONFIG_YAML as string));
  };
  /** The Lambda function a route's integration invokes. */
  const routeTarget = (routeKey: string) => {
    const [, route] = resources('AWS::ApiGatewayV2::Route').find(
      ([, r]) => r.Properties.RouteKey === routeKey,
    ) as [string, Resource];
    const integrationId = (route.Properties.Target['Fn::Join'][1] as unknown[])[1] as { Ref: string };
    const integration = template.toJSON().Resources[integrationId.Ref] as Resource;
    return { route, functionId: integration.Properties.IntegrationUri['Fn::GetAtt'][0] as string };
  };

  it('deploys the tls-cache function (required) behind POST /v1/tls-cache with IAM auth', () => {
    expect(tlsCache()).toMatchObject({ entry: 'functions/tls-cache/http-handler.ts', table: 'read-write' });
    const { route, functionId } = routeTarget('POST /v1/tls-cache');
    expect(route.Properties.AuthorizationType).toBe('AWS_IAM');
    expect(functionId).toBe(lambdaOf(tlsCache())[0]);
  });

  it('routes the registry’s /v1/tls-cache/{kind} admin routes to the registry function, with registry auth', () => {
    const registry = functions.find((spec) => spec.name === 'registry') as FunctionSpec;
    const { route, functionId } = routeTarget('ANY /v1/tls-cache/{proxy+}');
    expect(route.Properties.AuthorizationType).toBe('AWS_IAM');
    expect(functionId).toBe(lambdaOf(registry)[0]);
  });

  it('sends schedule inputs the function’s own contract accepts, with the worker config’s period and lifetime', () => {
    const [fnId] = lambdaOf(tlsCache());
    const rules = resources('AWS::Events::Rule')
      .map(([, rule]) => (rule.Properties.Targets as Cfn[])[0] as Cfn)
      .filter((target) => target.Arn['Fn::GetAtt'][0] === fnId);
    const inputs = rules.map((target) => tlsCacheScheduledRequestSchema.parse(JSON.parse(target.Input)));
    expect(inputs.map((input) => input.op).sort()).toEqual(['ocsp-refresh', 'ticket-keys']);
    const config = workerConfig();
    expect(inputs.find((input) => input.op === 'ticket-keys')).toEqual({
      op: 'ticket-keys',
      rotateEveryS: (config.tlsCache?.tickets.rotateEvery ?? 0) / 1000,
      lifetimeS: (config.tlsCache?.sessions.timeout ?? 0) / 1000,
    });
    // Each run creates the next period's key: at least one run per period.
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(6 hours)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [fnId, 'Arn'] } })],
    });
    expect(config.tlsCache?.tickets.rotateEvery).toBe(12 * 3600 * 1000);
  });

  it('gives the tls-cache function its table actions only: Query, never Scan or a wildcard', () => {
    const [, fn] = lambdaOf(tlsCache());
    const actions = statementsOfRole(fn.Properties.Role).flatMap((statement) => asArray(statement.Action));
    expect(actions).toContain('dynamodb:Query');
    expect(actions).not.toContain('dynamodb:Scan');
    for (const action of actions) expect(action).not.toContain('*');
  });
});

describe('the edge service', () => {
  it('listens on 21, 990 and 22 (TCP) with PROXY protocol v2 target groups that drain', () => {
    const listeners = resources('AWS::ElasticLoadBalancingV2::Listener').map(([, l]) => l.Properties);
    expect(listeners.map((l) => l.Port).sort((a, b) => a - b)).toEqual([21, 22, 990]);
    for (const listener of listeners) expect(listener.Protocol).toBe('TCP');
    const groups = resources('AWS::ElasticLoadBalancingV2::TargetGroup').map(([, g]) => g.Properties);
    expect(groups.map((g) => g.Port).sort((a, b) => a - b)).toEqual([21, 22, 990]);
    for (const group of groups) {
      const attributes = Object.fromEntries(
        (group.TargetGroupAttributes as { Key: string; Value: string }[]).map((a) => [a.Key, a.Value]),
      );
      expect(attributes['proxy_protocol_v2.enabled']).toBe('true');
      expect(attributes['preserve_client_ip.enabled']).toBe('false');
      expect(attributes['deregistration_delay.timeout_seconds']).toBe('300');
      expect(attributes['deregistration_delay.connection_termination.enabled']).toBe('false');
      expect(group).toMatchObject({
        TargetType: 'ip',
        HealthCheckProtocol: 'HTTP',
        HealthCheckPort: '9000',
        HealthCheckPath: '/readyz',
      });
    }
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Type: 'network',
      Scheme: 'internet-facing',
    });
  });

  it('runs arm64 Fargate tasks whose worker config trusts exactly the NLB network for PROXY headers', () => {
    const [[, taskDefinition]] = resources('AWS::ECS::TaskDefinition') as [[string, Resource]];
    expect(taskDefinition.Properties.RuntimePlatform).toEqual({
      CpuArchitecture: 'ARM64',
      OperatingSystemFamily: 'LINUX',
    });
    const [container] = taskDefinition.Properties.ContainerDefinitions as Cfn[];
    expect(container?.StopTimeout).toBe(120);
    // The image's unprivileged user binds 21, 22 and 990 in the task's network namespace.
    expect(container?.SystemControls).toEqual([
      { Namespace: 'net.ipv4.ip_unprivileged_port_start', Value: '0' },
    ]);
    const command = container?.Command as unknown[];
    expect(command.slice(0, 3)).toEqual(['serve', '--config', '/tmp/ftpx.yaml']);
    expect(command).toEqual(expect.arrayContaining(['--admin-listen', '0.0.0.0:9000']));
    expect(command).toEqual(expect.arrayContaining(['--masquerade-address', 'ecs-task:public']));
    const env = Object.fromEntries(
      ((container as Cfn).Environment as { Name: string; Value: unknown }[]).map((e) => [e.Name, e.Value]),
    );
    // The YAML the worker will load, validated by the worker's own schema.
    const config = configSchema.parse(parse(env.FTPX_CONFIG_YAML as string));
    const vpcCidr = template.toJSON().Resources.Vpc8378EB38.Properties.CidrBlock;
    for (const listener of config.listeners) {
      expect(listener.proxyProtocol?.trustedNetworks, listener.name).toEqual([vpcCidr]);
    }
    const byName = new Map(config.listeners.map((listener) => [listener.name, listener]));
    expect([...byName.keys()]).toEqual(['ftp', 'ftps', 'sftp']);
    const ftp = byName.get('ftp');
    expect(ftp?.port).toBe(21);
    expect(ftp?.passivePorts).toEqual({ min: 30000, max: 30099 });
    expect(ftp?.epsv).toBe(false);
    expect(ftp?.tls?.mode).toBe('explicit');
    expect(ftp?.tls?.certificates).toEqual([
      expect.objectContaining({ cert: SECRET_FILES.tlsCertificate, key: SECRET_FILES.tlsPrivateKey }),
    ]);
    const ftps = byName.get('ftps');
    expect(ftps?.port).toBe(990);
    expect(ftps?.tls?.mode).toBe('implicit');
    expect(ftps?.epsv).toBe(false);
    const sftp = byName.get('sftp');
    expect(sftp?.port).toBe(22);
    expect(sftp?.protocol).toBe('sftp');
    expect(sftp?.sftp?.hostKeys).toEqual([SECRET_FILES.sshHostKey]);
    expect(config.pools.find((pool) => pool.name === sftp?.pool)?.backends[0]).toMatch(/^sftp:\/\//);
    expect(config.controlPlane?.signing).toEqual({ service: 'execute-api' });
    // No secret in the configuration or anywhere in the environment.
    expect(Object.keys(env).sort()).toEqual(['AWS_REGION', 'FTPX_CONFIG_YAML']);
  });

  it('hands the task its admin token, SSH host key seed and FTPS certificate as Secrets Manager secrets', () => {
    const [[, taskDefinition]] = resources('AWS::ECS::TaskDefinition') as [[string, Resource]];
    const [container] = taskDefinition.Properties.ContainerDefinitions as Cfn[];
    const secrets = Object.fromEntries(
      ((container as Cfn).Secrets as { Name: string; ValueFrom: unknown }[]).map((s) => [
        s.Name,
        s.ValueFrom,
      ]),
    );
    expect(Object.keys(secrets).sort()).toEqual([
      SECRET_ENVIRONMENT.adminToken,
      SECRET_ENVIRONMENT.sshHostKeySeed,
      SECRET_ENVIRONMENT.tlsCertificate,
      SECRET_ENVIRONMENT.tlsPrivateKey,
    ]);
    // The admin token and the seed are created by the stack, generated by Secrets Manager; the seed
    // outlives the stack (a re-created stack can name it and keep the host key).
    const generated = resources('AWS::SecretsManager::Secret');
    expect(generated).toHaveLength(2);
    for (const name of [SECRET_ENVIRONMENT.adminToken, SECRET_ENVIRONMENT.sshHostKeySeed]) {
      const ref = (secrets[name] as { Ref: string }).Ref;
      const secret = generated.find(([id]) => id === ref)?.[1];
      expect(secret, name).toBeDefined();
      expect(secret?.Properties.GenerateSecretString).toMatchObject({ ExcludePunctuation: true });
      expect(secret?.Properties.GenerateSecretString.PasswordLength).toBeGreaterThanOrEqual(32);
      expect(secret?.Properties.SecretString).toBeUndefined();
    }
    const seedId = (secrets[SECRET_ENVIRONMENT.sshHostKeySeed] as { Ref: string }).Ref;
    expect(template.toJSON().Resources[seedId]).toMatchObject({
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    // The certificate is named by the context: one secret, two JSON keys.
    expect(secrets[SECRET_ENVIRONMENT.tlsCertificate]).toBe(`${CERTIFICATE_ARN}:certificate::`);
    expect(secrets[SECRET_ENVIRONMENT.tlsPrivateKey]).toBe(`${CERTIFICATE_ARN}:privateKey::`);
    // Only the execution role (ECS, at start) reads them; the task role (the worker) cannot.
    const executionStatements = statementsOfRole(taskDefinition.Properties.ExecutionRoleArn);
    const reads = executionStatements.filter((s) =>
      asArray(s.Action).includes('secretsmanager:GetSecretValue'),
    );
    expect(reads.length).toBeGreaterThan(0);
    const taskStatements = statementsOfRole(taskDefinition.Properties.TaskRoleArn);
    expect(JSON.stringify(taskStatements)).not.toContain('secretsmanager');
  });

  it('lets only the NLB and the VPC reach the admin endpoint', () => {
    const toAdmin: Cfn[] = [];
    for (const [, group] of resources('AWS::EC2::SecurityGroup')) {
      for (const rule of (group.Properties.SecurityGroupIngress ?? []) as Cfn[]) {
        if (rule.FromPort <= 9000 && rule.ToPort >= 9000) toAdmin.push(rule);
      }
    }
    for (const [, rule] of resources('AWS::EC2::SecurityGroupIngress')) {
      if (rule.Properties.FromPort <= 9000 && rule.Properties.ToPort >= 9000) toAdmin.push(rule.Properties);
    }
    expect(toAdmin).toHaveLength(2);
    const [lbSgId] = resources('AWS::EC2::SecurityGroup').find(([, group]) =>
      String(group.Properties.GroupDescription).startsWith('ftpx NLB'),
    ) as [string, Resource];
    // Exactly two ways in: from the NLB's security group, and from the VPC's own network.
    expect(toAdmin).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ SourceSecurityGroupId: { 'Fn::GetAtt': [lbSgId, 'GroupId'] } }),
        expect.objectContaining({ CidrIp: { 'Fn::GetAtt': ['Vpc8378EB38', 'CidrBlock'] } }),
      ]),
    );
  });

  it('opens the passive range on the tasks, which get public IPs', () => {
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupIngress: Match.arrayWith([
        Match.objectLike({ CidrIp: '0.0.0.0/0', FromPort: 30000, ToPort: 30099, IpProtocol: 'tcp' }),
      ]),
    });
    template.hasResourceProperties('AWS::ECS::Service', {
      LaunchType: 'FARGATE',
      DesiredCount: 2,
      NetworkConfiguration: { AwsvpcConfiguration: { AssignPublicIp: 'ENABLED' } },
    });
  });

  it('scales between min and max tasks on CPU and on NLB flows per task', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 2,
      MaxCapacity: 10,
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({ TargetValue: 60 }),
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'StepScaling',
    });
  });
});

describe('monitoring', () => {
  it('alarms on every function’s errors and throttles, API 5xx, unhealthy tasks and backends', () => {
    const [[topicId]] = resources('AWS::SNS::Topic') as [[string, Resource]];
    // The step-scaling policy's own alarm acts on autoscaling, not on the topic.
    const notifying = resources('AWS::CloudWatch::Alarm').filter(([, alarm]) =>
      JSON.stringify(alarm.Properties.AlarmActions ?? []).includes(topicId),
    );
    // 2 per function, API 5xx, one per target group, unhealthy backends
    expect(notifying).toHaveLength(functions.length * 2 + 1 + 3 + 1);
    for (const [, alarm] of notifying) expect(alarm.Properties.OKActions).toEqual([{ Ref: topicId }]);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });
});
