import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { parseSettings, type SettingsInput } from '../../../lambdas/core/settings';
import { RingPortabilityStack } from '../../../lib/ring-portability-stack';
import { scratchOutdir } from '../../support/scratch-outdir';

export { scratchOutdir };

/** Context that skips esbuild bundling: CDK tests check configuration, not bundles. */
export const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

export function synthStack(settings: SettingsInput = {}): { stack: RingPortabilityStack; template: Template } {
  const stack = buildStack(settings);
  return { stack, template: Template.fromStack(stack) };
}

/** The stack, not yet synthesized: a test may add to it first. */
export function buildStack(settings: SettingsInput = {}): RingPortabilityStack {
  const app = new App({ context: NO_BUNDLING, outdir: scratchOutdir() });
  return new RingPortabilityStack(app, 'Test', { settings: parseSettings(settings) });
}

/** Every resource of a type, by logical id. */
export interface TemplateResource {
  readonly Properties: Record<string, unknown>;
  readonly DeletionPolicy?: string;
}

export function resourcesOf(template: Template, type: string): Record<string, TemplateResource> {
  return template.findResources(type) as Record<string, TemplateResource>;
}
