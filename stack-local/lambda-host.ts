import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * One Lambda function's process (run by the local stack on the template's runtime): loads the
 * handler from the function's asset directory as Lambda's Node.js runtime does (`file.export`,
 * .mjs / .js / .cjs), then answers invocations the parent sends over IPC, one at a time.
 */
interface Invocation {
  id: number;
  event: unknown;
  deadlineMs: number;
}

const codeDir = process.env.STACK_LOCAL_CODE_DIR as string;
const handlerName = process.env._HANDLER as string;
const dot = handlerName.lastIndexOf('.');
const moduleName = handlerName.slice(0, dot);
const exportName = handlerName.slice(dot + 1);
const file = ['.mjs', '.js', '.cjs'].map((ext) => join(codeDir, `${moduleName}${ext}`)).find(existsSync);
if (!file) {
  process.stderr.write(
    `stack-local: no ${moduleName}.mjs/.js/.cjs in ${codeDir} for handler ${handlerName}\n`,
  );
  process.exit(1);
}
const loaded = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
const handler = loaded[exportName] as ((event: unknown, context: unknown) => Promise<unknown>) | undefined;
if (typeof handler !== 'function') {
  process.stderr.write(`stack-local: ${file} exports no function ${exportName}\n`);
  process.exit(1);
}

let queue = Promise.resolve();
process.on('message', (message: Invocation) => {
  queue = queue.then(async () => {
    const context = {
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
      awsRequestId: `local-${message.id}`,
      getRemainingTimeInMillis: () => Math.max(0, message.deadlineMs - Date.now()),
      callbackWaitsForEmptyEventLoop: false,
    };
    try {
      const result = await handler(message.event, context);
      process.send?.({ id: message.id, ok: true, result });
    } catch (err) {
      const error =
        err instanceof Error
          ? { errorType: err.name, errorMessage: err.message }
          : { errorMessage: String(err) };
      process.send?.({ id: message.id, ok: false, error });
    }
  });
});
process.send?.({ ready: true });
