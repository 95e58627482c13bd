/**
 * The serving process's signals: SIGHUP reloads (reloads never overlap: one arriving during another
 * runs after it), SIGTERM / SIGINT stop (the first drains, a second one cuts the drain short).
 * Returns a promise that resolves when the stop handler finished, and a function removing the handlers.
 */
export function handleLifecycleSignals(handlers: {
  reload(): Promise<void>;
  stop(signal: NodeJS.Signals): Promise<void>;
  /** A second SIGTERM / SIGINT while stopping. */
  hurry(signal: NodeJS.Signals): void;
}): { stopped: Promise<void>; dispose(): void } {
  let reloading = Promise.resolve();
  let stopping = false;
  let resolveStopped: () => void = () => {};
  let rejectStopped: (err: unknown) => void = () => {};
  const stopped = new Promise<void>((resolve, reject) => {
    resolveStopped = resolve;
    rejectStopped = reject;
  });
  const onHup = () => {
    reloading = reloading.then(() => handlers.reload()).catch(() => {});
  };
  const onStop = (signal: NodeJS.Signals) => {
    if (stopping) {
      handlers.hurry(signal);
      return;
    }
    stopping = true;
    handlers.stop(signal).then(resolveStopped, rejectStopped);
  };
  process.on('SIGHUP', onHup);
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
  return {
    stopped,
    dispose: () => {
      process.off('SIGHUP', onHup);
      process.off('SIGTERM', onStop);
      process.off('SIGINT', onStop);
    },
  };
}
