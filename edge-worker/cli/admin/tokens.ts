import type { CreatedToken, Token } from '../../../functions/contract/registry.js';
import { type CommandGroup, commaList, LIMIT_OPTION, limitOf, noteMore, quoted } from './command.js';
import { formatFields, formatTable, orDash } from './output.js';

function poolsText(pools: Token['pools']): string {
  return pools === '*' ? '*' : pools.join(',');
}

function fields(token: Token): string {
  return formatFields([
    ['id', token.id],
    ['name', token.name],
    ['scope', token.scope],
    ['pools', poolsText(token.pools)],
    ['expires', orDash(token.expiresAt)],
    ['last used', orDash(token.lastUsedAt)],
    ['version', String(token.version)],
    ['created', token.createdAt],
    ['updated', token.updatedAt],
  ]);
}

/** `--expires`: `30d`, `12h`, `90m` from now, or an ISO 8601 time passed on as it is. */
export function expiresAtOf(value: string, nowMs = Date.now()): string {
  const relative = /^(\d{1,6})([dhm])$/.exec(value);
  if (!relative) return value;
  const unit = { d: 86_400_000, h: 3_600_000, m: 60_000 }[relative[2] as 'd' | 'h' | 'm'];
  return new Date(nowMs + Number(relative[1]) * unit).toISOString();
}

export const tokenCommands: CommandGroup = {
  name: 'tokens',
  summary: 'registry API tokens (admin token); secrets are shown once, when created',
  commands: [
    {
      name: 'list',
      args: [],
      options: LIMIT_OPTION,
      summary: 'list the live tokens (never their secrets)',
      run: async (context) => {
        const page = await context.api.list<Token>(['v1', 'tokens'], limitOf(context.options));
        context.print(
          page,
          page.items.length === 0
            ? 'no tokens\n'
            : formatTable(
                ['ID', 'NAME', 'SCOPE', 'POOLS', 'EXPIRES', 'LAST USED'],
                page.items.map((token) => [
                  token.id,
                  token.name,
                  token.scope,
                  poolsText(token.pools),
                  orDash(token.expiresAt),
                  orDash(token.lastUsedAt),
                ]),
              ),
        );
        noteMore(context, page);
      },
    },
    {
      name: 'get',
      args: ['ID'],
      summary: 'show one token (never its secret)',
      run: async (context) => {
        const [id = ''] = context.args;
        const token = await context.api.call<Token>('GET', ['v1', 'tokens', id]);
        context.print(token, fields(token));
      },
    },
    {
      name: 'create',
      args: ['NAME'],
      options: {
        scope: {
          type: 'string',
          value: 'SCOPE',
          description: 'read (GET in its pools), write (also change them) or admin (everything); required',
        },
        pools: {
          type: 'string',
          value: 'A,B',
          description: 'the pools it may use, or * for all (the default)',
        },
        expires: {
          type: 'string',
          value: 'WHEN',
          description: 'an ISO 8601 time, or 30d, 12h, 90m from now',
        },
      },
      summary: 'create a token; its secret goes to standard output, shown this once',
      run: async (context) => {
        const [name = ''] = context.args;
        const { options } = context;
        const scope = options.required('scope', ': read, write or admin');
        const pools = options.string('pools');
        const expires = options.string('expires');
        const token = await context.api.call<CreatedToken>('POST', ['v1', 'tokens'], {
          body: {
            name,
            scope,
            pools: pools === undefined || pools.trim() === '*' ? '*' : commaList(pools),
            ...(expires !== undefined ? { expiresAt: expiresAtOf(expires) } : {}),
          },
        });
        if (context.json) {
          context.print(token, undefined);
          return;
        }
        // The secret alone on stdout (TOKEN=$(ftpx tokens create ...)); the rest on stderr.
        context.io.stderr(
          `ftpx: created token ${token.id} ${quoted(token.name)} (scope ${token.scope}, pools ${poolsText(token.pools)}${token.expiresAt ? `, expires ${token.expiresAt}` : ''}).\n` +
            'ftpx: its secret, on standard output, is shown only this once: store it now.\n',
        );
        context.io.stdout(`${token.secret}\n`);
      },
    },
    {
      name: 'revoke',
      args: ['ID'],
      summary: 'revoke a token (it stops working at once)',
      run: async (context) => {
        const [id = ''] = context.args;
        await context.api.call('DELETE', ['v1', 'tokens', id]);
        context.print(undefined, `revoked token ${id}\n`);
      },
    },
  ],
};
