import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { Settings } from '../lambdas/core/settings';
import { RingPortability } from './ring-portability';

export interface RingPortabilityStackProps extends StackProps {
  readonly settings: Settings;
}

/** Our deployable app: the RingPortability construct and the outputs an operator needs. */
export class RingPortabilityStack extends Stack {
  readonly portability: RingPortability;

  constructor(scope: Construct, id: string, props: RingPortabilityStackProps) {
    super(scope, id, props);
    this.portability = new RingPortability(this, 'RingPortability', { settings: props.settings });
    const { stateful, monitoring } = this.portability;

    new CfnOutput(this, 'ApiUrl', { value: this.portability.connectApi.api.apiEndpoint });
    new CfnOutput(this, 'RedirectUri', {
      value: this.portability.connectApi.redirectUri,
      description: 'Register this exact URI with Ring as your OAuth redirect URI.',
    });
    new CfnOutput(this, 'RawDataBucketName', { value: stateful.rawDataBucket.bucketName });
    new CfnOutput(this, 'ControlTableName', { value: stateful.controlTable.tableName });
    new CfnOutput(this, 'RecordsTableName', { value: stateful.recordsTable.tableName });
    new CfnOutput(this, 'AlarmTopicArn', { value: monitoring.alarmTopic.topicArn });
    const { changeEvents } = this.portability;
    new CfnOutput(this, 'EventBusArn', { value: changeEvents.bus.eventBusArn, description: 'Where Import Completed and Connection Status Changed events go (README: Change events)' });
    if (changeEvents.rule) new CfnOutput(this, 'ChangeEventsRuleArn', { value: changeEvents.rule.ruleArn, description: "The rule whose targets get every change event: scope your queue's policy to it (aws:SourceArn)" });
    for (const [brand, secret] of Object.entries(stateful.clientSecrets)) {
      new CfnOutput(this, `ClientCredentialsSecret${brand[0].toUpperCase()}${brand.slice(1)}`, {
        value: secret.secretName,
        description: `Put the ${brand} client_id and client_secret here after deploy (see README).`,
      });
    }
  }
}
