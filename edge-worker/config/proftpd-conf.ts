import { dirname } from 'node:path';
import { ConfigError, type ConfigIssue } from './config-error.js';
import { resolvePaths } from './load-yaml.js';
import type { LoadedConfig } from './loaded-config.js';
import { importProftpdTree } from './proftpd-conf/import.js';
import { lexConfig } from './proftpd-conf/lexer.js';
import { canonicalSectionName, SUPPORTED_SECTIONS } from './proftpd-conf/sections.js';
import { readConfigText } from './read-file.js';
import { type ConfigInput, configSchema } from './schema.js';
import { describeSchemaIssue, formatKeyPath, hasValueAt, unknownKeyMessage } from './zod-issues.js';

/** Sections whose content is not read: `<IfModule !...>`, and every section ftpx does not support. */
function skipSection(name: string, args: readonly string[]): boolean {
  const canonical = canonicalSectionName(name);
  if (canonical === 'IfModule') return (args[0] ?? '').startsWith('!');
  return !(SUPPORTED_SECTIONS as readonly (string | undefined)[]).includes(canonical);
}

/** Issues in reading order: by file (in the order files were read), then by line; line-less ones last. */
function sortIssues(issues: ConfigIssue[], files: readonly string[]): ConfigIssue[] {
  const rank = (issue: ConfigIssue) => {
    const index = files.indexOf(issue.file);
    return index < 0 ? files.length : index;
  };
  return issues
    .map((issue, order) => ({ issue, order }))
    .sort(
      (a, b) =>
        rank(a.issue) - rank(b.issue) ||
        (a.issue.line ?? Number.MAX_SAFE_INTEGER) - (b.issue.line ?? Number.MAX_SAFE_INTEGER) ||
        a.order - b.order,
    )
    .map(({ issue }) => issue);
}

/**
 * Reads a ProFTPD configuration that uses mod_proxy as a reverse proxy and turns it into ftpx's native
 * configuration. `text` is the content of `file` (read from disk when omitted); Include is followed on disk.
 * Each `<VirtualHost>` (and the main server) with `ProxyEngine on` becomes one pool and its listeners.
 * Throws ConfigError listing every problem with its file and line; returns warnings for what is ignored.
 */
export function parseProftpdConfig(file: string, text?: string): LoadedConfig {
  return importProftpdConfig(file, text).loaded;
}

/**
 * parseProftpdConfig, plus the native configuration as the importer wrote it (before defaults): what
 * `ftpx import-proftpd-conf` serialises.
 */
export function importProftpdConfig(
  file: string,
  text?: string,
): { loaded: LoadedConfig; input: ConfigInput } {
  const content = text ?? readConfigText(file);
  const lexed = lexConfig(file, content, { skipSection });
  const imported = importProftpdTree(file, lexed.nodes);
  const warnings = sortIssues([...lexed.warnings, ...imported.warnings], lexed.files);
  const errors = sortIssues([...lexed.errors, ...imported.errors], lexed.files);
  if (errors.length > 0) throw new ConfigError(errors);

  const result = configSchema.safeParse(imported.input);
  if (!result.success) {
    const issues: ConfigIssue[] = [];
    for (const issue of result.error.issues) {
      const paths =
        issue.code === 'unrecognized_keys'
          ? issue.keys.map((key) => ({
              path: [...issue.path, key],
              message: unknownKeyMessage(issue.path, key),
            }))
          : [
              {
                path: issue.path,
                message: describeSchemaIssue(issue, hasValueAt(imported.input, issue.path)),
              },
            ];
      for (const { path, message } of paths) {
        const origin = imported.locate(path);
        issues.push({ ...origin, message: `${message} (ftpx setting ${formatKeyPath(path)})` });
      }
    }
    throw new ConfigError(sortIssues(issues, lexed.files), { cause: result.error });
  }
  return {
    loaded: {
      config: resolvePaths(result.data, dirname(file)),
      warnings,
      source: { kind: 'proftpd', file },
    },
    input: imported.input,
  };
}
