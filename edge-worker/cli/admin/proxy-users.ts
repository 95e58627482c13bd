import type { ProxyUser } from '../../../functions/contract/registry.js';
import { UsageError } from '../usage.js';
import {
  type CommandContext,
  type CommandGroup,
  type CommandSpec,
  commaList,
  LIMIT_OPTION,
  limitOf,
  noteMore,
  type OptionSpec,
  quoted,
} from './command.js';
import { formatFields, formatTable, orDash, yesNo } from './output.js';

const PASSWORD_STDIN: Record<string, OptionSpec> = {
  'password-stdin': {
    type: 'boolean',
    description: 'read the password from standard input (one trailing newline is dropped)',
  },
};

/** The password from standard input: never from the command line, where ps shows it. */
async function passwordOf(context: CommandContext): Promise<string> {
  if (!context.options.flag('password-stdin')) {
    throw new UsageError('give the password on standard input with --password-stdin');
  }
  const password = (await context.io.readStdin()).replace(/\r?\n$/, '');
  if (password === '') throw new UsageError('the password on standard input is empty');
  return password;
}

function fields(user: ProxyUser): string {
  return formatFields([
    ['pool', user.pool],
    ['name', user.name],
    ['primary group', user.primaryGroup],
    ['groups', orDash(user.groups.join(', '))],
    ['enabled', yesNo(user.enabled)],
    ['version', String(user.version)],
    ['created', user.createdAt],
    ['updated', user.updatedAt],
  ]);
}

function patch(
  name: string,
  summary: string,
  body: (context: CommandContext) => Promise<object>,
  done: string,
): CommandSpec {
  return {
    name,
    args: ['POOL', 'NAME'],
    ...(name === 'set-password' ? { options: PASSWORD_STDIN } : {}),
    summary,
    run: async (context) => {
      const [pool = '', user = ''] = context.args;
      const updated = await context.api.call<ProxyUser>('PATCH', ['v1', 'pools', pool, 'proxy-users', user], {
        body: await body(context),
      });
      context.print(updated, `${done} proxy user ${quoted(updated.name)} of pool ${quoted(pool)}\n`);
    },
  };
}

export const proxyUserCommands: CommandGroup = {
  name: 'proxy-users',
  summary: 'users the proxy itself authenticates (passwords are stored hashed, never shown)',
  commands: [
    {
      name: 'list',
      args: ['POOL'],
      options: LIMIT_OPTION,
      summary: "list a pool's proxy users",
      run: async (context) => {
        const [pool = ''] = context.args;
        const page = await context.api.list<ProxyUser>(
          ['v1', 'pools', pool, 'proxy-users'],
          limitOf(context.options),
        );
        context.print(
          page,
          page.items.length === 0
            ? `no proxy users in pool ${quoted(pool)}\n`
            : formatTable(
                ['NAME', 'PRIMARY GROUP', 'GROUPS', 'ENABLED'],
                page.items.map((user) => [
                  user.name,
                  user.primaryGroup,
                  orDash(user.groups.join(',')),
                  yesNo(user.enabled),
                ]),
              ),
        );
        noteMore(context, page);
      },
    },
    {
      name: 'get',
      args: ['POOL', 'NAME'],
      summary: 'show one proxy user',
      run: async (context) => {
        const [pool = '', name = ''] = context.args;
        const user = await context.api.call<ProxyUser>('GET', ['v1', 'pools', pool, 'proxy-users', name]);
        context.print(user, fields(user));
      },
    },
    {
      name: 'create',
      args: ['POOL', 'NAME'],
      options: {
        'primary-group': {
          type: 'string',
          value: 'GROUP',
          description: "the user's primary group (required)",
        },
        groups: { type: 'string', value: 'A,B', description: 'its other groups' },
        disabled: { type: 'boolean', description: 'create it disabled' },
        ...PASSWORD_STDIN,
      },
      summary: 'create a proxy user; the password comes from standard input',
      run: async (context) => {
        const [pool = '', name = ''] = context.args;
        const { options } = context;
        const primaryGroup = options.required('primary-group');
        const groups = options.string('groups');
        const password = await passwordOf(context);
        const user = await context.api.call<ProxyUser>('POST', ['v1', 'pools', pool, 'proxy-users'], {
          body: {
            name,
            password,
            primaryGroup,
            ...(groups !== undefined ? { groups: commaList(groups) } : {}),
            enabled: !options.flag('disabled'),
          },
        });
        context.print(user, `created proxy user ${quoted(user.name)} in pool ${quoted(pool)}\n`);
      },
    },
    patch(
      'set-password',
      "change a proxy user's password (from standard input)",
      async (context) => ({
        password: await passwordOf(context),
      }),
      'changed the password of',
    ),
    patch('enable', 'let a proxy user log in again', async () => ({ enabled: true }), 'enabled'),
    patch('disable', 'refuse logins of a proxy user', async () => ({ enabled: false }), 'disabled'),
    {
      name: 'delete',
      args: ['POOL', 'NAME'],
      summary: 'delete a proxy user',
      run: async (context) => {
        const [pool = '', name = ''] = context.args;
        await context.api.call('DELETE', ['v1', 'pools', pool, 'proxy-users', name]);
        context.print(undefined, `deleted proxy user ${quoted(name)} of pool ${quoted(pool)}\n`);
      },
    },
  ],
};
