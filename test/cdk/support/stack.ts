import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { parseSettings, type SettingsInput } from '../../../lambdas/core/settings';
import { RingPortabilityStack } from '../../../lib/ring-portability-stack';

/** Context that skips esbuild bundling: CDK tests check configuration, not bundles. */
export const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

const outdirs: string[] = [];
afterAll(() => {
  for (const dir of outdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/**
 * A directory for one app's synth, removed after the test file. Without an `outdir`, every
 * synth writes a new `cdk.out*` under the system's temp dir and nothing removes it: a CI run
 * left about a hundred per run.
 */
export function scratchOutdir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ring-cdk-test-'));
  outdirs.push(dir);
  return dir;
}

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
