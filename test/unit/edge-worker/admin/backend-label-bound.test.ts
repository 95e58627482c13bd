import { describe, expect, it } from 'vitest';
import {
  EdgeMetrics,
  MAX_BACKEND_SERIES,
  OTHER_BACKENDS,
} from '../../../../edge-worker/admin/edge-metrics.js';
import { parsePrometheusText } from '../../../support/prometheus-text.js';

const seriesOf = (samples: Map<string, number>, name: string) =>
  [...samples.keys()].filter((key) => key.startsWith(`${name}{`));

describe('backend label values are bounded (client-chosen forward destinations)', () => {
  it('keeps at most MAX_BACKEND_SERIES backends, dropping the series of idle ones first', async () => {
    const metrics = new EdgeMetrics({ processMetrics: false });
    for (let i = 0; i < MAX_BACKEND_SERIES * 4; i++)
      metrics.setBackendHealth('fwd', `ftp://10.0.${i >> 8}.${i & 255}:21`, false);
    const samples = parsePrometheusText(await metrics.render());
    expect(seriesOf(samples, 'ftpx_backend_up')).toHaveLength(MAX_BACKEND_SERIES);
    // The newest survive, the oldest were dropped.
    expect(samples.has('ftpx_backend_up{backend="ftp://10.0.0.0:21",pool="fwd"}')).toBe(false);
    expect(samples.get('ftpx_backend_up{backend="ftp://10.0.3.255:21",pool="fwd"}')).toBe(0);
    expect(metrics.knownBackends()).toHaveLength(MAX_BACKEND_SERIES);
    expect(metrics.backend('fwd', 'ftp://10.0.3.255:21')?.up).toBe(false);
  });

  it('counts a new backend as "other" while every kept backend has active sessions, and balances inc/dec', async () => {
    const metrics = new EdgeMetrics({ processMetrics: false });
    for (let i = 0; i < MAX_BACKEND_SERIES; i++) {
      metrics.backendSessionOpened('fwd', metrics.backendLabel('fwd', `b${i}`), 5);
    }
    const other = metrics.backendLabel('fwd', 'one-more');
    expect(other).toBe(OTHER_BACKENDS);
    metrics.backendSessionOpened('fwd', other);
    expect(metrics.backend('fwd', OTHER_BACKENDS)?.activeSessions).toBe(1);
    metrics.backendSessionClosed('fwd', other);
    metrics.backendSessionClosed('fwd', 'b0');
    expect(metrics.backendLabel('fwd', 'one-more')).toBe('one-more');
    expect(metrics.backend('fwd', 'b0')).toBeUndefined();
    const samples = parsePrometheusText(await metrics.render());
    expect(samples.has('ftpx_backend_sessions_active{backend="b0",pool="fwd"}')).toBe(false);
    expect(samples.has('ftpx_backend_connect_seconds_count{backend="b0",pool="fwd"}')).toBe(false);
    expect(samples.get('ftpx_backend_sessions_active{backend="b1",pool="fwd"}')).toBe(1);
    expect(samples.get('ftpx_backend_sessions_active{backend="other",pool="fwd"}')).toBe(0);
    // b1..b255 and "other"; b0 went, and one-more has no session yet.
    expect(seriesOf(samples, 'ftpx_backend_sessions_active')).toHaveLength(MAX_BACKEND_SERIES);
  });
});
