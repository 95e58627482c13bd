import type { Backend } from '../../../functions/contract/registry.js';
import { UsageError } from '../usage.js';
import { printPoolHealth } from './backend-health.js';
import {
  type CommandContext,
  type CommandGroup,
  type CommandSpec,
  LIMIT_OPTION,
  limitOf,
  noteMore,
  quoted,
} from './command.js';
import { formatFields, formatLabels, formatTable, orDash, yesNo } from './output.js';

export function backendFields(backend: Backend): string {
  return formatFields([
    ['pool', backend.pool],
    ['id', backend.id],
    ['url', backend.url],
    ['backend', backend.backend],
    ['enabled', yesNo(backend.enabled)],
    ['weight', backend.weight !== undefined ? String(backend.weight) : undefined],
    ['labels', backend.labels ? formatLabels(backend.labels) : undefined],
    ['version', String(backend.version)],
    ['created', backend.createdAt],
    ['updated', backend.updatedAt],
  ]);
}

function labelsOf(values: string[]): Record<string, string> | undefined {
  if (values.length === 0) return undefined;
  const labels: Record<string, string> = {};
  for (const value of values) {
    const at = value.indexOf('=');
    if (at <= 0) throw new UsageError(`--label takes NAME=VALUE (got "${value}")`);
    labels[value.slice(0, at)] = value.slice(at + 1);
  }
  return labels;
}

function weightOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,9}$/.test(value)) throw new UsageError(`--weight must be a whole number (got "${value}")`);
  return Number(value);
}

function setEnabled(enabled: boolean): CommandSpec {
  return {
    name: enabled ? 'enable' : 'disable',
    args: ['POOL', 'ID'],
    summary: enabled
      ? 'let edge workers use a backend again'
      : 'keep edge workers off a backend (it stays registered)',
    run: async (context: CommandContext) => {
      const [pool = '', id = ''] = context.args;
      const backend = await context.api.call<Backend>('PATCH', ['v1', 'pools', pool, 'backends', id], {
        body: { enabled },
      });
      context.print(
        backend,
        `${enabled ? 'enabled' : 'disabled'} backend ${backend.id} (${backend.url}) of pool ${quoted(pool)}\n`,
      );
    },
  };
}

const healthCommand: CommandSpec = {
  name: 'health',
  args: ['POOL'],
  summary: "show the pool's backend health (every backend that failed or was checked)",
  run: async (context) => {
    const [pool = ''] = context.args;
    await printPoolHealth(context, pool);
  },
};

export const backendCommands: CommandGroup = {
  name: 'backends',
  summary: "the backends registered in a pool, besides the edge workers' configured ones",
  commands: [
    {
      name: 'list',
      args: ['POOL'],
      options: {
        ...LIMIT_OPTION,
        health: {
          type: 'boolean',
          description: "show the pool's backend health instead (failures, cool-downs, active checks)",
        },
      },
      summary: "list a pool's registered backends",
      run: async (context) => {
        const [pool = ''] = context.args;
        if (context.options.flag('health')) return printPoolHealth(context, pool);
        const page = await context.api.list<Backend>(
          ['v1', 'pools', pool, 'backends'],
          limitOf(context.options),
        );
        context.print(
          page,
          page.items.length === 0
            ? `no backends registered in pool ${quoted(pool)}\n`
            : formatTable(
                ['ID', 'URL', 'ENABLED', 'WEIGHT', 'LABELS'],
                page.items.map((backend) => [
                  backend.id,
                  backend.url,
                  yesNo(backend.enabled),
                  orDash(backend.weight),
                  formatLabels(backend.labels),
                ]),
              ),
        );
        noteMore(context, page);
      },
    },
    {
      name: 'get',
      args: ['POOL', 'ID'],
      summary: 'show one backend (a password in its URL shows as ***)',
      run: async (context) => {
        const [pool = '', id = ''] = context.args;
        const backend = await context.api.call<Backend>('GET', ['v1', 'pools', pool, 'backends', id]);
        context.print(backend, backendFields(backend));
      },
    },
    {
      name: 'add',
      args: ['POOL', 'URL'],
      options: {
        id: {
          type: 'string',
          value: 'ID',
          description: 'register under this id (replacing a backend with that id); else the server picks one',
        },
        disabled: { type: 'boolean', description: 'register it disabled' },
        weight: { type: 'string', value: 'N', description: 'relative weight, 1 to 1000' },
        label: { type: 'string', multiple: true, value: 'NAME=VALUE', description: 'a label (repeatable)' },
      },
      summary: 'register a backend: ftp://, ftps:// or sftp://[user[:password]@]host[:port]',
      run: async (context) => {
        const [pool = '', url = ''] = context.args;
        const { options } = context;
        const weight = weightOf(options.string('weight'));
        const labels = labelsOf(options.all('label'));
        const body = {
          url,
          enabled: !options.flag('disabled'),
          ...(weight !== undefined ? { weight } : {}),
          ...(labels !== undefined ? { labels } : {}),
        };
        const id = options.string('id');
        const backend =
          id === undefined
            ? await context.api.call<Backend>('POST', ['v1', 'pools', pool, 'backends'], { body })
            : await context.api.call<Backend>('PUT', ['v1', 'pools', pool, 'backends', id], { body });
        context.print(
          backend,
          `added backend ${backend.id} (${backend.url}) to pool ${quoted(pool)}${backend.enabled ? '' : ', disabled'}\n`,
        );
      },
    },
    {
      name: 'remove',
      args: ['POOL', 'ID'],
      summary: 'remove a registered backend',
      run: async (context) => {
        const [pool = '', id = ''] = context.args;
        await context.api.call('DELETE', ['v1', 'pools', pool, 'backends', id]);
        context.print(undefined, `removed backend ${id} from pool ${quoted(pool)}\n`);
      },
    },
    setEnabled(true),
    setEnabled(false),
    healthCommand,
  ],
};
