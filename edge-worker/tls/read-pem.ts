import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../config/config-error.js';

/** Reads a PEM (or other) file named by the configuration; a failure is a ConfigError naming the key and file. */
export async function readConfigFile(path: string, key: string, source: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(
      [{ file: source, key, message: `cannot read ${path}: ${(err as Error).message}` }],
      {
        cause: err,
      },
    );
  }
}

/**
 * Every PEM block of `label` ("CERTIFICATE", "X509 CRL") in the regular files of a directory, as
 * OpenSSL's hashed CA / CRL directories hold them (`<hash>.0`, `<hash>.r0`) or plain `*.pem` files.
 * Node has no CApath, so the directory is read once at start: files added later need a restart.
 */
export async function readPemDirectory(
  dir: string,
  label: string,
  key: string,
  source: string,
): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw new ConfigError(
      [{ file: source, key, message: `cannot read directory ${dir}: ${(err as Error).message}` }],
      {
        cause: err,
      },
    );
  }
  const blocks: string[] = [];
  const pattern = new RegExp(`-----BEGIN ${label}-----[\\s\\S]*?-----END ${label}-----`, 'g');
  for (const name of names.sort()) {
    const path = join(dir, name);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) continue;
    const text = await readFile(path, 'utf8').catch(() => '');
    blocks.push(...(text.match(pattern) ?? []));
  }
  if (blocks.length === 0) {
    throw new ConfigError([{ file: source, key, message: `${dir} holds no PEM ${label} block` }]);
  }
  return blocks;
}
