import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  parseParameters,
  type StackParameters,
  type StackParametersInput,
} from '../../../infra/lib/parameters.js';
import { repoRoot } from '../../support/binaries.js';

/** infra/context/local.json: as written (what a test derives its own context from) and as the stack reads it. */
export interface LocalContext {
  input: StackParametersInput;
  parameters: StackParameters;
}

/** Reads the local context, `edit` applied to its text first; the stack's own schema checks it. */
export async function readLocalContext(
  edit: (text: string) => string = (text) => text,
): Promise<LocalContext> {
  const text = edit(await readFile(join(repoRoot, 'infra', 'context', 'local.json'), 'utf8'));
  const { ftpx } = JSON.parse(text) as { ftpx: unknown };
  // parseParameters throws unless `ftpx` is valid input, so it is StackParametersInput from here on.
  const parameters = parseParameters(ftpx);
  return { input: ftpx as StackParametersInput, parameters };
}

/** The context file `cdk synth -c config=<file>` reads. */
export function contextFile(ftpx: StackParametersInput): string {
  return JSON.stringify({ ftpx });
}
