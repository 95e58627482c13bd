import { join, resolve } from 'node:path';
import { type BuildOptions, build } from 'esbuild';
import type { FunctionSpec } from './functions.js';

/**
 * CommonJS packages bundled into an ESM file still call `require` for Node's built-ins; this gives
 * them one (esbuild leaves `require` of externals as is).
 */
const ESM_REQUIRE_BANNER = [
  "import { createRequire as ftpxCreateRequire } from 'node:module';",
  "import { fileURLToPath as ftpxFileURLToPath } from 'node:url';",
  "import { dirname as ftpxDirname } from 'node:path';",
  'const require = ftpxCreateRequire(import.meta.url);',
  // CommonJS dependencies bundled into ESM may read these (ssh2 does, for its wasm poly1305).
  'const __filename = ftpxFileURLToPath(import.meta.url);',
  'const __dirname = ftpxDirname(__filename);',
].join(' ');

/**
 * How every function is bundled, in one place for both paths: NodejsFunction's own bundling (one
 * esbuild process per function, run one after another while the stack is constructed) and
 * `bundleFunctions` (all functions in one esbuild build, what `cdk synth` uses).
 */
export const FUNCTION_BUNDLING = {
  format: 'esm',
  target: 'node22',
  platform: 'node',
  mainFields: ['module', 'main'],
  // The AWS SDK is bundled too: the function runs the SDK version the tests ran, not Lambda's.
  // ssh2's native add-ons (the health check's SSH probe) stay out: ssh2 requires them inside
  // try/catch and uses its JavaScript crypto without them, which a key exchange probe can afford.
  externalModules: ['*.node', 'cpu-features'],
  minify: true,
  sourceMap: true,
  banner: ESM_REQUIRE_BANNER,
} as const;

/** FUNCTION_BUNDLING as esbuild's own options: what every direct esbuild build of a function uses. */
export function functionBuildOptions(): BuildOptions {
  return {
    bundle: true,
    format: FUNCTION_BUNDLING.format,
    target: FUNCTION_BUNDLING.target,
    platform: FUNCTION_BUNDLING.platform,
    mainFields: [...FUNCTION_BUNDLING.mainFields],
    external: [...FUNCTION_BUNDLING.externalModules],
    minify: FUNCTION_BUNDLING.minify,
    sourcemap: FUNCTION_BUNDLING.sourceMap,
    banner: { js: FUNCTION_BUNDLING.banner },
  };
}

/** The file NodejsFunction writes for an ESM bundle; its handler is `index.<export>`. */
export const BUNDLE_FILE = 'index.mjs';

/**
 * Bundles every function with one esbuild build: esbuild parses the modules the functions share
 * once and works on all entries in parallel, where NodejsFunction spawns one esbuild per function
 * in turn (minutes on a busy CI machine). Each function gets its own directory `<prefix><name>` in
 * `outDir`, laid out as NodejsFunction's asset (`index.mjs` and its source map), returned by
 * function name. Give the cloud assembly's directory: the assets are copied to its top level, where
 * the source maps' relative paths still lead to the sources.
 */
export async function bundleFunctions(
  repoRoot: string,
  functions: readonly FunctionSpec[],
  outDir: string,
  prefix: string,
): Promise<Map<string, string>> {
  // `cdk synth` gives the app a relative outdir (cdk.out, from infra/); esbuild would resolve it from
  // absWorkingDir (the repository root), the asset paths from the working directory.
  const out = resolve(outDir);
  await build({
    absWorkingDir: repoRoot,
    entryPoints: functions.map((spec) => ({
      in: join(repoRoot, spec.entry),
      out: `${prefix}${spec.name}/index`,
    })),
    outdir: out,
    outExtension: { '.js': '.mjs' },
    ...functionBuildOptions(),
    logLevel: 'warning',
  });
  return new Map(functions.map((spec) => [spec.name, join(out, `${prefix}${spec.name}`)]));
}
