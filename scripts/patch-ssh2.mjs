#!/usr/bin/env node
// Raises ssh2's fixed SSH channel window (lib/Channel.js MAX_WINDOW, 2 MiB), which caps the
// throughput of a relay: every channel waits for window adjustments after 2 MiB in flight. ssh2
// offers no option for it and reads the constant when its modules load, so the installed file is
// edited. Idempotent; run from `postinstall` and scripts/test.sh.
//
//   node scripts/patch-ssh2.mjs                 # 8 MiB (the default)
//   node scripts/patch-ssh2.mjs --window-mib=16
//   node scripts/patch-ssh2.mjs --revert        # ssh2's own 2 MiB
//   node scripts/patch-ssh2.mjs --check         # prints the window in use, changes nothing
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const DEFAULT_MIB = 8;
const ORIGINAL_MIB = 2;
const PATTERN = /const MAX_WINDOW = (\d+) \* 1024 \* 1024;(?: \/\/ ftpx: .*)?/;

const args = process.argv.slice(2);
const require = createRequire(import.meta.url);
let channelFile;
try {
  channelFile = join(dirname(require.resolve('ssh2/package.json')), 'lib', 'Channel.js');
} catch {
  console.log('patch-ssh2: ssh2 is not installed; nothing to do');
  process.exit(0);
}
const source = readFileSync(channelFile, 'utf8');
const match = PATTERN.exec(source);
if (!match) {
  console.error(`patch-ssh2: ${channelFile} has no MAX_WINDOW line this script knows; ssh2 changed?`);
  process.exit(1);
}
const current = Number(match[1]);
if (args.includes('--check')) {
  console.log(`ssh2 channel window: ${current} MiB (${channelFile})`);
  process.exit(0);
}
const option = args.find((arg) => arg.startsWith('--window-mib='));
const wanted = args.includes('--revert') ? ORIGINAL_MIB : option ? Number(option.split('=')[1]) : DEFAULT_MIB;
if (!Number.isInteger(wanted) || wanted < 1 || wanted > 64) {
  console.error('patch-ssh2: --window-mib must be an integer from 1 to 64');
  process.exit(1);
}
if (wanted === current) {
  console.log(`ssh2 channel window already ${current} MiB`);
  process.exit(0);
}
const line =
  wanted === ORIGINAL_MIB
    ? `const MAX_WINDOW = ${wanted} * 1024 * 1024;`
    : `const MAX_WINDOW = ${wanted} * 1024 * 1024; // ftpx: scripts/patch-ssh2.mjs (ssh2: 2 MiB)`;
writeFileSync(channelFile, source.replace(PATTERN, line));
console.log(`ssh2 channel window: ${current} MiB -> ${wanted} MiB (${channelFile})`);
