import type { Ban } from '../../../functions/contract/abuse.js';
import { parseDuration } from '../../config/duration.js';
import { UsageError } from '../usage.js';
import type { CommandGroup } from './command.js';
import { formatTable, orDash } from './output.js';

const KINDS = ['host', 'user', 'class'];

function kindOf(value: string | undefined): string {
  if (value === undefined || !KINDS.includes(value))
    throw new UsageError(`the kind is host, user or class (got ${value ?? 'nothing'})`);
  return value;
}

function expiresText(ban: Ban): string {
  return ban.expiresAt === undefined ? 'never' : new Date(ban.expiresAt * 1000).toISOString();
}

/** `ftpx bans list|add|remove`: mod_ban's ban list (ftpdctl ban), shared by every edge worker. */
export const banCommands: CommandGroup = {
  name: 'bans',
  summary: 'banned hosts, users and classes, shared by every edge worker (admin token)',
  commands: [
    {
      name: 'list',
      args: [],
      summary: 'list the live bans, autobans included',
      run: async (context) => {
        const answer = await context.api.call<{ items: Ban[] }>('GET', ['v1', 'bans']);
        context.print(
          answer,
          answer.items.length === 0
            ? 'no bans\n'
            : formatTable(
                ['KIND', 'VALUE', 'EXPIRES', 'REASON', 'MESSAGE'],
                answer.items.map((ban) => [
                  ban.kind,
                  ban.value,
                  expiresText(ban),
                  ban.reason,
                  orDash(ban.message),
                ]),
              ),
        );
      },
    },
    {
      name: 'add',
      args: ['KIND', 'VALUE'],
      options: {
        for: {
          type: 'string',
          value: 'DURATION',
          description: 'how long (30m, 2h, 1d, 00:10:00); default: until removed',
        },
        reason: { type: 'string', value: 'TEXT', description: 'why (shown by list)' },
        message: {
          type: 'string',
          value: 'TEXT',
          description: 'what the client is told (%a address, %u user, %c class); default BanMessage',
        },
      },
      summary: 'ban a host (client address or network: 203.0.113.0/24), user or class on every node',
      run: async (context) => {
        const [kindArg, value = ''] = context.args;
        const kind = kindOf(kindArg);
        const duration = context.options.string('for');
        let seconds: number | undefined;
        if (duration !== undefined) {
          const ms = parseDuration(duration);
          if (ms === undefined || ms < 1000)
            throw new UsageError(`--for: not a duration of a second or more: ${duration}`);
          seconds = Math.ceil(ms / 1000);
        }
        const reason = context.options.string('reason');
        const message = context.options.string('message');
        const ban = await context.api.call<Ban>('PUT', ['v1', 'bans', kind, value], {
          body: {
            ...(reason !== undefined ? { reason } : {}),
            ...(message !== undefined ? { message } : {}),
            ...(seconds !== undefined ? { expiresInSeconds: seconds } : {}),
          },
        });
        context.print(ban, `banned ${ban.kind} ${ban.value} (expires ${expiresText(ban)})\n`);
      },
    },
    {
      name: 'remove',
      args: ['KIND', 'VALUE'],
      summary: 'lift a ban',
      run: async (context) => {
        const [kindArg, value = ''] = context.args;
        const kind = kindOf(kindArg);
        await context.api.call('DELETE', ['v1', 'bans', kind, value]);
        context.print(undefined, `lifted the ban of ${kind} ${value}\n`);
      },
    },
  ],
};
