import { parseYamlConfig } from './load-yaml.js';
import type { ConfigSource, LoadedConfig } from './loaded-config.js';
import { parseProftpdConfig } from './proftpd-conf.js';
import { readConfigText } from './read-file.js';

/**
 * Reads and validates a configuration file: native YAML or a ProFTPD mod_proxy configuration.
 * Throws ConfigError (never exits) when the file cannot be read or is not valid.
 */
export function loadConfig(source: ConfigSource): LoadedConfig {
  const text = readConfigText(source.file);
  return source.kind === 'yaml' ? parseYamlConfig(source.file, text) : parseProftpdConfig(source.file, text);
}
