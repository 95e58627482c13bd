/**
 * Passive health (mod_proxy's doc/NOTES.health-checks sketch, issue #186): `failures` failed
 * connects within `windowMs` mark a backend unhealthy for `cooldownMs`; after the cool-down it is
 * on probation (tried again, and the first failure marks it again at once), and one successful
 * connect or a passing active check makes it healthy. `whenAllUnhealthy` decides what a selection
 * does when every usable backend is unhealthy: "try" them anyway (the default: a wrong health view
 * must not take a whole pool down), or "fail" fast.
 */
export interface HealthSettings {
  passive: { enabled: boolean; failures: number; windowMs: number; cooldownMs: number };
  whenAllUnhealthy: 'try' | 'fail';
  /** How long a failed active check keeps a backend unhealthy, unless a later check passes. */
  activeFailureHoldMs: number;
}

export const DEFAULT_HEALTH_SETTINGS: HealthSettings = {
  passive: { enabled: true, failures: 3, windowMs: 60_000, cooldownMs: 30_000 },
  whenAllUnhealthy: 'try',
  activeFailureHoldMs: 60_000,
};

export function healthSettings(
  partial: {
    passive?: Partial<HealthSettings['passive']>;
    whenAllUnhealthy?: HealthSettings['whenAllUnhealthy'];
    activeFailureHoldMs?: number;
  } = {},
): HealthSettings {
  return {
    passive: { ...DEFAULT_HEALTH_SETTINGS.passive, ...partial.passive },
    whenAllUnhealthy: partial.whenAllUnhealthy ?? DEFAULT_HEALTH_SETTINGS.whenAllUnhealthy,
    activeFailureHoldMs: partial.activeFailureHoldMs ?? DEFAULT_HEALTH_SETTINGS.activeFailureHoldMs,
  };
}
