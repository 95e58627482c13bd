import { accessSync, constants, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository root, with a trailing slash: the nearest folder above this file that holds
 * package.json. This file runs from test/support under vitest and from dist/test/support in the benchmark.
 */
export const repoRoot = findRepoRoot(dirname(fileURLToPath(import.meta.url)));

function findRepoRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return `${dir}/`;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${start}`);
  }
}

/**
 * vsftpd and pure-ftpd conflict with ProFTPD as Debian packages, so scripts/install-test-deps.sh unpacks
 * them into .cache/debian/root instead of installing them; a system-wide install still wins.
 */
const unpackedRoot = `${repoRoot}.cache/debian/root`;

/** Finds a server binary such as `/usr/sbin/vsftpd`, or throws naming the script that installs it. */
export function findBinary(systemPath: string): string {
  for (const candidate of [systemPath, `${unpackedRoot}${systemPath}`]) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Try the next location.
    }
  }
  throw new Error(
    `${systemPath} not found (also looked in ${unpackedRoot}); run \`bash scripts/install-test-deps.sh\``,
  );
}
