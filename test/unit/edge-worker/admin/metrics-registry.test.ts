import { describe, expect, it } from 'vitest';
import { MetricsRegistry, parsePrometheusText } from '../../../../edge-worker/admin/metrics-registry.js';
import { aggregatePrometheusText } from '../../../../edge-worker/cluster/aggregate-metrics.js';
import { sliceRange } from '../../../../edge-worker/cluster/port-slices.js';

describe('metrics registry', () => {
  it('renders counters, gauges and histograms in the Prometheus text format', () => {
    const registry = new MetricsRegistry();
    const counter = registry.counter('t_total', 'A counter.');
    const gauge = registry.gauge('t_open', 'A gauge.');
    const histogram = registry.histogram('t_seconds', 'A histogram.', [0.1, 1]);
    counter.inc({ kind: 'a"b\\c' }, 2);
    gauge.inc({}, 3);
    gauge.dec({}, 1);
    histogram.observe({ op: 'x' }, 0.05);
    histogram.observe({ op: 'x' }, 0.5);
    histogram.observe({ op: 'x' }, 5);
    expect(registry.render()).toBe(
      [
        '# HELP t_total A counter.',
        '# TYPE t_total counter',
        't_total{kind="a\\"b\\\\c"} 2',
        '# HELP t_open A gauge.',
        '# TYPE t_open gauge',
        't_open 2',
        '# HELP t_seconds A histogram.',
        '# TYPE t_seconds histogram',
        't_seconds_bucket{op="x",le="0.1"} 1',
        't_seconds_bucket{op="x",le="1"} 2',
        't_seconds_bucket{op="x",le="+Inf"} 3',
        't_seconds_sum{op="x"} 5.55',
        't_seconds_count{op="x"} 3',
        '',
      ].join('\n'),
    );
    expect(() => counter.inc({}, -1)).toThrow(RangeError);
    expect(() => registry.counter('t_total', 'again')).toThrow(/twice/);
  });

  it('sums the same samples of several processes', () => {
    const one = new MetricsRegistry();
    const two = new MetricsRegistry();
    for (const registry of [one, two]) {
      registry.counter('s_total', 'Sessions.').inc({ pool: 'p' }, 2);
      registry.histogram('d_seconds', 'Durations.', [1]).observe({}, 0.5);
    }
    two.counter('x_total', 'Only in two.').inc({}, 7);
    const merged = parsePrometheusText(aggregatePrometheusText([one.render(), two.render()]));
    expect(merged.get('s_total{pool="p"}')).toBe(4);
    expect(merged.get('d_seconds_bucket{le="1"}')).toBe(2);
    expect(merged.get('d_seconds_count')).toBe(2);
    expect(merged.get('x_total')).toBe(7);
    expect(aggregatePrometheusText([one.render(), two.render()]).match(/# TYPE s_total/g)).toHaveLength(1);
  });

  it('cuts passive port ranges into disjoint slices that cover the range', () => {
    const slices = [0, 1, 2].map((slot) => sliceRange(50000, 50009, slot, 3));
    expect(slices).toEqual([
      { min: 50000, max: 50003 },
      { min: 50004, max: 50006 },
      { min: 50007, max: 50009 },
    ]);
    expect(sliceRange(50000, 50001, 1, 3)).toEqual({ min: 50000, max: 50001 });
  });
});
