#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createRegistryHandler } from '../functions/registry/handler.js';
import { ConfigError, type ConfigIssue, formatIssue } from './config/config-error.js';
import { loadConfig } from './config/load.js';
import type { LoadedConfig } from './config/loaded-config.js';
import { controlPlaneSchema, controlPlaneUrlSchema, type FtpxConfig } from './config/schema.js';
import { startControlPlaneServer } from './control-plane/control-plane-server.js';
import { fileSink, Logger, type LogLevel, stderrSink } from './log/logger.js';
import { startEdgeWorker } from './runtime/edge-worker.js';

/** Exit codes: 0 fine, 1 the proxy failed at run time, 2 the command line or the config is wrong. */
const EXIT_RUNTIME = 1;
const EXIT_USAGE = 2;

const USAGE = `Usage:
  ftpx serve --config FILE          run the proxy from a native YAML config
  ftpx serve --proftpd-conf FILE    run the proxy from a proftpd.conf with mod_proxy directives
  ftpx check-config FILE            validate a config without starting (YAML by extension
                                    .yaml/.yml, else proftpd.conf; force with --config/--proftpd-conf)
  ftpx control-plane serve --listen HOST:PORT
                                    host every control-plane function over HTTP on one port
  ftpx --version

Options for serve:
  --log-level debug|info|warn|error  overrides log.level from the config
  --control-plane-url URL            call this control plane over HTTP (overrides controlPlane.url);
                                     no store is opened by the edge worker then
  --control-plane-token TOKEN        its edge token (overrides controlPlane.token; the environment
                                     variable FTPX_CONTROL_PLANE_TOKEN keeps it out of ps)

Options for control-plane serve:
  --listen HOST:PORT                 where to listen (e.g. 127.0.0.1:8080, [::1]:8080, 0.0.0.0:8080)
  --data-dir DIR                     the embedded store's data directory (default ./data)
  --store-endpoint URL               a DynamoDB-API endpoint instead of the embedded store
  --table NAME                       the table (default ftpx); --region REGION (default us-east-1)
  --edge-token TOKEN                 require "Authorization: Bearer TOKEN" from edge workers
                                     (or the environment variable FTPX_EDGE_TOKEN)
  --log-level debug|info|warn|error  default info
  The registry API (/v1/..., GET /openapi.json) is served too; FTPX_BOOTSTRAP_TOKEN sets its
  bootstrap admin token.
`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  // The SDK's notice that its 2027 releases need Node 22 is for us, not for operators reading the log.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return command === undefined ? EXIT_USAGE : 0;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  if (command === 'serve') return serve(rest);
  if (command === 'check-config') return checkConfig(rest);
  if (command === 'control-plane') return controlPlaneCommand(rest);
  throw new UsageError(`unknown command "${command}"`);
}

/** Options `serve` takes besides the config ones. */
const SERVE_OPTIONS = {
  'control-plane-url': { type: 'string' },
  'control-plane-token': { type: 'string' },
} as const;

function parseConfigArgs(
  args: string[],
  allowPositional: boolean,
  extra: Partial<typeof SERVE_OPTIONS> = {},
) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: allowPositional,
    options: {
      config: { type: 'string' },
      'proftpd-conf': { type: 'string' },
      'log-level': { type: 'string' },
      ...extra,
    },
  });
  const given = [values.config, values['proftpd-conf'], ...positionals].filter(
    (value) => value !== undefined,
  );
  if (given.length !== 1)
    throw new UsageError('give exactly one config file: --config FILE or --proftpd-conf FILE');
  const file = given[0] as string;
  const kind: 'yaml' | 'proftpd' =
    values.config !== undefined
      ? 'yaml'
      : values['proftpd-conf'] !== undefined
        ? 'proftpd'
        : /\.(ya?ml|json)$/i.test(file)
          ? 'yaml'
          : 'proftpd';
  const logLevel = values['log-level'];
  if (logLevel !== undefined && !['debug', 'info', 'warn', 'error'].includes(logLevel)) {
    throw new UsageError(`--log-level must be one of debug, info, warn, error (got "${logLevel}")`);
  }
  const extraValues = values as { 'control-plane-url'?: string; 'control-plane-token'?: string };
  return {
    file,
    kind,
    logLevel: logLevel as LogLevel | undefined,
    controlPlaneUrl: extraValues['control-plane-url'],
    controlPlaneToken: extraValues['control-plane-token'],
  };
}

function printWarnings(warnings: ConfigIssue[]): void {
  for (const warning of warnings) process.stderr.write(`ftpx: warning: ${formatIssue(warning)}\n`);
}

function checkConfig(args: string[]): number {
  const { file, kind } = parseConfigArgs(args, true);
  const loaded = loadConfig({ kind, file });
  printWarnings(loaded.warnings);
  const { config } = loaded;
  process.stdout.write(
    `${file}: OK (${config.listeners.length} listener(s), ${config.pools.length} pool(s), ${loaded.warnings.length} warning(s))\n`,
  );
  return 0;
}

async function serve(args: string[]): Promise<number> {
  const options = parseConfigArgs(args, false, SERVE_OPTIONS);
  const { file, kind, logLevel } = options;
  const loaded: LoadedConfig = loadConfig({ kind, file });
  printWarnings(loaded.warnings);
  const config = withControlPlaneOverrides(loaded.config, {
    url: options.controlPlaneUrl,
    token: options.controlPlaneToken,
    envToken: nonEmpty(process.env.FTPX_CONTROL_PLANE_TOKEN),
  });
  const sink = config.log.file ? fileSink(config.log.file) : stderrSink();
  const log = new Logger(sink, logLevel ?? config.log.level);
  const worker = await startEdgeWorker(config, log);
  for (const listener of worker.listeners) {
    process.stderr.write(`ftpx: listening on ${listener.address}:${listener.port} (pool ${listener.pool})\n`);
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      log.info('shutting down', { signal });
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await worker.close();
  await sink.close?.();
  return 0;
}

/**
 * `--control-plane-url` and `--control-plane-token` over the config's controlPlane. The token comes
 * from the option, else FTPX_CONTROL_PLANE_TOKEN, else controlPlane.token.
 */
function withControlPlaneOverrides(
  config: FtpxConfig,
  overrides: { url: string | undefined; token: string | undefined; envToken: string | undefined },
): FtpxConfig {
  let url = config.controlPlane?.url;
  if (overrides.url !== undefined) {
    const parsed = controlPlaneUrlSchema.safeParse(overrides.url);
    if (!parsed.success) {
      throw new UsageError(`--control-plane-url ${parsed.error.issues[0]?.message ?? 'is not valid'}`);
    }
    url = parsed.data;
  }
  if (url === undefined) {
    if (overrides.token !== undefined) {
      throw new UsageError(
        '--control-plane-token needs --control-plane-url (or controlPlane.url in the config)',
      );
    }
    return config; // The in-process control plane, as before.
  }
  const token = overrides.token ?? overrides.envToken ?? config.controlPlane?.token;
  if (token === '') throw new UsageError('--control-plane-token must not be empty');
  const base = config.controlPlane ?? controlPlaneSchema.parse({});
  return { ...config, controlPlane: { ...base, url, ...(token !== undefined ? { token } : {}) } };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

async function controlPlaneCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'serve') {
    throw new UsageError(
      sub === undefined
        ? 'control-plane needs a subcommand: serve'
        : `unknown control-plane subcommand "${sub}"`,
    );
  }
  const { values } = parseArgs({
    args: rest,
    allowPositionals: false,
    options: {
      listen: { type: 'string' },
      'data-dir': { type: 'string' },
      'store-endpoint': { type: 'string' },
      table: { type: 'string' },
      region: { type: 'string' },
      'edge-token': { type: 'string' },
      'log-level': { type: 'string' },
    },
  });
  if (values.listen === undefined) throw new UsageError('control-plane serve needs --listen HOST:PORT');
  const listen = parseListen(values.listen);
  if (values['data-dir'] !== undefined && values['store-endpoint'] !== undefined) {
    throw new UsageError('give --data-dir (embedded store) or --store-endpoint, not both');
  }
  const storeEndpoint = values['store-endpoint'];
  if (storeEndpoint !== undefined && !/^https?:\/\/[^\s]+$/.test(storeEndpoint)) {
    throw new UsageError(`--store-endpoint must be an http:// or https:// URL (got "${storeEndpoint}")`);
  }
  const table = values.table ?? 'ftpx';
  if (!/^[A-Za-z0-9_.-]{3,255}$/.test(table)) {
    throw new UsageError(`--table must be 3 to 255 letters, digits, "_", "-" or "." (got "${table}")`);
  }
  const logLevel = values['log-level'] ?? 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) {
    throw new UsageError(`--log-level must be one of debug, info, warn, error (got "${logLevel}")`);
  }
  const edgeToken = values['edge-token'] ?? nonEmpty(process.env.FTPX_EDGE_TOKEN);
  const bootstrapToken = nonEmpty(process.env.FTPX_BOOTSTRAP_TOKEN);
  if (edgeToken === '') throw new UsageError('--edge-token must not be empty');
  if (edgeToken === undefined && !isLoopback(listen.host)) {
    process.stderr.write(
      `ftpx: warning: no edge token: anyone who reaches ${values.listen} can use the control plane (give --edge-token or FTPX_EDGE_TOKEN)\n`,
    );
  }
  const log = new Logger(stderrSink(), logLevel as LogLevel);
  const server = await startControlPlaneServer({
    listen,
    ...(storeEndpoint !== undefined ? { storeEndpoint } : { dataDir: values['data-dir'] ?? './data' }),
    tableName: table,
    ...(values.region !== undefined ? { region: values.region } : {}),
    ...(edgeToken !== undefined ? { edgeToken } : {}),
    registry: (store) =>
      createRegistryHandler({
        table: store,
        ...(bootstrapToken !== undefined ? { bootstrapToken } : {}),
        log: ({ level, msg, ...fields }) =>
          log[isLogLevel(level) ? level : 'info'](typeof msg === 'string' ? msg : 'registry', fields),
      }),
    log,
  });
  process.stderr.write(`ftpx: control plane listening on ${server.url}\n`);
  await waitForStopSignal(log);
  await server.close();
  return 0;
}

/** `HOST:PORT`, `[IPv6]:PORT`; port 0 takes a free one. */
function parseListen(value: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(value);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (!match || host === undefined || !Number.isInteger(port) || port > 65535) {
    throw new UsageError(`--listen must be HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080 (got "${value}")`);
  }
  return { host, port };
}

function isLogLevel(value: unknown): value is LogLevel {
  return value === 'debug' || value === 'info' || value === 'warn' || value === 'error';
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

function waitForStopSignal(log: Logger): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      log.info('shutting down', { signal });
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return `ftpx ${pkg.version}`;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(
        `ftpx: invalid configuration:\n${err.issues.map((issue) => `  ${formatIssue(issue)}`).join('\n')}\n`,
      );
      process.exitCode = EXIT_USAGE;
    } else if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`ftpx: ${(err as Error).message}\n\n${USAGE}`);
      process.exitCode = EXIT_USAGE;
    } else {
      process.stderr.write(`ftpx: ${err instanceof Error ? err.message : String(err)}\n`);
      if (err instanceof Error && err.cause)
        process.stderr.write(`  cause: ${String((err.cause as Error).message ?? err.cause)}\n`);
      process.exitCode = EXIT_RUNTIME;
    }
  },
);
