import { join } from 'node:path';
import { Duration, Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Architecture, Code, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IHostedZone } from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import { FUNCTION_BUNDLING } from './function-bundles.js';
import { type FunctionSpec, TABLE_ACTIONS } from './functions.js';
import type { StackParameters } from './parameters.js';

export interface ControlPlaneFunctionsProps {
  /** Where `entry` paths start, and the lock file esbuild bundles against. */
  repoRoot: string;
  functions: readonly FunctionSpec[];
  table: ITable;
  zone?: IHostedZone;
  parameters: StackParameters;
  /**
   * Each function's bundle, already built (`bundleFunctions`), by function name; without it each
   * NodejsFunction bundles its own entry.
   */
  bundles?: ReadonlyMap<string, string>;
}

/** One NodejsFunction per manifest entry, each with only the permissions its entry asks for. */
export class ControlPlaneFunctions extends Construct {
  readonly byName = new Map<string, NodejsFunction>();

  constructor(scope: Construct, id: string, props: ControlPlaneFunctionsProps) {
    super(scope, id);
    const { parameters, table, zone } = props;
    const code = (spec: FunctionSpec) => {
      const bundle = props.bundles?.get(spec.name);
      if (bundle) return { code: Code.fromAsset(bundle), handler: `index.${spec.handler}` };
      return {
        bundling: {
          // esbuild from node_modules; never a Docker build (CI machines have no Docker engine).
          forceDockerBundling: false,
          ...FUNCTION_BUNDLING,
          format: OutputFormat.ESM,
          mainFields: [...FUNCTION_BUNDLING.mainFields],
          externalModules: [...FUNCTION_BUNDLING.externalModules],
        },
      };
    };
    for (const spec of props.functions) {
      const logGroup = new LogGroup(this, `${spec.name}-logs`, {
        retention: parameters.functions.logRetentionDays as RetentionDays,
      });
      const reserved =
        spec.edgeHotPath && parameters.functions.edgeReservedConcurrency > 0
          ? { reservedConcurrentExecutions: parameters.functions.edgeReservedConcurrency }
          : {};
      const fn = new NodejsFunction(this, spec.name, {
        entry: join(props.repoRoot, spec.entry),
        handler: spec.handler,
        description: spec.description,
        runtime: Runtime.NODEJS_22_X,
        architecture: Architecture.ARM_64,
        memorySize: parameters.functions.memoryMb,
        timeout: Duration.seconds(spec.timeoutSeconds),
        logGroup,
        ...reserved,
        ...code(spec),
        projectRoot: props.repoRoot,
        depsLockFilePath: join(props.repoRoot, 'package-lock.json'),
        environment: {
          NODE_OPTIONS: '--enable-source-maps',
          ...(spec.table !== 'none' ? { FTPX_TABLE_NAME: table.tableName } : {}),
          ...(spec.route53 && zone ? { FTPX_HOSTED_ZONE_ID: zone.hostedZoneId } : {}),
          ...spec.environment?.(parameters),
        },
      });
      if (spec.table !== 'none') {
        fn.addToRolePolicy(
          new PolicyStatement({
            effect: Effect.ALLOW,
            actions: [...TABLE_ACTIONS[spec.table]],
            resources: [table.tableArn],
          }),
        );
      }
      if (spec.route53 && zone) {
        fn.addToRolePolicy(
          new PolicyStatement({
            actions:
              spec.route53 === 'read-write'
                ? [
                    'route53:GetHostedZone',
                    'route53:ListResourceRecordSets',
                    'route53:ChangeResourceRecordSets',
                  ]
                : ['route53:GetHostedZone', 'route53:ListResourceRecordSets'],
            resources: [zone.hostedZoneArn],
          }),
        );
        if (spec.route53 === 'read-write') {
          fn.addToRolePolicy(
            new PolicyStatement({
              actions: ['route53:GetChange'],
              resources: [
                Stack.of(this).formatArn({
                  service: 'route53',
                  region: '',
                  account: '',
                  resource: 'change',
                  resourceName: '*',
                }),
              ],
            }),
          );
        }
      }
      for (const schedule of spec.schedules) {
        new Rule(this, `${spec.name}-${schedule.key}`, {
          description: `${spec.name}: ${schedule.key}`,
          schedule: Schedule.expression(parameters.schedules[schedule.key]),
          targets: [
            new LambdaFunction(fn, {
              event: RuleTargetInput.fromObject(schedule.input(parameters)),
              retryAttempts: 2,
            }),
          ],
        });
      }
      this.byName.set(spec.name, fn);
    }
  }
}
