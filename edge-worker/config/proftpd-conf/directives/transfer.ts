import { type DirectiveRow, handled, setting } from '../directive-row.js';
import { logFile } from './arguments.js';

/** mod_xfer's directives (http://www.proftpd.org/docs/modules/mod_xfer.html): the transfer log and rates. */

/** Commands TransferRate can limit. */
const RATE_COMMANDS = ['RETR', 'STOR', 'APPE', 'STOU', 'LIST', 'NLST', 'MLSD'];

export const TRANSFER_ROWS: DirectiveRow[] = [
  // Process-wide in ftpx, like ProxyLog (build-logs.ts).
  setting('TransferLog', logFile),
  handled({
    name: 'TransferRate',
    parse: (line) => {
      const { args } = line.node;
      const [list = '', rate = '', ...rest] = args;
      if (args.length < 2) {
        line.fail('takes a command list and a rate, e.g. "TransferRate RETR,STOR 100:1024"');
        return undefined;
      }
      // `user|group|class name[,name...]` (mod_xfer's conditions); AND, OR and regex forms are not read.
      let condition: { users?: string[]; groups?: string[]; classes?: string[] } = {};
      if (rest.length > 0) {
        const [kind = '', ...names] = rest;
        const list = names.flatMap((name) => name.split(',')).filter(Boolean);
        const key = ({ user: 'users', group: 'groups', class: 'classes' } as const)[
          kind.toLowerCase() as 'user'
        ];
        if (
          !key ||
          list.length === 0 ||
          list.some((name) => name.startsWith('!') || /^(and|or|regex)$/i.test(name))
        ) {
          line.fail(
            `expected "user|group|class name[,name...]" after the rate, got "${rest.join(' ')}" (AND, OR, regex and !name are not supported by ftpx)`,
          );
          return undefined;
        }
        condition = { [key]: list };
      }
      const commands = list.split(',').map((command) => command.trim().toUpperCase());
      const unknown = commands.filter((command) => !RATE_COMMANDS.includes(command));
      const match = /^(\d+(?:\.\d+)?)(?::(\d+))?$/.exec(rate);
      if (unknown.length > 0)
        line.fail(`cannot limit ${unknown.join(', ')} (only ${RATE_COMMANDS.join(', ')})`);
      else if (!match || Number(match[1]) <= 0)
        line.fail(`"${rate}" is not a rate in KB/s (optionally :free-bytes)`);
      else
        return { commands, kibPerSecond: Number(match[1]), freeBytes: Number(match[2] ?? 0), ...condition };
      return undefined;
    },
    apply: ({ node, scope }, rule) => {
      // Several TransferRate lines add up; the first naming a command (and holding) wins, as in the
      // native config, so the ones with conditions go first: a general line never hides them.
      const previous = scope.settings.TransferRate?.value ?? [];
      const conditional = (entry: typeof rule) => Boolean(entry.users || entry.groups || entry.classes);
      const rules = conditional(rule)
        ? [...previous.filter(conditional), rule, ...previous.filter((entry) => !conditional(entry))]
        : [...previous, rule];
      scope.settings.TransferRate = { value: rules, loc: node.loc, name: node.name };
    },
  }),
];
