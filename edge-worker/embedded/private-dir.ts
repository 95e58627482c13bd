import { chmod, mkdir, stat } from 'node:fs/promises';

/**
 * Creates `dir` (and missing parents) readable by this user only, and takes an existing one back
 * to 0700 when this user owns it: dataDir holds the store (password hashes, TLS ticket keys,
 * backend credentials), which no other local account may read.
 */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const info = await stat(dir);
  const uid = process.getuid?.();
  if ((info.mode & 0o077) !== 0 && (uid === undefined || info.uid === uid)) await chmod(dir, 0o700);
}
