/**
 * Smoothed connect time: an exponentially weighted moving average of connect samples in ms.
 * A new sample moves the average by `CONNECT_MS_SMOOTHING` of the difference (0.2: one outlier
 * shifts it by a fifth of its excess, the last ~10 samples carry ~90 % of the weight). The first
 * sample is taken as is. mod_proxy keeps only the latest sample; this does not.
 */
export const CONNECT_MS_SMOOTHING = 0.2;

export function smoothConnectMs(previous: number | undefined, sampleMs: number): number {
  if (previous === undefined) return sampleMs;
  return previous + CONNECT_MS_SMOOTHING * (sampleMs - previous);
}
