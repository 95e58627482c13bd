/**
 * Settles with the promise, or with `onTimeout()` after `ms` (which may throw to reject instead).
 * The timer is always cleared, so a settled race never keeps the event loop alive.
 */
export async function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<T>((resolve, reject) => {
        timer = setTimeout(
          () => {
            try {
              resolve(onTimeout());
            } catch (err) {
              reject(err);
            }
          },
          Math.max(ms, 1),
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
