import type { ConfigIssue } from './config-error.js';
import type { FtpxConfig } from './schema.js';

export type ConfigKind = 'yaml' | 'proftpd';

export interface ConfigSource {
  kind: ConfigKind;
  file: string;
}

/** A validated configuration, the warnings found while reading it, and where it came from. */
export interface LoadedConfig {
  config: FtpxConfig;
  warnings: ConfigIssue[];
  source: ConfigSource;
}
