import {
  backendId,
  backoff,
  readShuffleRound,
  StoreError,
  startNextRound,
  type Table,
  takeFromRound,
} from '../../store/index.js';
import { shuffleStep } from '../ordering/shuffle.js';
import type { Selection, SelectionContext } from './selection.js';

const MAX_ATTEMPTS = 50;

/**
 * Shuffle: read the round, decide (policies/shuffle.ts), then make the decision stick with one
 * conditional write; when another caller's write got there first, re-read and decide again.
 */
export function selectShuffle(context: SelectionContext, selection: Selection): Promise<number[]> {
  return oneAtATime(context.table, selection.pool, () => pickInRound(context, selection));
}

/**
 * The picks of one pool through one client run one after the other: concurrent logins of one
 * control plane would otherwise all read the same round and all but one lose the conditional write,
 * retrying with backoff (a 32-client burst measured ~27 reads and writes per login, bench/README.md
 * "Login path"). The conditional write still arbitrates between processes.
 */
const queues = new WeakMap<Table['client'], Map<string, Promise<unknown>>>();

function oneAtATime<T>(table: Table, pool: string, run: () => Promise<T>): Promise<T> {
  let byPool = queues.get(table.client);
  if (!byPool) {
    byPool = new Map();
    queues.set(table.client, byPool);
  }
  const pools = byPool;
  const id = `${table.name}\u0000${pool}`;
  const result = (pools.get(id) ?? Promise.resolve()).then(run);
  const tail = result.then(
    () => undefined,
    () => undefined,
  );
  pools.set(id, tail);
  void tail.then(() => {
    if (pools.get(id) === tail) pools.delete(id);
  });
  return result;
}

async function pickInRound(context: SelectionContext, selection: Selection): Promise<number[]> {
  const ids = selection.backends.map(backendId);
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const round = await readShuffleRound(context.table, selection.pool);
    const step = shuffleStep(ids, selection.usable, round?.remaining, context.random);
    const now = context.now();
    if (step.kind === 'off-round') return step.order;
    const won =
      step.kind === 'take'
        ? await takeFromRound(context.table, selection.pool, step.id, now)
        : await startNextRound(context.table, selection.pool, round?.round, step.remaining, now);
    if (won) return step.order;
    await backoff(attempt, context.random);
  }
  throw new StoreError(`the shuffle round of pool ${selection.pool} kept changing under concurrent callers`);
}
