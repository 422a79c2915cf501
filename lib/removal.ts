import { RemovalPolicy } from 'aws-cdk-lib';
import type { Settings } from '../lambdas/core/settings';

export function removalPolicyOf(settings: Settings): RemovalPolicy {
  return settings.retention.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
}
