import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { IpAddresses, SubnetType, Vpc } from 'aws-cdk-lib/aws-ec2';
import { type IHostedZone, PrivateHostedZone, PublicHostedZone } from 'aws-cdk-lib/aws-route53';
import type { Construct } from 'constructs';
import { ControlPlaneApi } from './control-plane-api.js';
import { ControlPlaneFunctions } from './control-plane-functions.js';
import { EdgeService } from './edge-service.js';
import { FUNCTIONS, type FunctionSpec } from './functions.js';
import { Monitoring } from './monitoring.js';
import type { StackParameters } from './parameters.js';
import { ControlPlaneTable } from './table.js';

export interface FtpxStackProps extends StackProps {
  parameters: StackParameters;
  /** The repository: function entries, package-lock.json and the Dockerfile are found from here. */
  repoRoot: string;
  /** Defaults to the manifest (infra/lib/functions.ts) filtered by which entries exist. */
  functions?: readonly FunctionSpec[];
  /** The functions' bundles, built beforehand (`bundleFunctions`); otherwise each function bundles its own. */
  functionBundles?: ReadonlyMap<string, string>;
}

/** Everything ftpx needs in one account and region: see infra/README.md. */
export class FtpxStack extends Stack {
  readonly functions: readonly FunctionSpec[];

  constructor(scope: Construct, id: string, props: FtpxStackProps) {
    super(scope, id, props);
    const { parameters, repoRoot } = props;
    this.functions = props.functions ?? FUNCTIONS;

    const publicTasks = parameters.edge.passiveAddress === 'public';
    const vpc = new Vpc(this, 'Vpc', {
      ipAddresses: IpAddresses.cidr(parameters.vpc.cidr),
      maxAzs: parameters.vpc.maxAzs,
      // Tasks with public IPs need no NAT gateway; private tasks reach the API through one.
      natGateways: publicTasks && parameters.edge.internetFacing ? 0 : 1,
      subnetConfiguration:
        publicTasks && parameters.edge.internetFacing
          ? [{ name: 'public', subnetType: SubnetType.PUBLIC, cidrMask: 20 }]
          : [
              { name: 'public', subnetType: SubnetType.PUBLIC, cidrMask: 20 },
              { name: 'private', subnetType: SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
            ],
    });

    const { table } = new ControlPlaneTable(this, 'Store', parameters.table);

    let zone: IHostedZone | undefined;
    if (parameters.dns.zoneName) {
      zone = parameters.dns.private
        ? new PrivateHostedZone(this, 'BackendsZone', { zoneName: parameters.dns.zoneName, vpc })
        : new PublicHostedZone(this, 'BackendsZone', { zoneName: parameters.dns.zoneName });
    }

    const functions = new ControlPlaneFunctions(this, 'Functions', {
      repoRoot,
      functions: this.functions,
      table,
      ...(zone ? { zone } : {}),
      parameters,
      ...(props.functionBundles ? { bundles: props.functionBundles } : {}),
    });
    const api = new ControlPlaneApi(this, 'ControlPlane', {
      functions: this.functions,
      handlers: functions.byName,
      parameters,
    });
    const edge = new EdgeService(this, 'Edge', {
      repoRoot,
      vpc,
      parameters,
      controlPlaneUrl: api.api.apiEndpoint,
      edgeRouteArns: api.edgeRouteArns(),
    });
    new Monitoring(this, 'Monitoring', { parameters, functions: functions.byName, api: api.api, edge });

    new CfnOutput(this, 'ApiUrl', {
      value: api.api.apiEndpoint,
      description: 'control plane and registry API',
    });
    new CfnOutput(this, 'EdgeAddress', {
      value: edge.loadBalancer.loadBalancerDnsName,
      description: 'FTP (21), FTPS (990), SFTP (22)',
    });
    new CfnOutput(this, 'TableName', { value: table.tableName });
    if (zone) new CfnOutput(this, 'BackendsZoneId', { value: zone.hostedZoneId });
  }
}
