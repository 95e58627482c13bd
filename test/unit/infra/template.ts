import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { FtpxStack } from '../../../infra/lib/ftpx-stack.js';
import { FUNCTIONS, type FunctionSpec } from '../../../infra/lib/functions.js';
import { parseParameters, type StackParametersInput } from '../../../infra/lib/parameters.js';

// biome-ignore lint/suspicious/noExplicitAny: synthesised CloudFormation is untyped JSON
export type Cfn = Record<string, any>;

export const REPO_ROOT = join(import.meta.dirname, '..', '..', '..');

/** What the stack deploys: the whole manifest. */
export function expectedFunctions(): readonly FunctionSpec[] {
  return FUNCTIONS;
}

/**
 * Synthesises the stack in memory. `bundle: false` skips esbuild (the variants only look at
 * resources, not code); the main suite bundles every function, as `cdk synth` does.
 */
export function synth(
  parameters: StackParametersInput = {},
  options: { bundle: boolean } = { bundle: true },
): { template: Template; stack: FtpxStack } {
  const app = new App({
    context: options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] },
  });
  const stack = new FtpxStack(app, 'Ftpx', {
    parameters: parseParameters(parameters),
    repoRoot: REPO_ROOT,
    env: { account: '123456789012', region: 'eu-west-1' },
  });
  return { template: Template.fromStack(stack), stack };
}
