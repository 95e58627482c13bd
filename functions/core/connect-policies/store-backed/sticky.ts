import type { StickyPolicy } from '../../../contract/connect-policies.js';
import {
  createStickyMapping,
  epochSeconds,
  expiresAtFor,
  readStickyMapping,
  replaceStickyMapping,
  StoreError,
} from '../../store/index.js';
import { stickyDecision } from '../ordering/sticky.js';
import type { Selection, SelectionContext } from './selection.js';

const MAX_ATTEMPTS = 10;

/**
 * PerUser, PerGroup, PerHost: read the key's mapping, decide (policies/sticky.ts), and write a new
 * or replaced mapping conditionally; a lost race re-reads and adopts what the winner stored. A kept
 * mapping is renewed (conditionally on still naming the same backend) once less than half of its
 * time to live is left, so a key in use never expires while unused ones do. A provisional selection
 * (the client has not logged in) reads and decides only.
 */
export async function selectSticky(
  context: SelectionContext,
  selection: Selection & { policy: StickyPolicy; stickyKey: string; provisional?: boolean },
): Promise<number[]> {
  const ref = { pool: selection.pool, policy: selection.policy, stickyKey: selection.stickyKey };
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const now = context.now();
    const stored = await readStickyMapping(context.table, ref, now);
    const decision = stickyDecision(
      selection.stickyKey,
      selection.backends,
      selection.usable,
      stored?.backend,
    );
    // Before the client logged in nothing is written (contract: `provisional`).
    if (selection.provisional) return decision.order;
    const expiresAt = expiresAtFor(now, context.stickyTtlMs);
    if (decision.kind === 'keep') {
      if (stored && (stored.expiresAt - epochSeconds(now)) * 1000 < context.stickyTtlMs / 2) {
        // Losing this race means someone else just rewrote the mapping: theirs is as good.
        await replaceStickyMapping(context.table, ref, stored.backend, stored.backend, now, expiresAt);
      }
      return decision.order;
    }
    const won =
      decision.kind === 'store'
        ? await createStickyMapping(context.table, ref, decision.backend, now, expiresAt)
        : await replaceStickyMapping(context.table, ref, decision.previous, decision.backend, now, expiresAt);
    if (won) return decision.order;
  }
  throw new StoreError(`the ${selection.policy} mapping in pool ${selection.pool} kept changing`);
}
