/**
 * Sums the /metrics text of several worker processes sample by sample (counters, gauges and
 * histogram buckets all add up across processes), keeping the first HELP / TYPE of each family.
 */
export function aggregatePrometheusText(texts: string[]): string {
  const order: string[] = [];
  const comments = new Map<string, string[]>();
  const samples = new Map<string, { family: string; key: string; value: number }>();
  const familyOf = (name: string) => name.replace(/_(bucket|sum|count)$/, '');
  const families: string[] = [];
  const familySamples = new Map<string, string[]>();
  for (const text of texts) {
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const comment = /^# (HELP|TYPE) (\S+)/.exec(line);
      if (comment) {
        const family = comment[2] ?? '';
        if (!comments.has(family)) {
          comments.set(family, []);
          families.push(family);
        }
        const list = comments.get(family) ?? [];
        if (list.length < 2 && !list.some((existing) => existing.startsWith(`# ${comment[1]}`)))
          list.push(line);
        continue;
      }
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)$/.exec(line);
      if (!match) continue;
      const key = `${match[1]}${match[2] ?? ''}`;
      const value = match[3] === '+Inf' ? Number.POSITIVE_INFINITY : Number(match[3]);
      const existing = samples.get(key);
      if (existing) existing.value += value;
      else {
        const family = comments.has(match[1] ?? '') ? (match[1] ?? '') : familyOf(match[1] ?? '');
        samples.set(key, { family, key, value });
        order.push(key);
        if (!familySamples.has(family)) familySamples.set(family, []);
        familySamples.get(family)?.push(key);
      }
    }
  }
  const lines: string[] = [];
  for (const family of families) {
    lines.push(...(comments.get(family) ?? []));
    for (const key of familySamples.get(family) ?? []) lines.push(`${key} ${samples.get(key)?.value}`);
  }
  return `${lines.join('\n')}\n`;
}
