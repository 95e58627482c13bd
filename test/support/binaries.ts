import { accessSync, constants } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The repository root: this file lives in <root>/test/support. */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

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
