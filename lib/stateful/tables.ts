import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption, type Attribute } from 'aws-cdk-lib/aws-dynamodb';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { POINT_IN_TIME_RECOVERY_DAYS, type KeyAttribute, type TableDefinition } from '../../lambdas/core/definitions';

const ATTRIBUTE_TYPES = { S: AttributeType.STRING, N: AttributeType.NUMBER, B: AttributeType.BINARY } as const;

const attribute = (key: KeyAttribute): Attribute => ({ name: key.name, type: ATTRIBUTE_TYPES[key.type] });

/**
 * A DynamoDB table built from its shared definition: on-demand, encrypted with the stack's key,
 * point-in-time recovery on (the window a purge reports), TTL on the definition's attribute, and, when retained, deletion
 * protection so a stray `cdk destroy` cannot take customer data with it.
 *
 * A classic `Table`, not `TableV2`: TableV2 with a customer-managed key cannot be synthesized
 * in a region-agnostic stack, and integrators may synth without a region.
 */
export function tableFromDefinition(
  scope: Construct,
  definition: TableDefinition,
  props: { key: IKey; removalPolicy: RemovalPolicy },
): Table {
  const table = new Table(scope, definition.id, {
    partitionKey: attribute(definition.partitionKey),
    sortKey: attribute(definition.sortKey),
    timeToLiveAttribute: definition.timeToLiveAttribute,
    billingMode: BillingMode.PAY_PER_REQUEST,
    encryption: TableEncryption.CUSTOMER_MANAGED,
    encryptionKey: props.key,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true, recoveryPeriodInDays: POINT_IN_TIME_RECOVERY_DAYS },
    deletionProtection: props.removalPolicy === RemovalPolicy.RETAIN,
    removalPolicy: props.removalPolicy,
  });
  for (const index of definition.globalSecondaryIndexes) {
    table.addGlobalSecondaryIndex({
      indexName: index.indexName,
      partitionKey: attribute(index.partitionKey),
      sortKey: index.sortKey && attribute(index.sortKey),
    });
  }
  return table;
}
