import { type DiscoveryContext, refreshDiscoveries } from '../../functions/core/discovery/index.js';
import type {
  ActiveCheckOptions,
  HealthSettings,
  ListedBackends,
} from '../../functions/core/health/index.js';
import { checkPools } from '../../functions/core/health/index.js';
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

/**
 * The health-check function's scheduled run: this worker's listed backends (which only it knows),
 * the registered ones and every backend with a health record. Changes of a backend's verdict are
 * logged, as are targets the destination address policy keeps the checks from.
 */
export function healthCheckJob(
  context: DiscoveryContext,
  /** The listed backends of the current config (a reload changes them). */
  listed: () => ListedBackends[],
  options: ActiveCheckOptions,
  settings: HealthSettings,
  intervalMs: number,
  log: Logger,
): ScheduledJob {
  const last = new Map<string, boolean | 'refused'>();
  return {
    name: 'health-check',
    intervalMs,
    run: async () => {
      const { checked, refused } = await checkPools(context, { listed: listed() }, options, settings);
      for (const target of refused) {
        const key = `${target.pool}\n${target.backend}`;
        // Logged once until the verdict changes (the key, address and class only: no credentials).
        if (last.get(key) !== 'refused') {
          log.warn('health check target refused by the destination policy', { ...target });
        }
        last.set(key, 'refused');
      }
      for (const outcome of checked) {
        const key = `${outcome.pool}\n${outcome.backend}`;
        if (last.get(key) !== outcome.ok) {
          const fields = {
            pool: outcome.pool,
            backend: outcome.backend,
            latencyMs: outcome.latencyMs,
            reason: outcome.reason,
          };
          if (outcome.ok) log.info('health check passed', fields);
          else log.warn('health check failed', fields);
        }
        if (outcome.warning)
          log.warn('health check warning', { backend: outcome.backend, warning: outcome.warning });
        last.set(key, outcome.ok);
      }
    },
  };
}
