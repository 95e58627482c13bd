import type { ConnectPolicy } from '../../../contract/connect-policies.js';
import { isPerNamePolicy, type PerUserFallback } from '../../../contract/resolve-backend.js';
import { backendKey, parseBackendUrl } from '../../backend-url.js';
import { listPoolBackends, lookupGroupBackends, lookupUserBackends } from '../../registry/index.js';
import type { Table } from '../../store/index.js';
import { appendRegistered, type ListEntry, listedEntries } from '../ordering/candidates.js';

export interface CandidateListRequest {
  pool: string;
  policy: ConnectPolicy;
  backends: readonly string[];
  backendsScope: 'pool' | 'user';
  stickyKey?: string;
  perUserFallback: PerUserFallback;
}

/** The list a selection draws from, or why there is none. */
export type CandidateList =
  | { kind: 'list'; list: 'pool' | 'user'; entries: ListEntry[] }
  | { kind: 'refused'; list: 'pool' | 'user'; reason: string };

/**
 * Builds the list one selection draws from (mod_proxy: "%U/%g files first, then sql:/ results
 * appended, otherwise the global list"):
 *
 * - PerUser / PerGroup, the edge worker's own per-user list (`backendsScope: "user"`, from `%U`
 *   files): that list, then the name's registered backends;
 * - PerUser / PerGroup otherwise: the name's registered backends (the `sql:/NamedQuery` equivalent)
 *   when there are any; else, with `perUserFallback: "refuse"`, a refusal; else the global list;
 * - the global list: the listed (configured) backends, then the pool's enabled registered ones.
 *
 * Reads: one GetItem for the name's mapping (per-name policies), one Query for the pool's registered
 * backends (when the global list is used); both together when both may be needed.
 */
export async function candidateList(table: Table, request: CandidateListRequest): Promise<CandidateList> {
  const listed = listedEntries(request.backends);
  const perName = isPerNamePolicy(request.policy) && request.stickyKey !== undefined;
  if (!perName) return { kind: 'list', list: 'pool', entries: await globalList(table, request.pool, listed) };

  const kind = request.policy === 'PerGroup' ? 'group' : 'user';
  const name = request.stickyKey as string;
  const lookup = () =>
    kind === 'group'
      ? lookupGroupBackends(table, request.pool, name)
      : lookupUserBackends(table, request.pool, name);
  if (request.backendsScope === 'user') {
    const own = registeredUrls(await lookup(), kind);
    return { kind: 'list', list: 'user', entries: appendRegistered(listed, own) };
  }
  const wantsGlobal = request.perUserFallback === 'global';
  // Both reads at once when the global list may be needed: a login waits for the slower one only.
  const [urls, global] = await Promise.all([
    lookup(),
    wantsGlobal ? globalList(table, request.pool, listed) : Promise.resolve(undefined),
  ]);
  const own = registeredUrls(urls, kind);
  if (own.length > 0) return { kind: 'list', list: 'user', entries: appendRegistered([], own) };
  if (global) return { kind: 'list', list: 'pool', entries: global };
  return {
    kind: 'refused',
    list: 'user',
    reason: `no backends for ${kind} "${name}" (none listed for it, none registered) and perUserFallback is refuse`,
  };
}

async function globalList(table: Table, pool: string, listed: ListEntry[]): Promise<ListEntry[]> {
  const registered = await listPoolBackends(table, pool);
  return appendRegistered(
    listed,
    registered.map((backend) => ({ backend: backend.backend, url: backend.url, registry: 'pool' as const })),
  );
}

/**
 * A mapping's URLs as entries. The registry validated them when they were written; one that no
 * longer parses is left out rather than failing the selection.
 */
function registeredUrls(urls: readonly string[] | undefined, kind: 'user' | 'group'): ListEntry[] {
  if (!urls) return [];
  return urls.flatMap((url) => {
    const parsed = parseBackendUrl(url);
    return parsed.ok ? [{ backend: backendKey(parsed.url), url, registry: kind }] : [];
  });
}
