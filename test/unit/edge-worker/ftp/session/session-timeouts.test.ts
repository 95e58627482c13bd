import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  SessionTimeouts,
  type TimeoutKind,
} from '../../../../../edge-worker/ftp/session/session-timeouts.js';

const LIMITS = { login: 0, idle: 0, noTransfer: 0, stalled: 10_000 };

describe('SessionTimeouts: TimeoutStalled', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('expires the full limit after the last progress, however the progress was spread', () => {
    const expired: TimeoutKind[] = [];
    const timeouts = new SessionTimeouts(LIMITS, (kind) => expired.push(kind));
    timeouts.transferStarted();
    for (let i = 0; i < 9; i++) {
      vi.advanceTimersByTime(1000);
      timeouts.progress();
    }
    // The last progress was at 9 s: the transfer has not stalled at 10 s, nor just before 19 s.
    vi.advanceTimersByTime(9_999);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual(['stalled']);
    timeouts.dispose();
  });

  it('expires at the limit when nothing moved, and never after the transfer ended', () => {
    const expired: TimeoutKind[] = [];
    const timeouts = new SessionTimeouts(LIMITS, (kind) => expired.push(kind));
    timeouts.transferStarted();
    vi.advanceTimersByTime(10_000);
    expect(expired).toEqual(['stalled']);
    timeouts.transferStarted();
    timeouts.progress();
    timeouts.transferEnded(true);
    vi.advanceTimersByTime(60_000);
    expect(expired).toEqual(['stalled']);
    timeouts.dispose();
  });
});
