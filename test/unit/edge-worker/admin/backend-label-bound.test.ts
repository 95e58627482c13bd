import { describe, expect, it } from 'vitest';
import {
  EdgeMetrics,
  MAX_BACKEND_SERIES,
  OTHER_BACKENDS,
} from '../../../../edge-worker/admin/edge-metrics.js';

describe('backend label values are bounded (client-chosen forward destinations)', () => {
  it('keeps at most MAX_BACKEND_SERIES backends, dropping the series of idle ones first', () => {
    const metrics = new EdgeMetrics();
    for (let i = 0; i < MAX_BACKEND_SERIES * 4; i++)
      metrics.setBackendHealth('fwd', `ftp://10.0.${i >> 8}.${i & 255}:21`, false);
    expect(metrics.backendUp.series().length).toBe(MAX_BACKEND_SERIES);
    // The newest survive, the oldest were dropped.
    expect(metrics.backendUp.has({ pool: 'fwd', backend: 'ftp://10.0.0.0:21' })).toBe(false);
    expect(metrics.backendUp.has({ pool: 'fwd', backend: `ftp://10.0.3.255:21` })).toBe(true);
  });

  it('counts a new backend as "other" while every kept backend has active sessions, and balances inc/dec', () => {
    const metrics = new EdgeMetrics();
    const busy: string[] = [];
    for (let i = 0; i < MAX_BACKEND_SERIES; i++) {
      const label = metrics.backendLabel('fwd', `b${i}`);
      metrics.backendSessionsActive.inc({ pool: 'fwd', backend: label });
      busy.push(label);
    }
    expect(metrics.backendLabel('fwd', 'one-more')).toBe(OTHER_BACKENDS);
    metrics.backendSessionsActive.dec({ pool: 'fwd', backend: 'b0' });
    expect(metrics.backendLabel('fwd', 'one-more')).toBe('one-more');
    expect(metrics.backendSessionsActive.has({ pool: 'fwd', backend: 'b0' })).toBe(false);
  });
});
