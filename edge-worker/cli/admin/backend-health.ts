import type { PoolHealthView } from '../../../functions/contract/health.js';
import type { CommandContext } from './command.js';
import { quoted } from './command.js';
import { formatTable, orDash } from './output.js';

/** `ftpx backends list POOL --health` (and `ftpx backends health POOL`): the pool's backend health. */
export async function printPoolHealth(context: CommandContext, pool: string): Promise<void> {
  const health = await context.api.call<PoolHealthView>('GET', ['v1', 'pools', pool, 'health']);
  context.print(
    health,
    health.backends.length === 0
      ? `no health records in pool ${quoted(pool)}: every backend is healthy (or unchecked)\n`
      : formatTable(
          ['BACKEND', 'STATE', 'FAILURES', 'UNTIL', 'CHECK', 'LATENCY', 'REASON'],
          health.backends.map((backend) => [
            backend.backend,
            backend.state,
            String(backend.failures),
            orDash(backend.state === 'unhealthy' ? backend.unhealthyUntil : undefined),
            backend.check ? (backend.check.ok ? 'pass' : 'fail') : '-',
            backend.check ? `${backend.check.latencyMs} ms` : '-',
            orDash(
              backend.state === 'healthy'
                ? backend.check?.warning
                : (backend.reason ?? backend.lastFailureReason ?? backend.check?.reason),
            ),
          ]),
        ),
  );
}
