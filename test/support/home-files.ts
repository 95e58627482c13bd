import { chown, mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';

/**
 * Writes a file below a backend's home (creating directories) and hands it, like the home itself, to the
 * uid the server runs sessions as, so that the server can read, overwrite, append to and delete it.
 * Returns the absolute path. For a large file, make it empty here and then fill it:
 * `await makeRandomFile(await writeHomeFile(backend, 'big.bin', ''), size)` keeps the ownership.
 */
export async function writeHomeFile(
  backend: { homeDir: string },
  relPath: string,
  content: Buffer | string,
): Promise<string> {
  const path = resolve(backend.homeDir, relPath);
  if (relative(backend.homeDir, path).startsWith('..')) {
    throw new Error(`writeHomeFile: ${relPath} is outside ${backend.homeDir}`);
  }
  const { uid, gid } = await stat(backend.homeDir);
  const firstCreated = await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  if (firstCreated !== undefined) {
    for (let dir = dirname(path); dir.length >= firstCreated.length; dir = dirname(dir)) {
      await chown(dir, uid, gid);
    }
  }
  await writeFile(path, content, { mode: 0o644 });
  await chown(path, uid, gid);
  return path;
}
