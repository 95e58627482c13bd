/** Parses exposition text into `name{labels sorted by name}` → value (tests read /metrics with it). */
export function parsePrometheusText(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)$/.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const value = match[3] === '+Inf' ? Number.POSITIVE_INFINITY : Number(match[3]);
    // Labels sorted by name, so that lookups do not depend on the order a writer chose.
    const pairs = [...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)]
      .map((pair) => `${pair[1]}="${pair[2]}"`)
      .sort();
    samples.set(`${match[1]}${pairs.length > 0 ? `{${pairs.join(',')}}` : ''}`, value);
  }
  return samples;
}
