import { describe, expect, it } from 'vitest';
import {
  EdgeMetrics,
  type MetricsSnapshot,
  sampleValue,
} from '../../../../edge-worker/admin/edge-metrics.js';
import { aggregateMetrics } from '../../../../edge-worker/cluster/aggregate-metrics.js';
import { sliceRange } from '../../../../edge-worker/cluster/port-slices.js';
import { parsePrometheusText } from '../../../support/prometheus-text.js';

/** What a snapshot looks like after the cluster IPC channel (JSON) carried it. */
const overIpc = (snapshot: MetricsSnapshot): MetricsSnapshot => JSON.parse(JSON.stringify(snapshot));

describe('edge metrics (prom-client)', () => {
  it('renders counters, gauges and histograms in the Prometheus text format, with escaped label values', async () => {
    const metrics = new EdgeMetrics({ processMetrics: false });
    metrics.logins.inc({ protocol: 'ftp', pool: 'a"b\\c', role: 'reverse', result: 'ok' }, 2);
    metrics.sessionsActive.inc({ protocol: 'ftp', pool: 'p', role: 'reverse' }, 3);
    metrics.sessionsActive.dec({ protocol: 'ftp', pool: 'p', role: 'reverse' });
    for (const seconds of [0.0005, 0.3, 400])
      metrics.controlPlaneSeconds.observe({ operation: 'auth', result: 'ok' }, seconds);
    const text = await metrics.render();
    expect(text).toContain('# TYPE ftpx_logins_total counter');
    expect(text).toContain('pool="a\\"b\\\\c"');
    expect(text).toContain('# TYPE ftpx_control_plane_call_seconds histogram');
    const samples = parsePrometheusText(text);
    expect(samples.get('ftpx_sessions_active{pool="p",protocol="ftp",role="reverse"}')).toBe(2);
    const op = 'operation="auth",result="ok"';
    expect(samples.get(`ftpx_control_plane_call_seconds_bucket{le="0.001",${op}}`)).toBe(1);
    expect(samples.get(`ftpx_control_plane_call_seconds_bucket{le="0.5",${op}}`)).toBe(2);
    expect(samples.get(`ftpx_control_plane_call_seconds_bucket{le="300",${op}}`)).toBe(2);
    expect(samples.get(`ftpx_control_plane_call_seconds_bucket{le="+Inf",${op}}`)).toBe(3);
    expect(samples.get(`ftpx_control_plane_call_seconds_count{${op}}`)).toBe(3);
    expect(samples.get('ftpx_sessions_kicked_total')).toBe(0);
    // Without the process's default metrics when asked not to.
    expect(text).not.toContain('process_cpu_seconds_total');
    expect(await sampleValue(metrics.sessionsActive, { protocol: 'ftp', pool: 'p', role: 'reverse' })).toBe(
      2,
    );
  });

  it('accepts only the label names each metric declares, and counters only go up', () => {
    const metrics = new EdgeMetrics({ processMetrics: false });
    expect(() => metrics.resolutionCache.inc({ result: 'live', user: 'x' } as never)).toThrow(/label/i);
    expect(() => metrics.sessionsKicked.inc(-1)).toThrow(/decrease/i);
  });

  it('adds the process default metrics (CPU, memory, event loop lag) by default, once per process', async () => {
    const one = parsePrometheusText(await new EdgeMetrics().render());
    const two = parsePrometheusText(await new EdgeMetrics().render());
    for (const samples of [one, two]) {
      // prom-client counts CPU from when the collector was made: a render right after it can be 0
      // on a kernel that accounts CPU time by ticks (it was, once in a full run).
      expect(samples.get('process_cpu_user_seconds_total')).toBeGreaterThanOrEqual(0);
      expect(samples.get('process_resident_memory_bytes')).toBeGreaterThan(0);
      expect(samples.has('nodejs_eventloop_lag_seconds')).toBe(true);
    }
  });

  it('sums the same samples of several processes (cluster primary), once per family', async () => {
    const one = new EdgeMetrics({ processMetrics: false });
    const two = new EdgeMetrics({ processMetrics: false });
    for (const metrics of [one, two]) {
      metrics.sessionsTotal.inc({ protocol: 'ftp', pool: 'p', role: 'reverse' }, 2);
      metrics.transferSeconds.observe({ protocol: 'ftp', pool: 'p', result: 'ok' }, 0.5);
    }
    two.reloads.inc({ result: 'rejected' }, 7);
    const text = await aggregateMetrics([overIpc(await one.snapshot()), overIpc(await two.snapshot())]);
    const merged = parsePrometheusText(text);
    expect(merged.get('ftpx_sessions_total{pool="p",protocol="ftp",role="reverse"}')).toBe(4);
    const labels = 'pool="p",protocol="ftp",result="ok"';
    expect(merged.get(`ftpx_transfer_duration_seconds_bucket{le="1",${labels}}`)).toBe(2);
    expect(merged.get(`ftpx_transfer_duration_seconds_bucket{le="0.25",${labels}}`)).toBe(0);
    expect(merged.get(`ftpx_transfer_duration_seconds_bucket{le="+Inf",${labels}}`)).toBe(2);
    expect(merged.get(`ftpx_transfer_duration_seconds_count{${labels}}`)).toBe(2);
    expect(merged.get('ftpx_config_reloads_total{result="rejected"}')).toBe(7);
    expect(text.match(/# TYPE ftpx_sessions_total/g)).toHaveLength(1);
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
