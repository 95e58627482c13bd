import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import type { StackParameters } from './parameters.js';

/** The attribute DynamoDB's TTL deletes on (epoch seconds): see functions/README.md, "Data model". */
export const TTL_ATTRIBUTE = 'expiresAt';

/** The control plane's single table: string keys `pk` / `sk`, on-demand, TTL on `expiresAt`. */
export class ControlPlaneTable extends Construct {
  readonly table: Table;

  constructor(scope: Construct, id: string, parameters: StackParameters['table']) {
    super(scope, id);
    this.table = new Table(this, 'Table', {
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: TTL_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: parameters.pointInTimeRecovery },
      deletionProtection: parameters.deletionProtection,
      removalPolicy: parameters.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
  }
}
