import { dirname, isAbsolute, resolve } from 'node:path';
import {
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  visit,
} from 'yaml';
import { ConfigError, type ConfigIssue } from './config-error.js';
import type { LoadedConfig } from './loaded-config.js';
import { configSchema, type FtpxConfig } from './schema.js';
import {
  describeSchemaIssue,
  formatKeyPath,
  hasValueAt,
  type KeyPath,
  type SchemaIssue,
  unknownKeyMessage,
} from './zod-issues.js';

/**
 * Parses and validates a native ftpx YAML configuration. `file` names the text in messages and anchors
 * relative paths (`dataDir`, `log.file`), which are resolved against the file's directory.
 * Throws ConfigError listing every problem, each with its line.
 */
export function parseYamlConfig(file: string, text: string): LoadedConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const position = (offset: number) => lineCounter.linePos(offset);

  const warnings: ConfigIssue[] = doc.warnings.map((warning) => ({
    file,
    line: position(warning.pos[0]).line,
    message: `YAML: ${warning.message}`,
  }));
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((error) => {
        const { line, col } = position(error.pos[0]);
        return { file, line, message: `YAML syntax error at column ${col}: ${error.message}` };
      }),
    );
  }

  let input: unknown;
  try {
    input = doc.toJS();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const issue: ConfigIssue = { file, message: `cannot read the YAML document: ${reason}` };
    // The usual cause is an alias without its anchor; point at the first such alias.
    visit(doc, {
      Alias(_, node) {
        if (node.range && node.resolve(doc) === undefined) {
          issue.line = position(node.range[0]).line;
          return visit.BREAK;
        }
      },
    });
    throw new ConfigError([issue], { cause: error });
  }
  if (input === null || input === undefined) {
    throw new ConfigError([
      { file, message: 'the file is empty: expected a mapping with "listeners" and "pools"' },
    ]);
  }

  const result = configSchema.safeParse(input);
  if (!result.success) {
    const locate = (path: KeyPath) => lineOfPath(doc, path, (offset) => position(offset).line);
    throw new ConfigError(issuesFromSchema(file, result.error.issues, input, locate), {
      cause: result.error,
    });
  }
  return { config: resolvePaths(result.data, dirname(file)), warnings, source: { kind: 'yaml', file } };
}

function issuesFromSchema(
  file: string,
  schemaIssues: readonly SchemaIssue[],
  input: unknown,
  locate: (path: KeyPath) => number | undefined,
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const add = (path: KeyPath, message: string) => {
    const issue: ConfigIssue = { file, message };
    const line = locate(path);
    if (line !== undefined) issue.line = line;
    const key = formatKeyPath(path);
    if (key !== '') issue.key = key;
    issues.push(issue);
  };
  for (const issue of schemaIssues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) add([...issue.path, key], unknownKeyMessage(issue.path, key));
    } else {
      add(issue.path, describeSchemaIssue(issue, hasValueAt(input, issue.path)));
    }
  }
  // Report in file order; issues without a line (none expected) go last. Array.sort is stable.
  return issues.sort((a, b) => (a.line ?? Number.MAX_SAFE_INTEGER) - (b.line ?? Number.MAX_SAFE_INTEGER));
}

/**
 * The line of the node at `path`: for a map entry the line of its key, for a sequence item the item's
 * first line. When the path does not exist (a missing key), the line of the deepest part that does.
 */
function lineOfPath(doc: Document, path: KeyPath, lineOf: (offset: number) => number): number | undefined {
  const nodeLine = (node: unknown): number | undefined => {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    return range ? lineOf(range[0]) : undefined;
  };
  let node: unknown = doc.contents;
  let line = nodeLine(node);
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => isScalar(item.key) && String(item.key.value) === String(segment),
      );
      if (!pair) return line;
      line = nodeLine(pair.key) ?? nodeLine(pair.value) ?? line;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item: unknown = node.items[segment];
      if (item === undefined) return line;
      line = (isPair(item) ? nodeLine(item.key) : nodeLine(item)) ?? line;
      node = isPair(item) ? item.value : item;
    } else {
      return line;
    }
  }
  return line;
}

/** Relative `dataDir` and `log.file` are taken relative to the configuration file's directory. */
export function resolvePaths(config: FtpxConfig, baseDir: string): FtpxConfig {
  const absolute = (path: string) => (isAbsolute(path) ? path : resolve(baseDir, path));
  const log =
    typeof config.log.file !== 'string' ? config.log : { ...config.log, file: absolute(config.log.file) };
  return { ...config, dataDir: absolute(config.dataDir), log };
}
