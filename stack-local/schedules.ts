import type { LocalFunction } from './lambda-function.js';
import { StackLocalError } from './template.js';

const UNITS: Record<string, number> = {
  minute: 60,
  minutes: 60,
  hour: 3600,
  hours: 3600,
  day: 86_400,
  days: 86_400,
};

/** rate(N unit) in milliseconds; any other schedule expression fails by name. */
export function rateMs(expression: string, ruleId: string): number {
  const match = /^rate\((\d+) (minutes?|hours?|days?)\)$/.exec(expression.trim());
  if (!match)
    throw new StackLocalError(
      `${ruleId}: schedule ${expression} is not understood by the local stack (rate() only)`,
    );
  return Number(match[1]) * (UNITS[match[2] as string] as number) * 1000;
}

export interface LocalSchedule {
  ruleId: string;
  everyMs: number;
  runs(): number;
  stop(): void;
}

/**
 * An EventBridge rule's schedule on a local timer, `speedup` times faster than the template says
 * (60: a minute is a second), sending each target its Input as the event. Retries are not made.
 */
export function startSchedule(
  ruleId: string,
  expression: string,
  targets: { fn: LocalFunction; input: unknown }[],
  speedup: number,
  log: (line: string) => void,
): LocalSchedule {
  const everyMs = Math.max(250, Math.round(rateMs(expression, ruleId) / speedup));
  let count = 0;
  let running = false;
  const timer = setInterval(() => {
    if (running) return; // One run at a time, as a slow target would otherwise pile up.
    running = true;
    count += 1;
    Promise.all(
      targets.map(({ fn, input }) =>
        fn.invoke(input).catch((err: unknown) => log(`schedule ${ruleId}: ${(err as Error).message}`)),
      ),
    ).finally(() => {
      running = false;
    });
  }, everyMs);
  return { ruleId, everyMs, runs: () => count, stop: () => clearInterval(timer) };
}
