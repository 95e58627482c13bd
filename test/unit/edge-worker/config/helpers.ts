import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { ConfigError, type ConfigIssue } from '../../../../edge-worker/config/config-error.js';

/** Runs `fn`, expects a ConfigError, and returns its issues. */
export function configIssues(fn: () => unknown): ConfigIssue[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues;
  }
  throw new Error('expected a ConfigError, but nothing was thrown');
}

/** A fresh temporary directory holding the given files (relative names; sub-directories are not created). */
export function tempDir(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'ftpx-config-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** Text from lines, so tests can name line numbers by position. */
export const lines = (...rows: string[]) => `${rows.join('\n')}\n`;
