import { backendCommands } from './backends.js';
import { banCommands } from './bans.js';
import { type CommandGroup, DEFAULT_API_URL, type Io, runCommandGroup } from './command.js';
import { mappingCommands } from './mappings.js';
import { poolCommands } from './pools.js';
import { proxyUserCommands } from './proxy-users.js';
import { tlsCacheCommands } from './tls-cache.js';
import { tokenCommands } from './tokens.js';

/** The operator commands over the registry API, by their first word. */
export const OPERATOR_GROUPS: readonly CommandGroup[] = [
  poolCommands,
  backendCommands,
  mappingCommands('user'),
  mappingCommands('group'),
  proxyUserCommands,
  tokenCommands,
  tlsCacheCommands,
  banCommands,
];

export function operatorGroup(name: string): CommandGroup | undefined {
  return OPERATOR_GROUPS.find((group) => group.name === name);
}

/** For `ftpx --help`. */
export const OPERATOR_USAGE = `Operator commands (over a control plane's registry API):
${OPERATOR_GROUPS.map(
  (group) => `  ftpx ${group.name.padEnd(12)} ${group.commands.map((command) => command.name).join('|')} ...`,
).join('\n')}
  Common options: --api URL (else FTPX_API_URL, else ${DEFAULT_API_URL}), --token TOKEN
  (else FTPX_API_TOKEN), --json (the API's JSON). "ftpx backends --help" and the like describe each.
  Exit codes: 1 when the API refuses or cannot be reached, 2 for a wrong command line.
`;

/** The real process's standard streams and environment. */
export function processIo(): Io {
  return {
    env: process.env,
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin)
        chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      return Buffer.concat(chunks).toString('utf8');
    },
  };
}

export { runCommandGroup };
