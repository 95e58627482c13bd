import { type CfnResource, StackLocalError } from './template.js';

/**
 * Every resource type the local stack knows, with every property it knows. A type or a property not
 * listed fails the run by name: the local stack cannot silently drift from the template. `runs`
 * says what the local stack does with it; `noLocalEffect` says why a resource needs nothing locally.
 */
type Kind = { properties: readonly string[] } & ({ runs: string } | { noLocalEffect: string });

export const RESOURCE_KINDS: Record<string, Kind> = {
  'AWS::DynamoDB::Table': {
    runs: 'created in DynamoDB Local from its keys, attributes, indexes and TTL',
    properties: [
      'AttributeDefinitions',
      'KeySchema',
      'BillingMode',
      'GlobalSecondaryIndexes',
      'LocalSecondaryIndexes',
      'TimeToLiveSpecification',
      'DeletionProtectionEnabled',
      'PointInTimeRecoverySpecification',
      'TableName',
    ],
  },
  'AWS::Lambda::Function': {
    runs: 'a Node process per function, from its asset directory, with its handler, runtime, environment and timeout',
    properties: [
      'Code',
      'Handler',
      'Runtime',
      'Environment',
      'Timeout',
      'MemorySize',
      'Architectures',
      'Description',
      'Role',
      'LoggingConfig',
      'ReservedConcurrentExecutions',
    ],
  },
  'AWS::ApiGatewayV2::Api': { runs: 'an HTTPS server', properties: ['Name', 'Description', 'ProtocolType'] },
  'AWS::ApiGatewayV2::Stage': {
    runs: 'the stage throttling (rate and burst)',
    properties: ['ApiId', 'StageName', 'AutoDeploy', 'DefaultRouteSettings'],
  },
  'AWS::ApiGatewayV2::Route': {
    runs: 'a route with its authorisation (AWS_IAM: SigV4 verified, JWT: local issuer, NONE)',
    properties: ['ApiId', 'RouteKey', 'Target', 'AuthorizationType', 'AuthorizerId', 'AuthorizationScopes'],
  },
  'AWS::ApiGatewayV2::Integration': {
    runs: 'a Lambda proxy integration (payload 2.0)',
    properties: ['ApiId', 'IntegrationType', 'IntegrationUri', 'PayloadFormatVersion'],
  },
  'AWS::ApiGatewayV2::Authorizer': {
    runs: 'a JWT authoriser (issuer and audience checked, signature by the local issuer)',
    properties: ['ApiId', 'AuthorizerType', 'IdentitySource', 'JwtConfiguration', 'Name'],
  },
  'AWS::Events::Rule': {
    runs: 'a rate() schedule on an accelerated timer, invoking its targets with their Input',
    properties: ['Description', 'ScheduleExpression', 'State', 'Targets'],
  },
  'AWS::SecretsManager::Secret': {
    runs: 'a value in the local secrets file (GenerateSecretString: generated once, kept)',
    properties: ['Description', 'GenerateSecretString', 'SecretString', 'Name'],
  },
  'AWS::ECS::TaskDefinition': {
    runs: 'the container run as a process in its own network namespace (awsvpc): command, environment, secrets, port mappings, stop timeout',
    properties: [
      'ContainerDefinitions',
      'Cpu',
      'Memory',
      'ExecutionRoleArn',
      'TaskRoleArn',
      'Family',
      'NetworkMode',
      'RequiresCompatibilities',
      'RuntimePlatform',
    ],
  },
  'AWS::ECS::Service': {
    runs: 'one task (DesiredCount is reported, one runs), registered in its target groups',
    properties: [
      'Cluster',
      'DeploymentConfiguration',
      'DeploymentController',
      'DesiredCount',
      'EnableECSManagedTags',
      'HealthCheckGracePeriodSeconds',
      'LaunchType',
      'LoadBalancers',
      'NetworkConfiguration',
      'TaskDefinition',
    ],
  },
  'AWS::ElasticLoadBalancingV2::LoadBalancer': {
    runs: 'the listeners below, on loopback',
    properties: ['LoadBalancerAttributes', 'Scheme', 'SecurityGroups', 'Subnets', 'Type'],
  },
  'AWS::ElasticLoadBalancingV2::Listener': {
    runs: 'a local port forwarding to the target group',
    properties: ['DefaultActions', 'LoadBalancerArn', 'Port', 'Protocol'],
  },
  'AWS::ElasticLoadBalancingV2::TargetGroup': {
    runs: 'PROXY v2 when its attribute says so, HTTP health checks, deregistration delay',
    properties: [
      'HealthCheckIntervalSeconds',
      'HealthCheckPath',
      'HealthCheckPort',
      'HealthCheckProtocol',
      'HealthyThresholdCount',
      'UnhealthyThresholdCount',
      'Port',
      'Protocol',
      'TargetGroupAttributes',
      'TargetType',
      'VpcId',
    ],
  },
  'AWS::EC2::VPC': {
    runs: 'its CIDR block gives the task network (a veth pair between the host and the task)',
    properties: ['CidrBlock', 'EnableDnsHostnames', 'EnableDnsSupport', 'InstanceTenancy', 'Tags'],
  },
  'AWS::ECS::Cluster': { noLocalEffect: 'a name for the service', properties: ['ClusterSettings'] },
  'AWS::IAM::Role': {
    noLocalEffect: 'IAM is not enforced locally (one local credential)',
    properties: ['AssumeRolePolicyDocument', 'ManagedPolicyArns', 'Policies'],
  },
  'AWS::IAM::Policy': {
    noLocalEffect: 'IAM is not enforced locally (one local credential)',
    properties: ['PolicyDocument', 'PolicyName', 'Roles'],
  },
  'AWS::Lambda::Permission': {
    noLocalEffect: 'the local API and schedules may invoke every function',
    properties: ['Action', 'FunctionName', 'Principal', 'SourceArn'],
  },
  'AWS::Logs::LogGroup': {
    noLocalEffect: 'logs go to the local stack’s log directory',
    properties: ['RetentionInDays'],
  },
  'AWS::EC2::Subnet': {
    noLocalEffect: 'one task network',
    properties: ['AvailabilityZone', 'CidrBlock', 'MapPublicIpOnLaunch', 'Tags', 'VpcId'],
  },
  'AWS::EC2::RouteTable': { noLocalEffect: 'one task network', properties: ['Tags', 'VpcId'] },
  'AWS::EC2::Route': {
    noLocalEffect: 'one task network',
    properties: ['DestinationCidrBlock', 'GatewayId', 'NatGatewayId', 'RouteTableId'],
  },
  'AWS::EC2::SubnetRouteTableAssociation': {
    noLocalEffect: 'one task network',
    properties: ['RouteTableId', 'SubnetId'],
  },
  'AWS::EC2::InternetGateway': { noLocalEffect: 'nothing leaves loopback', properties: ['Tags'] },
  'AWS::EC2::VPCGatewayAttachment': {
    noLocalEffect: 'nothing leaves loopback',
    properties: ['InternetGatewayId', 'VpcId'],
  },
  'AWS::EC2::EIP': { noLocalEffect: 'nothing leaves loopback', properties: ['Domain', 'Tags'] },
  'AWS::EC2::NatGateway': {
    noLocalEffect: 'nothing leaves loopback',
    properties: ['AllocationId', 'SubnetId', 'Tags'],
  },
  'AWS::EC2::SecurityGroup': {
    noLocalEffect: 'not enforced locally (the template tests check the rules)',
    properties: ['GroupDescription', 'SecurityGroupEgress', 'SecurityGroupIngress', 'VpcId'],
  },
  'AWS::EC2::SecurityGroupIngress': {
    noLocalEffect: 'not enforced locally (the template tests check the rules)',
    properties: [
      'Description',
      'FromPort',
      'ToPort',
      'GroupId',
      'IpProtocol',
      'SourceSecurityGroupId',
      'CidrIp',
    ],
  },
  'AWS::ApplicationAutoScaling::ScalableTarget': {
    noLocalEffect: 'one task, no autoscaling',
    properties: [
      'MaxCapacity',
      'MinCapacity',
      'ResourceId',
      'RoleARN',
      'ScalableDimension',
      'ServiceNamespace',
    ],
  },
  'AWS::ApplicationAutoScaling::ScalingPolicy': {
    noLocalEffect: 'one task, no autoscaling',
    properties: [
      'PolicyName',
      'PolicyType',
      'ScalingTargetId',
      'StepScalingPolicyConfiguration',
      'TargetTrackingScalingPolicyConfiguration',
    ],
  },
  'AWS::CloudWatch::Alarm': {
    noLocalEffect: 'no CloudWatch locally (the admin endpoint serves the metrics)',
    properties: [
      'AlarmActions',
      'AlarmDescription',
      'ComparisonOperator',
      'Dimensions',
      'EvaluationPeriods',
      'MetricName',
      'Metrics',
      'Namespace',
      'OKActions',
      'Period',
      'Statistic',
      'Threshold',
      'TreatMissingData',
    ],
  },
  'AWS::CloudWatch::Dashboard': {
    noLocalEffect: 'no CloudWatch locally',
    properties: ['DashboardBody', 'DashboardName'],
  },
  'AWS::SNS::Topic': { noLocalEffect: 'alarms only', properties: ['DisplayName'] },
  'AWS::SNS::Subscription': {
    noLocalEffect: 'alarms only',
    properties: ['Endpoint', 'Protocol', 'TopicArn'],
  },
  'AWS::CDK::Metadata': { noLocalEffect: 'CDK analytics', properties: ['Analytics'] },
};

/** Every resource's type and properties known, or a StackLocalError naming each that is not. */
export function checkResourceKinds(resources: Record<string, CfnResource>): void {
  const problems: string[] = [];
  for (const [id, resource] of Object.entries(resources)) {
    const kind = RESOURCE_KINDS[resource.Type];
    if (!kind) {
      problems.push(`${id}: resource type ${resource.Type} is not understood by the local stack`);
      continue;
    }
    for (const property of Object.keys(resource.Properties ?? {})) {
      if (!kind.properties.includes(property)) {
        problems.push(`${id} (${resource.Type}): property ${property} is not understood by the local stack`);
      }
    }
  }
  if (problems.length > 0) throw new StackLocalError(problems.join('\n'));
}
