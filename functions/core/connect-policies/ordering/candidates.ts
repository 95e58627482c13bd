/**
 * One entry of the list a selection draws from. Listed entries come from the request (`index` is
 * their position in its `backends`); registered ones from the registry (`url`, with credentials).
 * `backend` is the credential-free key every policy, lease and exclusion uses.
 */
export interface ListEntry {
  backend: string;
  index?: number;
  url?: string;
  registry?: 'pool' | 'user' | 'group';
  /** Found through a `+srv` / `+txt` entry (discovery): that entry's key and listed position. */
  via?: { backend: string; index?: number };
  /** An SRV target: its SRV name (the `+srv` key), priority and weight (RFC 2782). */
  srv?: { group: string; priority: number; weight: number };
}

/** The request's backends as listed entries, in order (duplicates kept, as configured). */
export function listedEntries(backends: readonly string[]): ListEntry[] {
  return backends.map((backend, index) => ({ backend, index }));
}

/**
 * `entries` followed by the registered entries whose key is not already in the list: a backend both
 * listed and registered is used once, as listed (the edge worker has its URL), and a backend
 * registered twice once, at its first place.
 */
export function appendRegistered(
  entries: readonly ListEntry[],
  registered: readonly ListEntry[],
): ListEntry[] {
  const seen = new Set(entries.map((entry) => entry.backend));
  const merged = [...entries];
  for (const entry of registered) {
    if (seen.has(entry.backend)) continue;
    seen.add(entry.backend);
    merged.push(entry);
  }
  return merged;
}

/**
 * The positions of `entries` that failed in this session: listed ones named by position
 * (`exclude`, positions in the request's `backends`) and any entry whose key is in
 * `excludeBackends` (every position with that key: a failed backend listed twice failed twice).
 */
export function excludedPositions(
  entries: readonly ListEntry[],
  exclude: Iterable<number>,
  excludeBackends: Iterable<string>,
): Set<number> {
  const byIndex = new Set(exclude);
  const byKey = new Set(excludeBackends);
  const excluded = new Set<number>();
  entries.forEach((entry, position) => {
    if ((entry.index !== undefined && byIndex.has(entry.index)) || byKey.has(entry.backend)) {
      excluded.add(position);
    }
  });
  return excluded;
}
