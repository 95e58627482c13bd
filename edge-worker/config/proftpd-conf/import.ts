import type { ConfigIssue } from '../config-error.js';
import { type BuiltConfig, buildConfig } from './build.js';
import type { ConfigNode } from './lexer.js';
import { ImportState } from './state.js';
import { walkTree } from './walk.js';

export type { Origin } from './state.js';

export interface ImportResult extends BuiltConfig {
  /** Meaningful only when `errors` is empty. */
  errors: ConfigIssue[];
  warnings: ConfigIssue[];
}

/** Maps a proftpd.conf tree (see lexer.ts) onto ftpx's native configuration, collecting every problem. */
export function importProftpdTree(file: string, nodes: ConfigNode[]): ImportResult {
  const state = new ImportState(file);
  walkTree(nodes, state);
  const built = buildConfig(state);
  return { ...built, errors: state.issues.errors, warnings: state.issues.warnings };
}
