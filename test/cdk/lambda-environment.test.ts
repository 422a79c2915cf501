import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { LAMBDA_ENVIRONMENT_MAX_BYTES } from '../../lib/stateless/portability-function';
import { buildStack, resourcesOf, synthStack } from './support/stack';

const AMAZON_ROOTS = readFileSync(path.join(__dirname, '../../lambdas/core/notifications/trust/amazon-roots.pem'), 'utf8');

describe('Lambda environments', () => {
  it('fit Lambda’s 4 KB with the default settings', () => {
    const { template } = synthStack();
    for (const fn of Object.values(resourcesOf(template, 'AWS::Lambda::Function'))) {
      const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      const bytes = Object.entries(variables).reduce((sum, [name, value]) => sum + name.length + (typeof value === 'string' ? Buffer.byteLength(value) : 128), 0);
      expect(bytes).toBeLessThan(LAMBDA_ENVIRONMENT_MAX_BYTES);
    }
  });

  it('carry the notification trust anchors to the notifications function only', () => {
    const oneRoot = AMAZON_ROOTS.slice(0, AMAZON_ROOTS.indexOf('-----END CERTIFICATE-----') + '-----END CERTIFICATE-----'.length) + '\n';
    const stack = buildStack({ notifications: { trustAnchors: oneRoot } });
    const withAnchors = Object.entries(resourcesOf(Template.fromStack(stack), 'AWS::Lambda::Function'))
      .filter(([, fn]) => String((fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables.SETTINGS).includes('trustAnchors'))
      .map(([id]) => id);
    expect(withAnchors).toEqual([stack.getLogicalId(stack.portability.queryLifecycle.notifications.node.defaultChild as never)]);
  });

  it('fail synth, not the deploy, when settings make one too large', () => {
    const stack = buildStack({ notifications: { trustAnchors: AMAZON_ROOTS } });
    expect(() => (stack.node.root as unknown as { synth(): unknown }).synth()).toThrow(/environment of .*Notifications is about \d+ bytes; Lambda allows 4096/);
  });
});
