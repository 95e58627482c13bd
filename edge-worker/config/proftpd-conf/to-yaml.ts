import { Document } from 'yaml';
import { formatIssue } from '../config-error.js';
import { importProftpdConfig } from '../proftpd-conf.js';

/**
 * `ftpx import-proftpd-conf`: a proftpd.conf (mod_proxy, and what the importer knows of mod_tls and
 * mod_sftp) as native YAML. Everything the importer did not carry over (each warning, with file and
 * line) becomes a comment at the top; what it refuses throws ConfigError, as check-config reports it.
 * Defaults are left out, except `dataDir`, which is written out because the YAML file may live
 * somewhere else than the proftpd.conf whose directory it was relative to.
 */
export function proftpdConfToYaml(file: string, text?: string): string {
  const { loaded, input } = importProftpdConfig(file, text);
  const output = { ...input, dataDir: input.dataDir ?? loaded.config.dataDir };
  const doc = new Document(output);
  const notes = [
    ` ftpx configuration imported from ${file}`,
    ' (ftpx import-proftpd-conf; the keys are described in docs/configuration.md)',
  ];
  if (loaded.warnings.length > 0) {
    notes.push('', ' Not carried over:');
    for (const warning of loaded.warnings) notes.push(`   ${formatIssue(warning)}`);
  }
  if (input.dataDir === undefined) {
    notes.push(
      '',
      ` ProxyTables was not set: dataDir is "data" next to ${file}, as ftpx reads a proftpd.conf.`,
    );
  }
  doc.commentBefore = notes.join('\n');
  return doc.toString({ lineWidth: 0 });
}
