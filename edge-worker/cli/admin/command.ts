import { parseArgs } from 'node:util';
import { EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, isUsageError, nonEmpty, UsageError } from '../usage.js';
import { ApiClient, ApiError, ApiUnreachableError } from './api-client.js';
import { formatJson } from './output.js';

/**
 * The operator commands (`ftpx pools|backends|users|groups|proxy-users|tokens ...`): each group
 * has subcommands; every subcommand takes the common options, talks to the registry API through
 * one ApiClient, and prints either readable text or (--json) the API's JSON.
 */

export const DEFAULT_API_URL = 'http://127.0.0.1:9090';

/** What a command reads and writes; the real process, or a test's buffers. */
export interface Io {
  env: NodeJS.ProcessEnv;
  stdout(text: string): void;
  stderr(text: string): void;
  /** All of standard input (for --password-stdin). */
  readStdin(): Promise<string>;
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  /** Shown in the usage: `--id ID`. */
  value?: string;
  /** A one-letter alias (`-v`). */
  short?: string;
  description: string;
}

export interface CommandContext {
  /** The positional arguments, as many as the command's `args` allow. */
  args: string[];
  options: Options;
  api: ApiClient;
  json: boolean;
  io: Io;
  /** `--json`: the value as JSON on stdout; otherwise the text (nothing when undefined). */
  print(json: unknown, text: string | undefined): void;
}

export interface CommandSpec {
  name: string;
  /** Positional arguments: `POOL`, `[NAME]` (optional), `URL...` (one or more, last only). */
  args: string[];
  options?: Record<string, OptionSpec>;
  summary: string;
  run(context: CommandContext): Promise<void>;
}

export interface CommandGroup {
  name: string;
  summary: string;
  commands: CommandSpec[];
}

const COMMON_OPTIONS: Record<string, OptionSpec> = {
  api: {
    type: 'string',
    value: 'URL',
    description: `the control plane's URL (else FTPX_API_URL, else ${DEFAULT_API_URL})`,
  },
  token: {
    type: 'string',
    value: 'TOKEN',
    description: 'a registry API token (else FTPX_API_TOKEN, which keeps it out of ps)',
  },
  json: { type: 'boolean', description: "print the API's JSON instead of text" },
  help: { type: 'boolean', description: 'this help' },
};

/** A command's option values, typed at the point of use. */
export class Options {
  constructor(private readonly values: Record<string, string | boolean | (string | boolean)[] | undefined>) {}

  string(name: string): string | undefined {
    const value = this.values[name];
    return typeof value === 'string' ? value : undefined;
  }

  /** A string option the command cannot do without. */
  required(name: string, hint = ''): string {
    const value = this.string(name);
    if (value === undefined || value === '') throw new UsageError(`--${name} is required${hint}`);
    return value;
  }

  flag(name: string): boolean {
    return this.values[name] === true;
  }

  all(name: string): string[] {
    const value = this.values[name];
    return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
  }

  has(name: string): boolean {
    return this.values[name] !== undefined;
  }
}

/** Runs `ftpx <group> <argv...>`; resolves to the exit code. Never throws. */
export async function runCommandGroup(group: CommandGroup, argv: string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    io.stdout(groupUsage(group));
    return EXIT_OK;
  }
  const spec = group.commands.find((command) => command.name === name);
  let api: ApiClient | undefined;
  let json = false;
  try {
    if (name === undefined) {
      throw new UsageError(
        `${group.name} needs a subcommand: ${group.commands.map((command) => command.name).join(', ')}`,
      );
    }
    if (!spec) throw new UsageError(`unknown ${group.name} subcommand "${name}"`);
    const specs = { ...COMMON_OPTIONS, ...spec.options };
    const dashed = dashedPositionals(rest, specs);
    const parsed = parseArgs({
      args: dashed.args,
      allowPositionals: true,
      strict: true,
      options: parseArgsOptions(specs),
    });
    const positionals = parsed.positionals.map(dashed.restore);
    const options = new Options(
      Object.fromEntries(
        Object.entries(parsed.values).map(([key, value]) => [
          key,
          Array.isArray(value)
            ? value.map((item) => (typeof item === 'string' ? dashed.restore(item) : item))
            : typeof value === 'string'
              ? dashed.restore(value)
              : value,
        ]),
      ),
    );
    if (options.flag('help')) {
      io.stdout(commandUsage(group, spec));
      return EXIT_OK;
    }
    json = options.flag('json');
    checkArity(group, spec, positionals);
    const connection = connectionOf(options, io.env);
    api = new ApiClient(connection);
    const client = api;
    await spec.run({
      args: positionals,
      options,
      api: client,
      json,
      io,
      print: (value, text) => {
        if (json) {
          if (value !== undefined) io.stdout(formatJson(value));
        } else if (text !== undefined) {
          io.stdout(text);
        }
      },
    });
    return EXIT_OK;
  } catch (err) {
    return report(err, { group, spec, io, json, hasToken: api?.hasToken ?? false });
  } finally {
    await api?.close().catch(() => undefined);
  }
}

/**
 * Token ids are base64url and begin with '-' about once in 64; parseArgs would take `-zjd7oN…` for a
 * bundle of short options and refuse it. An argument with one leading '-' that is not made of this
 * command's one-letter options (`-h`, `-v`, `-hv`) is taken as a value, as if `--` came before it:
 * it is swapped for a placeholder parseArgs sees as positional, and `restore` gives it back.
 */
function dashedPositionals(
  args: string[],
  specs: Record<string, OptionSpec>,
): { args: string[]; restore(value: string): string } {
  const shorts = new Set(['h', ...Object.values(specs).flatMap((spec) => (spec.short ? [spec.short] : []))]);
  const originals: string[] = [];
  const placeholder = (index: number) => `\u0000${index}`;
  const end = args.indexOf('--');
  const rewritten = args.map((arg, index) => {
    if ((end !== -1 && index > end) || !/^-[^-]/.test(arg) || [...arg.slice(1)].every((c) => shorts.has(c))) {
      return arg;
    }
    originals.push(arg);
    return placeholder(originals.length - 1);
  });
  return {
    args: rewritten,
    restore: (value) => (value.startsWith('\u0000') ? (originals[Number(value.slice(1))] ?? value) : value),
  };
}

function parseArgsOptions(specs: Record<string, OptionSpec>) {
  return Object.fromEntries(
    Object.entries(specs).map(([name, spec]) => [
      name,
      {
        type: spec.type,
        ...(spec.multiple ? { multiple: true } : {}),
        ...(name === 'help' ? { short: 'h' } : spec.short ? { short: spec.short } : {}),
      },
    ]),
  ) as Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>;
}

function checkArity(group: CommandGroup, spec: CommandSpec, positionals: string[]): void {
  const required = spec.args.filter((arg) => !arg.startsWith('['));
  const variadic = spec.args.some((arg) => arg.endsWith('...'));
  if (positionals.length < required.length) {
    const missing = required.slice(positionals.length).map((arg) => arg.replace(/\.\.\.$/, ''));
    throw new UsageError(`${group.name} ${spec.name} needs ${missing.join(' and ')}`);
  }
  if (!variadic && positionals.length > spec.args.length) {
    throw new UsageError(
      `${group.name} ${spec.name} takes ${describeArity(spec)}; got "${positionals.slice(spec.args.length).join(' ')}" too`,
    );
  }
}

function describeArity(spec: CommandSpec): string {
  return spec.args.length === 0 ? 'no arguments' : spec.args.join(' ');
}

/** Where the API is and which token to show it: options over the environment over the default. */
function connectionOf(
  options: Options,
  env: NodeJS.ProcessEnv,
): { baseUrl: string; token: string | undefined } {
  const fromOption = options.string('api');
  const baseUrl = fromOption ?? nonEmpty(env.FTPX_API_URL) ?? DEFAULT_API_URL;
  const source =
    fromOption !== undefined ? '--api' : env.FTPX_API_URL ? 'FTPX_API_URL' : 'the default API URL';
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new UsageError(`${source} must be an http:// or https:// URL, e.g. ${DEFAULT_API_URL}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${source} must be an http:// or https:// URL, e.g. ${DEFAULT_API_URL}`);
  }
  const tokenOption = options.string('token');
  if (tokenOption === '') throw new UsageError('--token must not be empty');
  const token = tokenOption ?? nonEmpty(env.FTPX_API_TOKEN);
  // What the API accepts after "Bearer "; checked here so that a stray character never reaches an
  // HTTP header error that might quote it.
  if (token !== undefined && !/^[A-Za-z0-9._~+/-]+=*$/.test(token)) {
    throw new UsageError(
      `${tokenOption !== undefined ? '--token' : 'FTPX_API_TOKEN'} is not a token (letters, digits and . _ ~ + / - only)`,
    );
  }
  return { baseUrl, token };
}

function report(
  err: unknown,
  where: { group: CommandGroup; spec: CommandSpec | undefined; io: Io; json: boolean; hasToken: boolean },
): number {
  const { io } = where;
  if (isUsageError(err)) {
    const usage = where.spec ? commandUsage(where.group, where.spec) : groupUsage(where.group);
    io.stderr(`ftpx: ${err.message}\n\n${usage}`);
    return EXIT_USAGE;
  }
  if (err instanceof ApiError) {
    if (where.json) io.stdout(formatJson(err.body));
    const lines = [`ftpx: ${err.message} (HTTP ${err.status} ${err.code})`];
    for (const issue of err.issues) lines.push(`  ${issue.path}: ${issue.message}`);
    if (err.status === 401) {
      lines.push(
        where.hasToken
          ? '  the token was not accepted: unknown, revoked or expired'
          : '  give a token with --token TOKEN or FTPX_API_TOKEN',
      );
    }
    io.stderr(`${lines.join('\n')}\n`);
    return EXIT_RUNTIME;
  }
  if (err instanceof ApiUnreachableError) {
    io.stderr(`ftpx: ${err.message}\n`);
    return EXIT_RUNTIME;
  }
  io.stderr(`ftpx: ${err instanceof Error ? err.message : String(err)}\n`);
  return EXIT_RUNTIME;
}

function synopsis(spec: CommandSpec): string {
  const options = Object.entries(spec.options ?? {}).map(([name, option]) => {
    const text = option.type === 'string' ? `--${name} ${option.value ?? 'VALUE'}` : `--${name}`;
    return `[${text}]${option.multiple ? '...' : ''}`;
  });
  return [spec.name, ...spec.args, ...options].join(' ');
}

export function groupUsage(group: CommandGroup): string {
  const lines = [`Usage: ftpx ${group.name} COMMAND [options]   (${group.summary})`, '', 'Commands:'];
  for (const spec of group.commands) {
    lines.push(`  ftpx ${group.name} ${synopsis(spec)}`, `      ${spec.summary}`);
  }
  lines.push('', 'Common options:', ...optionLines(COMMON_OPTIONS));
  lines.push('', `"ftpx ${group.name} COMMAND --help" describes one command.`, '');
  return lines.join('\n');
}

export function commandUsage(group: CommandGroup, spec: CommandSpec): string {
  const lines = [`Usage: ftpx ${group.name} ${synopsis(spec)}`, `  ${spec.summary}`];
  if (spec.options && Object.keys(spec.options).length > 0)
    lines.push('', 'Options:', ...optionLines(spec.options));
  lines.push('', 'Common options:', ...optionLines(COMMON_OPTIONS), '');
  return lines.join('\n');
}

function optionLines(options: Record<string, OptionSpec>): string[] {
  const entries = Object.entries(options).map(([name, option]) => [
    `${option.short ? `-${option.short}, ` : ''}--${name}${option.type === 'string' ? ` ${option.value ?? 'VALUE'}` : ''}`,
    option.description,
  ]);
  const width = Math.max(...entries.map(([left]) => (left ?? '').length));
  return entries.map(([left, right]) => `  ${(left ?? '').padEnd(width)}  ${right}`);
}

// ---------------------------------------------------------------------------------------------
// Small pieces several commands share.
// ---------------------------------------------------------------------------------------------

export const LIMIT_OPTION: Record<string, OptionSpec> = {
  limit: { type: 'string', value: 'N', description: 'show at most N items (default: all, page after page)' },
};

/** `--limit N`: a whole number of at least 1, or undefined for everything. */
export function limitOf(options: Options): number | undefined {
  const value = options.string('limit');
  if (value === undefined) return undefined;
  if (!/^[1-9]\d{0,8}$/.test(value))
    throw new UsageError(`--limit must be a whole number of at least 1 (got "${value}")`);
  return Number(value);
}

/** After a list cut short by --limit, says so (on stderr: stdout stays the list). */
export function noteMore(context: CommandContext, page: { nextCursor?: string }): void {
  if (page.nextCursor !== undefined && !context.json) {
    context.io.stderr('ftpx: there are more; raise --limit to see them\n');
  }
}

/** A comma-separated list option: `a,b` → ['a', 'b']. */
export function commaList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

export function quoted(text: string): string {
  return JSON.stringify(text);
}
