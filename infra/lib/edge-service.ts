import { Duration, Stack } from 'aws-cdk-lib';
import { AdjustmentType } from 'aws-cdk-lib/aws-applicationautoscaling';
import { MathExpression, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { type IVpc, Peer, Port, SecurityGroup, SubnetType } from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import {
  Cluster,
  ContainerDefinition,
  ContainerDependencyCondition,
  ContainerImage,
  ContainerInsights,
  CpuArchitecture,
  Protocol as EcsProtocol,
  FargateService,
  FargateTaskDefinition,
  LogDrivers,
  OperatingSystemFamily,
} from 'aws-cdk-lib/aws-ecs';
import {
  NetworkLoadBalancer,
  NetworkTargetGroup,
  Protocol,
  TargetType,
} from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { EdgeSecrets } from './edge-secrets.js';
import type { StackParameters } from './parameters.js';
import { edgeWorkerConfigYaml, PROTOCOL_PORTS } from './worker-config.js';

export interface EdgeServiceProps {
  repoRoot: string;
  vpc: IVpc;
  parameters: StackParameters;
  /** The control plane's base URL (the HTTP API's endpoint). */
  controlPlaneUrl: string;
  /** ARNs of the edge routes, for `execute-api:Invoke`. */
  edgeRouteArns: string[];
}

const CONTAINER_NAME = 'edge-worker';
const COLLECTOR_NAME = 'aws-otel-collector';
/** The collector's OTLP/HTTP receiver, as its ECS default configuration opens it. */
const COLLECTOR_OTLP_ENDPOINT = 'http://localhost:4318';

/**
 * The edge workers: Fargate tasks (Graviton) behind a Network Load Balancer. Control connections
 * arrive through the NLB with a PROXY v2 header naming the client; passive data connections go to
 * the task's own address (its public IP, advertised in 227/229), never through the NLB, so a data
 * connection always reaches the task that holds its control session (docs/deploy-aws.md).
 */
export class EdgeService extends Construct {
  readonly loadBalancer: NetworkLoadBalancer;
  readonly service: FargateService;
  readonly cluster: Cluster;
  readonly targetGroups: NetworkTargetGroup[] = [];

  constructor(scope: Construct, id: string, props: EdgeServiceProps) {
    super(scope, id);
    const { parameters, vpc } = props;
    const edge = parameters.edge;
    const publicTasks = edge.passiveAddress === 'public';

    this.cluster = new Cluster(this, 'Cluster', { vpc, containerInsightsV2: ContainerInsights.ENABLED });

    const taskDefinition = new FargateTaskDefinition(this, 'Task', {
      cpu: edge.cpu,
      memoryLimitMiB: edge.memoryMb,
      runtimePlatform: {
        cpuArchitecture: CpuArchitecture.ARM64,
        operatingSystemFamily: OperatingSystemFamily.LINUX,
      },
    });
    // Only the edge routes, only POST: a leaked task credential cannot touch the registry API.
    taskDefinition.addToTaskRolePolicy(
      new PolicyStatement({ actions: ['execute-api:Invoke'], resources: props.edgeRouteArns }),
    );
    if (publicTasks) {
      // Finds the task's public IP (the ENI's association) for 227/229; a describe cannot be scoped.
      taskDefinition.addToTaskRolePolicy(
        new PolicyStatement({ actions: ['ec2:DescribeNetworkInterfaces'], resources: ['*'] }),
      );
    }

    const image = edge.image
      ? ContainerImage.fromRegistry(edge.image)
      : ContainerImage.fromAsset(props.repoRoot, { file: 'Dockerfile', platform: Platform.LINUX_ARM64 });
    const secrets = new EdgeSecrets(this, 'Secrets', { parameters });
    const logGroup = new LogGroup(this, 'Logs', {
      retention: parameters.functions.logRetentionDays as RetentionDays,
    });
    const container: ContainerDefinition = taskDefinition.addContainer(CONTAINER_NAME, {
      image,
      logging: LogDrivers.awsLogs({ streamPrefix: 'edge', logGroup }),
      command: [
        'serve',
        '--config',
        '/tmp/ftpx.yaml',
        '--control-plane-url',
        props.controlPlaneUrl,
        '--admin-listen',
        `0.0.0.0:${edge.adminPort}`,
        '--masquerade-address',
        publicTasks ? 'ecs-task:public' : 'ecs-task:private',
      ],
      environment: {
        FTPX_CONFIG_YAML: edgeWorkerConfigYaml({
          edge,
          tlsCache: parameters.tlsCache,
          loadBalancerNetwork: parameters.vpc.cidr,
        }),
        AWS_REGION: Stack.of(this).region,
      },
      // The admin token (the admin endpoint listens beyond loopback, so `serve` requires one), the
      // SSH host key seed and the FTPS certificate: read by ECS at start, written to files by the entrypoint.
      secrets: secrets.containerSecrets,
      // The image's user (node) binds 21, 22 and 990: the task's own network namespace lets
      // unprivileged users bind any port (Fargate has no CAP_NET_BIND_SERVICE to add). Without it the
      // worker exits with EACCES (test/integration/stack/container-image.test.ts).
      systemControls: [{ namespace: 'net.ipv4.ip_unprivileged_port_start', value: '0' }],
      // Fargate's maximum: after the NLB has drained the task (deregistration delay), SIGTERM makes
      // the worker stop accepting and finish its sessions for up to this long.
      stopTimeout: Duration.seconds(120),
    });
    for (const protocol of edge.protocols) {
      container.addPortMappings({ containerPort: PROTOCOL_PORTS[protocol], protocol: EcsProtocol.TCP });
    }
    container.addPortMappings({ containerPort: edge.adminPort, protocol: EcsProtocol.TCP });
    if (edge.otel.enabled) {
      const collector = taskDefinition.addContainer(COLLECTOR_NAME, {
        image: ContainerImage.fromRegistry(edge.otel.image),
        // The image's ECS configuration: OTLP in (4317 gRPC, 4318 HTTP), traces out to X-Ray.
        command: ['--config=/etc/ecs/ecs-default-config.yaml'],
        logging: LogDrivers.awsLogs({ streamPrefix: 'otel', logGroup }),
        // A failed collector costs traces, never sessions.
        essential: false,
        memoryReservationMiB: 64,
      });
      container.addContainerDependencies({
        container: collector,
        condition: ContainerDependencyCondition.START,
      });
      // Tasks share one network namespace (awsvpc): localhost is the sidecar.
      container.addEnvironment('OTEL_EXPORTER_OTLP_ENDPOINT', COLLECTOR_OTLP_ENDPOINT);
      taskDefinition.addToTaskRolePolicy(
        new PolicyStatement({
          actions: [
            'xray:PutTraceSegments',
            'xray:PutTelemetryRecords',
            'xray:GetSamplingRules',
            'xray:GetSamplingTargets',
          ],
          resources: ['*'],
        }),
      );
    }
    container.addPortMappings({
      containerPort: ContainerDefinition.CONTAINER_PORT_USE_RANGE,
      containerPortRange: `${edge.passivePorts.min}-${edge.passivePorts.max}`,
      protocol: EcsProtocol.TCP,
    });

    const lbSecurityGroup = new SecurityGroup(this, 'LoadBalancerSg', {
      vpc,
      description: 'ftpx NLB: control connections from the client networks',
      allowAllOutbound: true,
    });
    const taskSecurityGroup = new SecurityGroup(this, 'TaskSg', {
      vpc,
      description: 'ftpx edge tasks: control via the NLB, passive data from the client networks',
      allowAllOutbound: true,
    });
    for (const network of edge.clientNetworks) {
      for (const protocol of edge.protocols) {
        lbSecurityGroup.addIngressRule(
          Peer.ipv4(network),
          Port.tcp(PROTOCOL_PORTS[protocol]),
          `${protocol} from ${network}`,
        );
      }
      taskSecurityGroup.addIngressRule(
        Peer.ipv4(network),
        Port.tcpRange(edge.passivePorts.min, edge.passivePorts.max),
        `FTP passive data from ${network}`,
      );
    }
    for (const protocol of edge.protocols) {
      taskSecurityGroup.addIngressRule(
        lbSecurityGroup,
        Port.tcp(PROTOCOL_PORTS[protocol]),
        `${protocol} from the NLB`,
      );
    }
    // The admin endpoint: the NLB's health checks and the VPC (operators on a bastion, scrapers), never
    // the client networks, even with public task addresses.
    taskSecurityGroup.addIngressRule(lbSecurityGroup, Port.tcp(edge.adminPort), 'health checks from the NLB');
    taskSecurityGroup.addIngressRule(
      Peer.ipv4(vpc.vpcCidrBlock),
      Port.tcp(edge.adminPort),
      'admin endpoint from the VPC',
    );

    this.service = new FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition,
      desiredCount: edge.minTasks,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      assignPublicIp: publicTasks,
      vpcSubnets: { subnetType: publicTasks ? SubnetType.PUBLIC : SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [taskSecurityGroup],
      healthCheckGracePeriod: Duration.seconds(60),
      circuitBreaker: { rollback: true },
    });

    this.loadBalancer = new NetworkLoadBalancer(this, 'Nlb', {
      vpc,
      internetFacing: edge.internetFacing,
      crossZoneEnabled: true,
      securityGroups: [lbSecurityGroup],
      vpcSubnets: { subnetType: edge.internetFacing ? SubnetType.PUBLIC : SubnetType.PRIVATE_WITH_EGRESS },
    });
    for (const protocol of edge.protocols) {
      const port = PROTOCOL_PORTS[protocol];
      const listener = this.loadBalancer.addListener(`${protocol}-listener`, {
        port,
        protocol: Protocol.TCP,
      });
      const targetGroup = new NetworkTargetGroup(this, `${protocol}-targets`, {
        vpc,
        port,
        protocol: Protocol.TCP,
        targetType: TargetType.IP,
        // The client's address reaches the worker in the PROXY v2 header; the TCP peer is the NLB
        // (inside the VPC network the worker trusts for PROXY headers).
        proxyProtocolV2: true,
        preserveClientIp: false,
        deregistrationDelay: Duration.seconds(edge.drainSeconds),
        connectionTermination: false,
        healthCheck: {
          protocol: Protocol.HTTP,
          port: String(edge.adminPort),
          path: '/readyz',
          interval: Duration.seconds(10),
          healthyThresholdCount: 2,
          unhealthyThresholdCount: 2,
        },
      });
      targetGroup.addTarget(
        this.service.loadBalancerTarget({ containerName: CONTAINER_NAME, containerPort: port }),
      );
      listener.addTargetGroups(`${protocol}-default`, targetGroup);
      this.targetGroups.push(targetGroup);
    }

    const scaling = this.service.autoScaleTaskCount({
      minCapacity: edge.minTasks,
      maxCapacity: edge.maxTasks,
    });
    scaling.scaleOnCpuUtilization('Cpu', {
      targetUtilizationPercent: edge.cpuTarget,
      scaleOutCooldown: Duration.seconds(60),
      // Scaling in stops a task after a full drain: do not do it on a short dip.
      scaleInCooldown: Duration.minutes(10),
    });
    scaling.scaleOnMetric('Sessions', {
      metric: this.flowsPerTask(),
      adjustmentType: AdjustmentType.CHANGE_IN_CAPACITY,
      scalingSteps: [
        { upper: edge.flowsPerTask, change: 0 },
        { lower: edge.flowsPerTask, change: +1 },
        { lower: edge.flowsPerTask * 2, change: +3 },
      ],
      cooldown: Duration.seconds(120),
    });
  }

  /** Sessions held through the NLB (every listener), divided by running tasks. */
  flowsPerTask(): MathExpression {
    return new MathExpression({
      label: 'NLB flows per task',
      expression: 'flows / IF(tasks > 0, tasks, 1)',
      usingMetrics: {
        flows: this.loadBalancer.metrics.activeFlowCount({
          period: Duration.minutes(1),
          statistic: 'Average',
        }),
        tasks: new Metric({
          namespace: 'ECS/ContainerInsights',
          metricName: 'RunningTaskCount',
          dimensionsMap: {
            ClusterName: this.cluster.clusterName,
            ServiceName: this.service.serviceName,
          },
          period: Duration.minutes(1),
          statistic: 'Average',
        }),
      },
      period: Duration.minutes(1),
    });
  }
}
