import { isIP } from 'node:net';
import { backendKey, parseBackendUrl } from '../backend-url.js';
import type { ListEntry } from '../connect-policies/index.js';
import type { DiscoveredTarget } from './discover.js';
import { type DiscoveryContext, discoverUrl } from './discovery-service.js';

export interface ExpandedList {
  entries: ListEntry[];
  /** Why an entry gave no backend (no service, nothing found, DNS failure), for the answer's reason. */
  problems: string[];
}

/**
 * Replaces every `+srv` / `+txt` entry of a selection's list with the backends DNS names for it
 * (through the shared cache, see discovery-service.ts), in place and in the answer's stable order.
 * A discovered backend carries a credential-free URL and `via` (the entry it came from): the edge
 * worker adds the credentials it holds for that entry. A registered entry's credentials are put in
 * the URL here, as for any registered backend. A backend already in the list is not added twice.
 */
export async function expandDiscovered(
  context: DiscoveryContext,
  entries: readonly ListEntry[],
): Promise<ExpandedList> {
  if (!entries.some((entry) => isDiscoveryKey(entry.backend))) return { entries: [...entries], problems: [] };
  const answers = await Promise.all(
    entries.map(async (entry) => {
      if (!isDiscoveryKey(entry.backend)) return undefined;
      const parsed = parseBackendUrl(entry.url ?? entry.backend);
      if (!parsed.ok) return { error: parsed.error };
      try {
        return { answer: await discoverUrl(context, entry.backend, parsed.url), url: parsed.url };
      } catch (err) {
        return { error: err instanceof Error ? err.message : String(err) };
      }
    }),
  );
  const problems: string[] = [];
  const expanded: ListEntry[] = [];
  const seen = new Set<string>();
  const add = (entry: ListEntry) => {
    if (seen.has(entry.backend)) return;
    seen.add(entry.backend);
    expanded.push(entry);
  };
  entries.forEach((entry, position) => {
    const found = answers[position];
    if (!found) {
      add(entry);
      return;
    }
    if ('error' in found) {
      problems.push(`${entry.backend}: ${found.error}`);
      return;
    }
    const { discovery } = found.answer;
    if (discovery.outcome === 'no-service') problems.push(`${entry.backend}: SRV target "." (no service)`);
    if (discovery.outcome === 'not-found') {
      problems.push(`${entry.backend}: nothing found (${discovery.notes.join('; ') || 'no records'})`);
    }
    const credentials =
      entry.url !== undefined && found.url.user !== undefined
        ? `${found.url.user}${found.url.password !== undefined ? `:${found.url.password}` : ''}@`
        : '';
    for (const target of discovery.targets) {
      const key = targetKey(target);
      add({
        backend: key,
        url: credentials === '' ? key : key.replace('://', `://${credentials}`),
        ...(entry.registry ? { registry: entry.registry } : {}),
        via: { backend: entry.backend, ...(entry.index !== undefined ? { index: entry.index } : {}) },
        ...(discovery.outcome === 'records' && found.url.discovery === 'srv'
          ? { srv: { group: entry.backend, priority: target.priority, weight: target.weight } }
          : {}),
      });
    }
  });
  return { entries: expanded, problems };
}

export function isDiscoveryKey(backend: string): boolean {
  return /^[a-z]+\+(srv|txt):\/\//i.test(backend);
}

function targetKey(target: DiscoveredTarget): string {
  return backendKey({
    protocol: target.protocol,
    host: isIP(target.address) ? target.address : target.host,
    port: target.port,
    implicitTls: false,
  });
}
