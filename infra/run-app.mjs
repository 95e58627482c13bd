// The CDK app's entry (cdk.json "app"): bundles infra/bin/ftpx.ts with esbuild (packages stay
// external) and runs it, so `cdk synth` needs neither a TypeScript build nor ts-node.
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, 'cdk.out', '.app');
mkdirSync(outDir, { recursive: true });
// One bundle per synth: two at once (the stack tests) must not write one while the other imports it.
// Beside infra/, where its external packages resolve; removed once the app has run.
const outfile = join(outDir, `ftpx-app-${process.pid}.mjs`);
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
try {
  await import(pathToFileURL(outfile).href);
} finally {
  rmSync(outfile, { force: true });
}
