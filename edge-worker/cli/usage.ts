/** Exit codes of every `ftpx` command: 0 fine, 1 failed at run time (or the API refused), 2 wrong usage. */
export const EXIT_OK = 0;
export const EXIT_RUNTIME = 1;
export const EXIT_USAGE = 2;

/** A wrong command line: reported with the usage text and exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** node:util parseArgs' own errors (unknown option, missing value, ...) are usage errors too. */
export function isUsageError(err: unknown): err is Error {
  return (
    err instanceof UsageError ||
    (err instanceof Error &&
      (err as { code?: unknown }).code?.toString().startsWith('ERR_PARSE_ARGS') === true)
  );
}

export function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** Resolves on the first SIGINT or SIGTERM. */
export function waitForStopSignal(onSignal: (signal: NodeJS.Signals) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      onSignal(signal);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
