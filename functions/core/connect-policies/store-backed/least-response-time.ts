import { activeConnections, readResponseTimes } from '../../store/index.js';
import { leastResponseTimeOrder } from '../ordering/least-response-time.js';
import type { Selection, SelectionContext } from './selection.js';

/** LeastResponseTime: live leases and smoothed connect times of the pool (two Queries), lowest score first. */
export async function selectLeastResponseTime(
  context: SelectionContext,
  selection: Selection,
): Promise<number[]> {
  const now = context.now();
  const [active, times] = await Promise.all([
    activeConnections(context.table, selection.pool, now),
    readResponseTimes(context.table, selection.pool, now),
  ]);
  const connectMs = new Map([...times].map(([backend, time]) => [backend, time.ewmaMs]));
  return leastResponseTimeOrder(selection.backends, selection.usable, active, connectMs, context.random);
}
