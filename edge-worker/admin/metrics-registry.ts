/**
 * A small Prometheus registry (text exposition format 0.0.4): counters, gauges and histograms with
 * labels. The edge worker owns one; /metrics renders it. No client library: the format is a few lines.
 */

export type Labels = Record<string, string>;

interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  render(): string[];
}

function labelKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((key) => `${key}=${JSON.stringify(labels[key])}`)
    .join(',');
}

/** Label values escaped as the exposition format wants: backslash, double quote, newline. */
function formatLabels(labels: Labels, extra?: [string, string]): string {
  const pairs = Object.keys(labels)
    .sort()
    .map((key) => [key, labels[key] ?? ''] as [string, string]);
  if (extra) pairs.push(extra);
  if (pairs.length === 0) return '';
  const text = pairs
    .map(
      ([key, value]) => `${key}="${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`,
    )
    .join(',');
  return `{${text}}`;
}

function formatNumber(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return Number.isNaN(value) ? 'NaN' : String(value);
}

abstract class ScalarFamily implements Family {
  protected readonly values = new Map<string, { labels: Labels; value: number }>();
  abstract readonly type: 'counter' | 'gauge';
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  protected add(labels: Labels, delta: number): void {
    const key = labelKey(labels);
    const entry = this.values.get(key);
    if (entry) entry.value += delta;
    else this.values.set(key, { labels: { ...labels }, value: delta });
  }

  get(labels: Labels = {}): number {
    return this.values.get(labelKey(labels))?.value ?? 0;
  }

  has(labels: Labels): boolean {
    return this.values.has(labelKey(labels));
  }

  /** Drops a series (its label values will not come back, e.g. a removed backend). */
  delete(labels: Labels): void {
    this.values.delete(labelKey(labels));
  }

  series(): { labels: Labels; value: number }[] {
    return [...this.values.values()].map((entry) => ({ labels: { ...entry.labels }, value: entry.value }));
  }

  render(): string[] {
    return [...this.values.values()].map(
      (entry) => `${this.name}${formatLabels(entry.labels)} ${formatNumber(entry.value)}`,
    );
  }
}

export class Counter extends ScalarFamily {
  readonly type = 'counter' as const;
  inc(labels: Labels = {}, delta = 1): void {
    if (delta < 0) throw new RangeError(`counter ${this.name} cannot go down`);
    this.add(labels, delta);
  }
}

export class Gauge extends ScalarFamily {
  readonly type = 'gauge' as const;
  inc(labels: Labels = {}, delta = 1): void {
    this.add(labels, delta);
  }
  dec(labels: Labels = {}, delta = 1): void {
    this.add(labels, -delta);
  }
  set(labels: Labels, value: number): void {
    this.values.set(labelKey(labels), { labels: { ...labels }, value });
  }
  /** Drops every series (for gauges recomputed from scratch, e.g. per-backend health). */
  reset(): void {
    this.values.clear();
  }
}

export class Histogram implements Family {
  readonly type = 'histogram' as const;
  private readonly series = new Map<
    string,
    { labels: Labels; counts: number[]; sum: number; count: number }
  >();
  constructor(
    readonly name: string,
    readonly help: string,
    /** Upper bounds, ascending; +Inf is implied. */
    readonly buckets: readonly number[],
  ) {}

  observe(labels: Labels, value: number): void {
    const key = labelKey(labels);
    let entry = this.series.get(key);
    if (!entry) {
      entry = { labels: { ...labels }, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(key, entry);
    }
    this.buckets.forEach((bound, index) => {
      if (value <= bound && entry) entry.counts[index] = (entry.counts[index] ?? 0) + 1;
    });
    entry.sum += value;
    entry.count += 1;
  }

  count(labels: Labels = {}): number {
    return this.series.get(labelKey(labels))?.count ?? 0;
  }

  /** Drops a series (its label values will not come back, e.g. a removed backend). */
  delete(labels: Labels): void {
    this.series.delete(labelKey(labels));
  }

  render(): string[] {
    const lines: string[] = [];
    for (const entry of this.series.values()) {
      this.buckets.forEach((bound, index) => {
        lines.push(
          `${this.name}_bucket${formatLabels(entry.labels, ['le', formatNumber(bound)])} ${entry.counts[index] ?? 0}`,
        );
      });
      lines.push(`${this.name}_bucket${formatLabels(entry.labels, ['le', '+Inf'])} ${entry.count}`);
      lines.push(`${this.name}_sum${formatLabels(entry.labels)} ${formatNumber(entry.sum)}`);
      lines.push(`${this.name}_count${formatLabels(entry.labels)} ${entry.count}`);
    }
    return lines;
  }
}

export class MetricsRegistry {
  private readonly families = new Map<string, Family>();
  /** Called before rendering, for gauges read from elsewhere (pool health, cache sizes). */
  private readonly collectors: (() => void)[] = [];

  counter(name: string, help: string): Counter {
    return this.register(new Counter(name, help));
  }
  gauge(name: string, help: string): Gauge {
    return this.register(new Gauge(name, help));
  }
  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    return this.register(new Histogram(name, help, buckets));
  }

  /** Runs `collect` before every render: a hook for values that live elsewhere. */
  onCollect(collect: () => void): void {
    this.collectors.push(collect);
  }

  render(): string {
    for (const collect of this.collectors) collect();
    const lines: string[] = [];
    for (const family of this.families.values()) {
      lines.push(`# HELP ${family.name} ${family.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`);
      lines.push(`# TYPE ${family.name} ${family.type}`);
      lines.push(...family.render());
    }
    return `${lines.join('\n')}\n`;
  }

  private register<T extends Family>(family: T): T {
    if (this.families.has(family.name)) throw new Error(`metric ${family.name} is registered twice`);
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(family.name)) throw new Error(`bad metric name ${family.name}`);
    this.families.set(family.name, family);
    return family;
  }
}

/** Parses exposition text into `name{labels sorted by name}` → value. */
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
