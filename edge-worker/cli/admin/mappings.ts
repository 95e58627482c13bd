import type { GroupMapping, UserMapping } from '../../../functions/contract/registry.js';
import { type CommandGroup, LIMIT_OPTION, limitOf, noteMore, quoted } from './command.js';
import { formatFields, formatTable } from './output.js';

type Mapping = UserMapping | GroupMapping;

/**
 * `ftpx users ...` and `ftpx groups ...`: which backends a user (or a user's group) is sent to,
 * per pool. The two are the same but for the path and the name field.
 */
export function mappingCommands(kind: 'user' | 'group'): CommandGroup {
  const plural = kind === 'user' ? 'users' : 'groups';
  const NAME = kind === 'user' ? 'USER' : 'GROUP';
  const nameOf = (mapping: Mapping) => ('user' in mapping ? mapping.user : mapping.group);
  const path = (pool: string, name?: string) =>
    name === undefined ? ['v1', 'pools', pool, plural] : ['v1', 'pools', pool, plural, name, 'backends'];
  const fields = (mapping: Mapping) =>
    formatFields([
      ['pool', mapping.pool],
      [kind, nameOf(mapping)],
      ['backends', mapping.backends.join(', ')],
      ['version', String(mapping.version)],
      ['created', mapping.createdAt],
      ['updated', mapping.updatedAt],
    ]);
  return {
    name: plural,
    summary: `which backends a ${kind} is sent to, per pool`,
    commands: [
      {
        name: 'list',
        args: ['POOL'],
        options: LIMIT_OPTION,
        summary: `list the ${kind} mappings of a pool`,
        run: async (context) => {
          const [pool = ''] = context.args;
          const page = await context.api.list<Mapping>(path(pool), limitOf(context.options));
          context.print(
            page,
            page.items.length === 0
              ? `no ${kind} mappings in pool ${quoted(pool)}\n`
              : formatTable(
                  [NAME, 'BACKENDS'],
                  page.items.map((mapping) => [nameOf(mapping), mapping.backends.join(', ')]),
                ),
          );
          noteMore(context, page);
        },
      },
      {
        name: 'show',
        args: ['POOL', NAME],
        summary: `show the backends of one ${kind}`,
        run: async (context) => {
          const [pool = '', name = ''] = context.args;
          const mapping = await context.api.call<Mapping>('GET', path(pool, name));
          context.print(mapping, fields(mapping));
        },
      },
      {
        name: 'map',
        args: ['POOL', NAME, 'URL...'],
        summary: `send a ${kind} to these backends, in this order (replaces any mapping it had)`,
        run: async (context) => {
          const [pool = '', name = '', ...backends] = context.args;
          const mapping = await context.api.call<Mapping>('PUT', path(pool, name), { body: { backends } });
          context.print(
            mapping,
            `mapped ${kind} ${quoted(nameOf(mapping))} of pool ${quoted(pool)} to ${mapping.backends.join(', ')}\n`,
          );
        },
      },
      {
        name: 'unmap',
        args: ['POOL', NAME],
        summary: `remove a ${kind}'s mapping`,
        run: async (context) => {
          const [pool = '', name = ''] = context.args;
          await context.api.call('DELETE', path(pool, name));
          context.print(undefined, `unmapped ${kind} ${quoted(name)} of pool ${quoted(pool)}\n`);
        },
      },
    ],
  };
}
