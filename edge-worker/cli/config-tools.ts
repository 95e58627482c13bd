import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { proftpdConfToYaml } from '../config/proftpd-conf/to-yaml.js';
import { embedConfigReference, renderConfigReference } from '../config/reference.js';
import { UsageError } from './usage.js';

/** `ftpx import-proftpd-conf FILE`: the native YAML on standard output. */
export function importProftpdConfCommand(args: string[]): number {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  if (positionals.length !== 1) throw new UsageError('import-proftpd-conf needs exactly one proftpd.conf');
  process.stdout.write(proftpdConfToYaml(positionals[0] as string));
  return 0;
}

/** `ftpx config-reference`: every native key with type, default and the directive it replaces. */
export function configReferenceCommand(args: string[]): number {
  const { values } = parseArgs({
    args,
    allowPositionals: false,
    options: { format: { type: 'string' }, 'update-doc': { type: 'string' } },
  });
  const doc = values['update-doc'];
  if (doc !== undefined) {
    // Rewrites the generated table of a document (docs/configuration.md) in place.
    writeFileSync(doc, embedConfigReference(readFileSync(doc, 'utf8')));
    return 0;
  }
  const format = values.format ?? 'markdown';
  if (format !== 'markdown' && format !== 'text') {
    throw new UsageError(`--format must be markdown or text (got "${format}")`);
  }
  process.stdout.write(renderConfigReference(format));
  return 0;
}
