import { App, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { settingsFromContext } from './config/from-context';
import { RingPortabilityStack } from './ring-portability-stack';

export const STACK_NAME = 'RingPortability';

/**
 * Builds our CDK app: settings from context (validated: a bad key fails synth with its name),
 * the stack, and cdk-nag's AwsSolutions pack as a validation plugin, so synth fails on any
 * finding that is not acknowledged with a reason.
 */
export function buildApp(props: AppProps = {}): { app: App; stack: RingPortabilityStack } {
  const app = new App(props);
  const settings = settingsFromContext(app.node);
  const stack = new RingPortabilityStack(app, STACK_NAME, {
    settings,
    description: 'ring-portability: imports Ring and Blink customer data (Data Portability API) into S3 and DynamoDB',
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}
