#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, type ConfigIssue, formatIssue } from './config/config-error.js';
import { loadConfig } from './config/load.js';
import type { LoadedConfig } from './config/loaded-config.js';
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
  ftpx --version

Options for serve:
  --log-level debug|info|warn|error  overrides log.level from the config
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
  throw new UsageError(`unknown command "${command}"`);
}

function parseConfigArgs(args: string[], allowPositional: boolean) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: allowPositional,
    options: {
      config: { type: 'string' },
      'proftpd-conf': { type: 'string' },
      'log-level': { type: 'string' },
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
  return { file, kind, logLevel: logLevel as LogLevel | undefined };
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
  const { file, kind, logLevel } = parseConfigArgs(args, false);
  const loaded: LoadedConfig = loadConfig({ kind, file });
  printWarnings(loaded.warnings);
  const { config } = loaded;
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
