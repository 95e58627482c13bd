// The CDK app's entry (cdk.json "app"): bundles infra/bin/ftpx.ts with esbuild (packages stay
// external) and runs it, so `cdk synth` needs neither a TypeScript build nor ts-node.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
// In the assembly's own directory (CDK_OUTDIR, from `cdk synth -o`): two synths at once (the stack
// tests) must not write one bundle while the other imports it.
const outDir = join(process.env.CDK_OUTDIR ?? join(here, 'cdk.out'), '.app');
mkdirSync(outDir, { recursive: true });
const outfile = join(outDir, 'ftpx-app.mjs');
await build({
  entryPoints: [join(here, 'bin', 'ftpx.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: 'inline',
  logLevel: 'warning',
});
await import(pathToFileURL(outfile).href);
