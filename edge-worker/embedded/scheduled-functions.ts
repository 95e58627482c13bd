import {
  type DiscoveryContext,
  refreshDiscoveries,
} from '../../functions/shared/discovery/discovery-service.js';
import type { Logger } from '../log/logger.js';

/** A periodic job of the embedded control plane. */
export interface ScheduledJob {
  name: string;
  intervalMs: number;
  run(): Promise<void>;
}

/**
 * What EventBridge schedules in AWS, run in this process for the embedded control plane: each job on
 * its own interval, never two runs of one job at once (a slow run makes the next one wait), every
 * timer unref'd and cleared by stop().
 */
export class Scheduler {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly running = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly log: Logger) {}

  add(job: ScheduledJob): void {
    let busy = false;
    const tick = () => {
      if (busy || this.stopped) return;
      busy = true;
      const run = job
        .run()
        .catch((err: unknown) => this.log.warn('scheduled job failed', { job: job.name, error: err }))
        .finally(() => {
          busy = false;
          this.running.delete(run);
        });
      this.running.add(run);
    };
    const timer = setInterval(tick, job.intervalMs);
    timer.unref();
    this.timers.push(timer);
  }

  /** Stops the timers and waits for runs in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    await Promise.allSettled([...this.running]);
  }
}

/** The discovery function's scheduled run: refresh answers due before the next run. */
export function discoveryRefreshJob(
  context: DiscoveryContext,
  intervalMs: number,
  log: Logger,
): ScheduledJob {
  return {
    name: 'discovery-refresh',
    intervalMs,
    run: async () => {
      const report = await refreshDiscoveries(context, { withinMs: intervalMs });
      for (const failure of report.failed) log.warn('discovery refresh failed', failure);
      if (report.refreshed.length > 0) log.debug('discovery refreshed', { names: report.refreshed });
    },
  };
}
