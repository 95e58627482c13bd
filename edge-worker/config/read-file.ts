import { readFileSync } from 'node:fs';
import { ConfigError } from './config-error.js';

/** The operating system's reason for a failed file operation, e.g. "no such file or directory (ENOENT)". */
export function describeFsError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  // Node formats these as "ENOENT: no such file or directory, open 'x'"; the file is reported separately.
  const match = /^([A-Z0-9_]+): (.*?)(?:, \w+ '.*')?$/s.exec(error.message);
  if (match?.[2]) return `${match[2]} (${match[1]})`;
  return code ? `${error.message} (${code})` : error.message;
}

/** Reads a configuration file as UTF-8; a missing or unreadable file becomes a ConfigError naming it. */
export function readConfigText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(
      [{ file, message: `cannot read the configuration file: ${describeFsError(error)}` }],
      {
        cause: error,
      },
    );
  }
}
