import { Duration } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  type Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  MathExpression,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { EdgeService } from './edge-service.js';
import type { StackParameters } from './parameters.js';

/**
 * Namespace of the metrics ftpx's own code publishes (CloudWatch embedded metric format in the
 * functions' logs). The dashboard graphs them; until the health-check and tls-cache functions are
 * deployed, those graphs are empty.
 */
export const FTPX_METRIC_NAMESPACE = 'ftpx';

export interface MonitoringProps {
  parameters: StackParameters;
  functions: ReadonlyMap<string, NodejsFunction>;
  api: HttpApi;
  edge: EdgeService;
}

/** Alarms (to an SNS topic) and one dashboard: sessions, errors, backend health, cache hit ratio. */
export class Monitoring extends Construct {
  readonly topic: Topic;
  readonly dashboard: Dashboard;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { parameters, edge, api } = props;
    this.topic = new Topic(this, 'Alarms', { displayName: `${parameters.name} alarms` });
    if (parameters.alarms.email) this.topic.addSubscription(new EmailSubscription(parameters.alarms.email));
    const action = new SnsAction(this.topic);
    const alarm = (create: () => Alarm) => {
      const created = create();
      created.addAlarmAction(action);
      created.addOkAction(action);
      this.alarms.push(created);
      return created;
    };

    for (const [name, fn] of props.functions) {
      alarm(() =>
        fn.metricErrors({ period: Duration.minutes(5) }).createAlarm(this, `${name}-errors`, {
          alarmDescription: `${name}: invocations failed`,
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        }),
      );
      alarm(() =>
        fn.metricThrottles({ period: Duration.minutes(5) }).createAlarm(this, `${name}-throttles`, {
          alarmDescription: `${name}: invocations throttled (reserved concurrency or account limit)`,
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        }),
      );
    }
    const api5xx = api.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' });
    alarm(() =>
      api5xx.createAlarm(this, 'api-5xx', {
        alarmDescription: 'control-plane API answered 5xx',
        threshold: 5,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );
    const unhealthy = edge.targetGroups.map((group, index) =>
      group.metrics.unHealthyHostCount({ period: Duration.minutes(1), label: `unhealthy ${index}` }),
    );
    unhealthy.forEach((metric, index) => {
      alarm(() =>
        metric.createAlarm(this, `edge-unhealthy-${index}`, {
          alarmDescription: 'an edge task fails its /readyz health check',
          threshold: 1,
          evaluationPeriods: 3,
          comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        }),
      );
    });
    const unhealthyBackends = new Metric({
      namespace: FTPX_METRIC_NAMESPACE,
      metricName: 'UnhealthyBackends',
      statistic: 'Maximum',
      period: Duration.minutes(1),
    });
    alarm(() =>
      unhealthyBackends.createAlarm(this, 'backends-unhealthy', {
        alarmDescription: 'health checks find backends down',
        threshold: 1,
        evaluationPeriods: 3,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );

    const perFunction = (metric: (fn: NodejsFunction) => Metric) =>
      [...props.functions.entries()].map(([name, fn]) => metric(fn).with({ label: name }));
    const cacheHits = new Metric({
      namespace: FTPX_METRIC_NAMESPACE,
      metricName: 'TlsSessionCacheHits',
      statistic: 'Sum',
    });
    const cacheMisses = new Metric({
      namespace: FTPX_METRIC_NAMESPACE,
      metricName: 'TlsSessionCacheMisses',
      statistic: 'Sum',
    });
    this.dashboard = new Dashboard(this, 'Dashboard', { dashboardName: `${parameters.name}-overview` });
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Sessions (NLB flows)',
        left: [
          edge.loadBalancer.metrics.activeFlowCount({ label: 'active' }),
          edge.loadBalancer.metrics.newFlowCount({ label: 'new', statistic: 'Sum' }),
        ],
        right: [edge.flowsPerTask()],
      }),
      new GraphWidget({
        title: 'Edge tasks',
        left: [edge.service.metricCpuUtilization(), edge.service.metricMemoryUtilization()],
        right: unhealthy,
      }),
      new GraphWidget({
        title: 'Function errors',
        left: perFunction((fn) => fn.metricErrors({ statistic: 'Sum' })),
      }),
      new GraphWidget({
        title: 'Function duration p99',
        left: perFunction((fn) => fn.metricDuration({ statistic: 'p99' })),
      }),
      new GraphWidget({
        title: 'Control-plane API',
        left: [api.metricClientError({ statistic: 'Sum' }), api.metricServerError({ statistic: 'Sum' })],
        right: [api.metricLatency({ statistic: 'p99' })],
      }),
      new GraphWidget({
        title: 'Backend health',
        left: [unhealthyBackends],
      }),
      new GraphWidget({
        title: 'TLS session cache hit ratio',
        left: [
          new MathExpression({
            label: 'hit ratio %',
            expression: '100 * hits / IF(hits + misses > 0, hits + misses, 1)',
            usingMetrics: { hits: cacheHits, misses: cacheMisses },
          }),
        ],
      }),
    );
  }
}
