/** The public surface of functions/core/connect-policies/: import from here, not from its files (docs/layers.md). */

export { excludedPositions, type ListEntry } from './ordering/candidates.js';
export { randomOrder } from './ordering/random.js';
export { roundRobinOrder } from './ordering/round-robin.js';
export { usablePositions } from './ordering/usable.js';
export { candidateList } from './store-backed/candidate-list.js';
export { selectLeastConns } from './store-backed/least-conns.js';
export { selectLeastResponseTime } from './store-backed/least-response-time.js';
export type { SelectionContext } from './store-backed/selection.js';
export { selectShuffle } from './store-backed/shuffle.js';
export { selectSticky } from './store-backed/sticky.js';
