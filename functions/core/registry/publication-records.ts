import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { parseBackendUrl } from '../backend-url.js';
import type { PublicationConfig } from './publication-config.js';

/** One DNS record set as Route 53 holds it: absolute lower-case name, type, TTL, values. */
export interface RecordSet {
  name: string;
  type: 'SRV' | 'TXT' | 'A' | 'AAAA';
  ttl: number;
  values: string[];
}

/** A backend as publication sees it (the registry's record). */
export interface PublishedBackend {
  backend: string;
  url: string;
  weight?: number;
  labels?: Record<string, string>;
}

/** A backend with this label set to "false" is registered but not published. */
export const PUBLISH_LABEL = 'ftpx.publish';

/**
 * The records a pool's publication should hold, for `domain` D:
 * - SRV `_<scheme>._tcp.D` (scheme ftp, ftps or sftp): `priority weight port target` per backend,
 *   so edge workers use `<scheme>+srv://_<scheme>._tcp.D`;
 * - the SRV target is the backend's host name, or for a backend given by address an A / AAAA record
 *   `b-<12 hex digits of SHA-256 over its key>.D` (SRV targets must be names, RFC 2782);
 * - with `txt`: TXT `_<scheme>.D` holding `<scheme>://host:port` per backend (`+txt` takes the first
 *   that parses, so with several backends it is one of them).
 * Credentials are never published. `+srv` / `+txt` backends and those labelled ftpx.publish=false
 * are left out.
 */
export function desiredRecords(
  config: PublicationConfig,
  backends: readonly PublishedBackend[],
): RecordSet[] {
  const domain = normalizeName(config.domain);
  const sets = new Map<string, RecordSet>();
  const add = (name: string, type: RecordSet['type'], value: string) => {
    const id = `${name} ${type}`;
    const set = sets.get(id) ?? { name, type, ttl: config.ttl, values: [] };
    if (!set.values.includes(value)) set.values.push(value);
    sets.set(id, set);
  };
  for (const backend of backends) {
    if (backend.labels?.[PUBLISH_LABEL] === 'false') continue;
    const parsed = parseBackendUrl(backend.url);
    if (!parsed.ok || parsed.url.discovery) continue;
    const { protocol, host, port } = parsed.url;
    let target: string;
    const family = isIP(host);
    if (family !== 0) {
      target = addressName(backend.backend, domain);
      add(target, family === 4 ? 'A' : 'AAAA', host);
    } else {
      target = normalizeName(host);
    }
    add(
      `_${protocol}._tcp.${domain}`,
      'SRV',
      `${config.priority} ${Math.min(65_535, backend.weight ?? 1)} ${port} ${target}`,
    );
    if (config.txt) {
      add(`_${protocol}.${domain}`, 'TXT', `"${protocol}://${family === 6 ? `[${host}]` : host}:${port}"`);
    }
  }
  return [...sets.values()]
    .map((set) => ({ ...set, values: [...set.values].sort() }))
    .sort((a, b) => a.name.localeCompare(b.name) || a.type.localeCompare(b.type));
}

/** Whether a record set in the zone is one publication manages for `domain` (and may replace or delete). */
export function isManagedName(name: string, domain: string): boolean {
  const suffix = normalizeName(domain);
  const lower = name.toLowerCase();
  if (!lower.endsWith(`.${suffix}`)) return false;
  const head = lower.slice(0, -suffix.length - 1);
  return /^(_(ftp|ftps|sftp)\._tcp|_(ftp|ftps|sftp)|b-[0-9a-f]{12})$/.test(head);
}

/** Absolute, lower case, with the trailing dot Route 53 answers with. */
export function normalizeName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
}

function addressName(backend: string, domain: string): string {
  return `b-${createHash('sha256').update(backend).digest('hex').slice(0, 12)}.${domain}`;
}
