import type { Pool } from '../../../functions/contract/registry.js';
import { UsageError } from '../usage.js';
import { type CommandGroup, LIMIT_OPTION, limitOf, noteMore, type OptionSpec, quoted } from './command.js';
import { formatFields, formatTable, orDash } from './output.js';

const SETTINGS: Record<string, OptionSpec> = {
  policy: {
    type: 'string',
    value: 'POLICY',
    description:
      'connect policy: RoundRobin, Random, Shuffle, LeastConns, LeastResponseTime, PerUser, PerGroup, PerHost',
  },
  description: { type: 'string', value: 'TEXT', description: 'free text for operators' },
  'proxy-auth': {
    type: 'string',
    value: 'on|off',
    description:
      "on: the pool's edge workers check clients themselves (proxyAuth); needed for backend URLs with a password",
  },
};

function settingsOf(options: { string(name: string): string | undefined }) {
  const policy = options.string('policy');
  const description = options.string('description');
  const proxyAuth = options.string('proxy-auth');
  if (proxyAuth !== undefined && proxyAuth !== 'on' && proxyAuth !== 'off') {
    throw new UsageError(`--proxy-auth takes on or off, not "${proxyAuth}"`);
  }
  return {
    ...(policy !== undefined ? { connectPolicy: policy } : {}),
    ...(description !== undefined ? { description } : {}),
    ...(proxyAuth !== undefined ? { proxyAuth: proxyAuth === 'on' } : {}),
  };
}

export function poolFields(pool: Pool): string {
  return formatFields([
    ['name', pool.name],
    ['connect policy', orDash(pool.connectPolicy)],
    ['description', pool.description],
    ['proxy auth', pool.proxyAuth ? 'on' : 'off'],
    ['version', String(pool.version)],
    ['created', pool.createdAt],
    ['updated', pool.updatedAt],
  ]);
}

export const poolCommands: CommandGroup = {
  name: 'pools',
  summary: 'the pools edge workers serve',
  commands: [
    {
      name: 'list',
      args: [],
      options: LIMIT_OPTION,
      summary: 'list the pools (a token restricted to pools sees only those)',
      run: async (context) => {
        const page = await context.api.list<Pool>(['v1', 'pools'], limitOf(context.options));
        context.print(
          page,
          page.items.length === 0
            ? 'no pools\n'
            : formatTable(
                ['NAME', 'POLICY', 'DESCRIPTION'],
                page.items.map((pool) => [pool.name, orDash(pool.connectPolicy), orDash(pool.description)]),
              ),
        );
        noteMore(context, page);
      },
    },
    {
      name: 'get',
      args: ['NAME'],
      summary: 'show one pool',
      run: async (context) => {
        const [name = ''] = context.args;
        const pool = await context.api.call<Pool>('GET', ['v1', 'pools', name]);
        context.print(pool, poolFields(pool));
      },
    },
    {
      name: 'create',
      args: ['NAME'],
      options: SETTINGS,
      summary: 'create a pool (admin token)',
      run: async (context) => {
        const [name = ''] = context.args;
        const pool = await context.api.call<Pool>('POST', ['v1', 'pools'], {
          body: { name, ...settingsOf(context.options) },
        });
        context.print(pool, `created pool ${quoted(pool.name)}${policyNote(pool)}\n`);
      },
    },
    {
      name: 'update',
      args: ['NAME'],
      options: SETTINGS,
      summary: "change a pool's connect policy, description or proxy authentication",
      run: async (context) => {
        const [name = ''] = context.args;
        const settings = settingsOf(context.options);
        if (Object.keys(settings).length === 0)
          throw new UsageError('give --policy, --description or --proxy-auth');
        const pool = await context.api.call<Pool>('PATCH', ['v1', 'pools', name], { body: settings });
        context.print(pool, `updated pool ${quoted(pool.name)}${policyNote(pool)}\n`);
      },
    },
    {
      name: 'delete',
      args: ['NAME'],
      summary: 'delete an empty pool (admin token)',
      run: async (context) => {
        const [name = ''] = context.args;
        await context.api.call('DELETE', ['v1', 'pools', name]);
        context.print(undefined, `deleted pool ${quoted(name)}\n`);
      },
    },
  ],
};

function policyNote(pool: Pool): string {
  return pool.connectPolicy ? ` (connect policy ${pool.connectPolicy})` : '';
}
