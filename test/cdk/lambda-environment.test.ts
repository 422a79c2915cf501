import { readFileSync } from 'node:fs';
import * as path from 'node:path';
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

  it('fail synth, not the deploy, when settings make one too large', () => {
    const stack = buildStack({ notifications: { trustAnchors: AMAZON_ROOTS } });
    expect(() => (stack.node.root as unknown as { synth(): unknown }).synth()).toThrow(/environment of .*Notifications is about \d+ bytes; Lambda allows 4096/);
  });
});
