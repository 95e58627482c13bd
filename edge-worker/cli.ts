#!/usr/bin/env node
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { EXIT_RUNTIME, EXIT_USAGE, isUsageError, UsageError } from './cli/usage.js';
import { holdYoungGeneration } from './cluster/memory-settings.js';
import { ConfigError, formatIssue } from './config/config-error.js';

/** Exit codes: 0 fine, 1 failed at run time (or the API refused), 2 the command line or the config is wrong. */

/** The whole usage text; the operator commands' part loads with them (the proxy never needs it). */
async function usage(): Promise<string> {
  const { OPERATOR_USAGE } = await import('./cli/admin/index.js');
  return `Usage:
  ftpx serve --config FILE          run the proxy from a native YAML config
  ftpx serve --proftpd-conf FILE    run the proxy from a proftpd.conf with mod_proxy directives
  ftpx check-config FILE            validate a config without starting (YAML by extension
                                    .yaml/.yml, else proftpd.conf; force with --config/--proftpd-conf)
  ftpx import-proftpd-conf FILE     print a proftpd.conf as native YAML (what is not carried over
                                    becomes a comment): ftpx import-proftpd-conf proftpd.conf > ftpx.yaml
  ftpx config-reference [--format markdown|text]
                                    every native key with type, default and the directive it replaces
  ftpx control-plane serve --listen HOST:PORT
                                    host every control-plane function over HTTP on one port
  ftpx --version

Options for serve:
  --log-level debug|info|warn|error  overrides log.level from the config
  --control-plane-url URL            call this control plane over HTTP (overrides controlPlane.url);
                                     no store is opened by the edge worker then
  --control-plane-token TOKEN        its edge token (overrides controlPlane.token; the environment
                                     variable FTPX_CONTROL_PLANE_TOKEN keeps it out of ps);
                                     at least 32 characters
  --control-plane-ca FILE            CA certificates (PEM) the https control plane's certificate
                                     must chain to (controlPlane.ca, FTPX_CONTROL_PLANE_CA)
  --insecure-control-plane-http      accept a plain http:// control plane URL to a host that is
                                     not loopback: tokens and backend credentials travel in clear
  --masquerade-address ADDRESS       the address in 227/229 replies on every listener (overrides
                                     masqueradeAddress); ecs-task:public or ecs-task:private finds
                                     the ECS task's own address at start
  --check                            validate as check-config does and exit (0 fine, 2 not)
  --workers N|auto                   worker processes (lifecycle.workers; default auto: one per core)
  --admin-listen HOST:PORT           the admin endpoint (admin.listen); its token: FTPX_ADMIN_TOKEN
  --drain-timeout DURATION           on SIGTERM, how long sessions may finish (lifecycle.drainTimeout)
  Signals: SIGTERM/SIGINT drain and exit 0, SIGHUP reloads the config for new sessions.
  --dns-server HOST:PORT             a DNS server for +srv / +txt discovery (repeatable; replaces
                                     dns.servers; default: the system's resolvers)

Options for control-plane serve:
  --listen HOST:PORT                 where to listen (e.g. 127.0.0.1:8080, [::1]:8080, 0.0.0.0:8080)
  --data-dir DIR                     the embedded store's data directory (default ./data)
  --store-endpoint URL               a DynamoDB-API endpoint instead of the embedded store
  --table NAME                       the table (default ftpx); --region REGION (default us-east-1)
  --edge-token TOKEN                 require "Authorization: Bearer TOKEN" from edge workers
                                     (or the environment variable FTPX_EDGE_TOKEN); at least 32
                                     characters; required unless HOST is loopback
  --tls-cert FILE --tls-key FILE     serve HTTPS with this certificate chain and key (PEM)
  --log-level debug|info|warn|error  default info
  --dns-server HOST:PORT             a DNS server for +srv / +txt discovery (repeatable; replaces
                                     FTPX_DNS_SERVERS; default: the system's resolvers)
  Discovery, health and Route 53 publication read the variables the Lambda functions read
  (FTPX_DNS_*, FTPX_HEALTH_*, FTPX_HEALTH_CHECK_INTERVAL_MS turns active checks on,
  FTPX_ROUTE53_ENDPOINT; see docs/discovery-and-health.md).
  The registry API (/v1/..., GET /openapi.json) is served too; FTPX_BOOTSTRAP_TOKEN sets its
  bootstrap admin token (at least 32 characters). Sources with too many failed bearer attempts
  get 429 for a while.

${OPERATOR_USAGE}`;
}

async function main(argv: string[]): Promise<number> {
  // The SDK's notice that its 2027 releases need Node 22 is for us, not for operators reading the log.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(await usage());
    return command === undefined ? EXIT_USAGE : 0;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  // Before the proxy's modules load: start-up's allocation burst would leave the young generation at
  // its largest for the first minute (memory-settings.ts); released once the process listens.
  if (command === 'serve') holdYoungGeneration();
  // A worker process of `serve --workers N`: its command line was checked by the primary, and its
  // configuration comes from the primary, so it loads neither the config parsers nor the store.
  // The workers are the processes that serve sessions: they trace their login paths when
  // OTEL_EXPORTER_OTLP_* asks (the SDK loads only then).
  if (command === 'serve' && cluster.isWorker) {
    await (await import('./tracing/tracing-from-env.js')).startTracingFromEnv();
    return (await import('./cluster/worker.js')).runClusterWorker();
  }
  // Loaded on demand: the operator commands need none of the proxy, the store or the AWS SDK.
  if (command === 'serve') return (await import('./cli/serve.js')).serve(rest);
  if (command === 'check-config') return (await import('./cli/serve.js')).checkConfig(rest);
  if (command === 'import-proftpd-conf')
    return (await import('./cli/config-tools.js')).importProftpdConfCommand(rest);
  if (command === 'config-reference')
    return (await import('./cli/config-tools.js')).configReferenceCommand(rest);
  if (command === 'control-plane') return (await import('./cli/control-plane.js')).controlPlaneCommand(rest);
  const { operatorGroup, processIo, runCommandGroup } = await import('./cli/admin/index.js');
  const group = operatorGroup(command);
  if (group) return runCommandGroup(group, rest, processIo());
  throw new UsageError(`unknown command "${command}"`);
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
  async (err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(
        `ftpx: invalid configuration:\n${err.issues.map((issue) => `  ${formatIssue(issue)}`).join('\n')}\n`,
      );
      process.exitCode = EXIT_USAGE;
    } else if (isUsageError(err)) {
      process.stderr.write(`ftpx: ${err.message}\n\n${await usage()}`);
      process.exitCode = EXIT_USAGE;
    } else {
      process.stderr.write(`ftpx: ${err instanceof Error ? err.message : String(err)}\n`);
      if (err instanceof Error && err.cause)
        process.stderr.write(`  cause: ${String((err.cause as Error).message ?? err.cause)}\n`);
      process.exitCode = EXIT_RUNTIME;
    }
  },
);
