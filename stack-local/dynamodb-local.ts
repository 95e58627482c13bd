import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { StackLocalError } from './template.js';

/**
 * DynamoDB Local (AWS's emulator, from .cache/dynamodb-local, put there by
 * scripts/install-test-deps.sh) in memory on a free port, for `npm run stack:local`.
 */
export async function startDynamoDbLocal(
  repoRoot: string,
): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const dir = join(repoRoot, '.cache', 'dynamodb-local');
  if (!existsSync(join(dir, 'DynamoDBLocal.jar'))) {
    throw new StackLocalError(`DynamoDB Local is not in ${dir}: run \`bash scripts/install-test-deps.sh\``);
  }
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
  const child: ChildProcess = spawn(
    'java',
    [
      '-Xmx256m',
      '-XX:+UseSerialGC',
      `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
      '-jar',
      join(dir, 'DynamoDBLocal.jar'),
      '-inMemory',
      '-sharedDb',
      '-disableTelemetry',
      '-port',
      String(port),
    ],
    { cwd: dir, stdio: 'ignore', detached: true },
  );
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new StackLocalError(`DynamoDB Local exited with ${child.exitCode}`);
    const answered = await fetch(endpoint, { method: 'POST' }).then(
      () => true,
      () => false,
    );
    if (answered) break;
    if (Date.now() > deadline) throw new StackLocalError('DynamoDB Local did not answer within 60 s');
    await delay(200);
  }
  return {
    endpoint,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
