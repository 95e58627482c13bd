import {
  backendId,
  backoff,
  readShuffleRound,
  StoreError,
  startNextRound,
  takeFromRound,
} from '../../store/index.js';
import { shuffleStep } from '../ordering/shuffle.js';
import type { Selection, SelectionContext } from './selection.js';

const MAX_ATTEMPTS = 50;

/**
 * Shuffle: read the round, decide (policies/shuffle.ts), then make the decision stick with one
 * conditional write; when another caller's write got there first, re-read and decide again.
 */
export async function selectShuffle(context: SelectionContext, selection: Selection): Promise<number[]> {
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
