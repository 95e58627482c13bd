import { createRequire } from 'node:module';

/**
 * The npm packages whose CommonJS files this process has loaded so far (undici, ssh2, dynalite, yaml
 * are CommonJS; vitest loads node_modules natively, so they land in require.cache). Each test file
 * runs in a process of its own, so what one file imports does not show in another's.
 */
export function loadedPackages(): Set<string> {
  const packages = new Set<string>();
  for (const file of Object.keys(createRequire(import.meta.url).cache)) {
    const match = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file);
    if (match?.[1]) packages.add(match[1]);
  }
  return packages;
}
