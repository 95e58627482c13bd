import { createHash } from 'node:crypto';

/**
 * Rendezvous (highest-random-weight) hashing for sticky policies. Each (key, backend) pair gets a
 * weight: the first 48 bits of SHA-256 over the UTF-8 of `<key length>:<key><backend>` (the length
 * in UTF-16 code units, as JavaScript counts it, keeps the split unambiguous), read big-endian. A key's ranking is its backends by weight,
 * highest first, ties (equal backend keys) by position. Adding or removing a backend only moves the
 * keys that rank it first, where mod_proxy's `hash(name) % count` remaps most keys when the list
 * changes; and the ranking does not depend on the list's order or on which positions are excluded.
 */
export function rendezvousWeight(key: string, backend: string): number {
  return createHash('sha256').update(`${key.length}:${key}${backend}`, 'utf8').digest().readUIntBE(0, 6);
}

/** Every position of `backends`, best first, for `key`. */
export function rendezvousRank(key: string, backends: readonly string[]): number[] {
  return backends
    .map((backend, index) => ({ index, weight: rendezvousWeight(key, backend) }))
    .sort((a, b) => b.weight - a.weight || a.index - b.index)
    .map((entry) => entry.index);
}
