#!/usr/bin/env node
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startDynamoDbLocal } from './dynamodb-local.js';
import { startLocalStack } from './local-stack.js';

/**
 * `npm run stack:local`: the synthesized stack (infra/cdk.out; `npm run synth` first) on this
 * machine, until SIGINT / SIGTERM, which stop the task as ECS does (deregister, drain, SIGTERM).
 */
const { values } = parseArgs({
  options: {
    'cdk-out': { type: 'string', default: 'infra/cdk.out' },
    stack: { type: 'string', default: 'Ftpx' },
    'secrets-file': { type: 'string', default: '.stack-local/secrets.json' },
    'work-dir': { type: 'string', default: '.stack-local' },
    speedup: { type: 'string', default: '60' },
    // A podman image built from the template's image asset (buildTaskImage); default: the repository's dist/.
    'task-image': { type: 'string' },
  },
});
const repoRoot = resolve(import.meta.dirname, '..', '..');
const dynamo = await startDynamoDbLocal(repoRoot);
try {
  const stack = await startLocalStack({
    cdkOut: resolve(values['cdk-out'] as string),
    stackName: values.stack as string,
    repoRoot,
    dynamoDbEndpoint: dynamo.endpoint,
    secretsFile: resolve(values['secrets-file'] as string),
    workDir: resolve(values['work-dir'] as string),
    speedup: Number(values.speedup),
    ...(values['task-image'] ? { taskImage: values['task-image'] as string } : {}),
  });
  process.stdout.write(
    [
      `stack-local: up. API ${stack.apiUrl} (CA ${join(resolve(values['work-dir'] as string), 'api-ca.pem')}), task ${stack.task.address}`,
      ...[...stack.listeners.values()].map((l) => `  listener ${l.port} → 127.0.0.1:${l.localPort}`),
      `  SigV4 credentials: ${stack.credentials.accessKeyId} / ${stack.credentials.secretAccessKey} (region ${stack.region})`,
      '',
    ].join('\n'),
  );
  const stoppedEarly = await new Promise<boolean>((resolveStop) => {
    process.once('SIGINT', () => resolveStop(false));
    process.once('SIGTERM', () => resolveStop(false));
    // A task that exits by itself is a failed deployment: ECS would never call it healthy.
    stack.task.exited.then(() => resolveStop(true));
  });
  if (stoppedEarly) {
    process.stderr.write(
      `stack-local: the task exited by itself (code ${await stack.task.exited}); see its output above\n`,
    );
    await stack.stop();
    process.exitCode = 1;
  } else {
    process.stdout.write('stack-local: stopping the task (deregistration delay, then SIGTERM)\n');
    const code = await stack.stopTask();
    process.stdout.write(`stack-local: the task exited with ${code}\n`);
    await stack.stop();
  }
} finally {
  await dynamo.stop();
}
