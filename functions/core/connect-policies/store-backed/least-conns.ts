import { activeConnections } from '../../store/index.js';
import { leastConnsOrder } from '../ordering/least-conns.js';
import type { Selection, SelectionContext } from './selection.js';

/** LeastConns: sum the pool's live leases per backend (one Query), fewest first. Read-only. */
export async function selectLeastConns(context: SelectionContext, selection: Selection): Promise<number[]> {
  const active = await activeConnections(context.table, selection.pool, context.now());
  return leastConnsOrder(selection.backends, selection.usable, active, context.random);
}
