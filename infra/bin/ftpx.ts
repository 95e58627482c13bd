import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { App } from 'aws-cdk-lib';
import { FtpxStack } from '../lib/ftpx-stack.js';
import { bundleFunctions } from '../lib/function-bundles.js';
import { FUNCTIONS } from '../lib/functions.js';
import { parseParameters } from '../lib/parameters.js';

/** The repository root: the nearest directory above the working directory with a package-lock.json. */
function findRepoRoot(start: string): string {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, 'package-lock.json')) && existsSync(join(dir, 'functions'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no ftpx checkout above ${start}`);
    dir = parent;
  }
}

const app = new App();
// `-c config=context/small.json` reads the "ftpx" key of that file; otherwise the "ftpx" context
// key (cdk.json or cdk.context.json).
const configFile: string | undefined = app.node.tryGetContext('config');
const parameters = parseParameters(
  configFile
    ? (JSON.parse(readFileSync(resolve(configFile), 'utf8')) as { ftpx?: unknown }).ftpx
    : app.node.tryGetContext('ftpx'),
);
// Environment-agnostic unless an account and region are given (context or the CLI's profile), so
// `cdk synth` needs no AWS account.
const account = app.node.tryGetContext('account') ?? process.env.CDK_DEFAULT_ACCOUNT;
const region = app.node.tryGetContext('region') ?? process.env.CDK_DEFAULT_REGION;
const repoRoot = process.env.FTPX_REPO_ROOT ?? findRepoRoot(process.cwd());
// Every function bundled by one esbuild build before the stack is constructed (seconds, where
// NodejsFunction's one esbuild per function takes minutes); the assets are staged from here.
const functionBundles = await bundleFunctions(repoRoot, FUNCTIONS, app.outdir, `.bundle-${process.pid}-`);
new FtpxStack(app, app.node.tryGetContext('stackName') ?? 'Ftpx', {
  parameters,
  repoRoot,
  functions: FUNCTIONS,
  functionBundles,
  ...(account && region ? { env: { account, region } } : {}),
  description: 'ftpx: FTP/FTPS/SFTP proxy (edge workers on Fargate, control plane on Lambda + DynamoDB)',
});
try {
  app.synth();
} finally {
  for (const dir of functionBundles.values()) rmSync(dir, { recursive: true, force: true });
}
