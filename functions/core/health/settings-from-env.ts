import { type HealthSettings, healthSettings } from './health-settings.js';

/** Health settings from a function's environment (Lambda); unset variables keep the defaults. */
export function healthSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): HealthSettings {
  const number = (name: string) => {
    const text = env[name];
    if (text === undefined || text === '') return undefined;
    const value = Number(text);
    if (!Number.isInteger(value) || value < 0) throw new Error(`${name}: "${text}" is not a whole number`);
    return value;
  };
  const passive: Partial<HealthSettings['passive']> = {};
  const enabled = env.FTPX_HEALTH_PASSIVE;
  if (enabled !== undefined && enabled !== '') {
    if (!['on', 'off'].includes(enabled))
      throw new Error(`FTPX_HEALTH_PASSIVE: "${enabled}" is not on or off`);
    passive.enabled = enabled === 'on';
  }
  const failures = number('FTPX_HEALTH_FAILURES');
  if (failures !== undefined) passive.failures = Math.max(1, failures);
  const windowMs = number('FTPX_HEALTH_WINDOW_MS');
  if (windowMs !== undefined) passive.windowMs = windowMs;
  const cooldownMs = number('FTPX_HEALTH_COOLDOWN_MS');
  if (cooldownMs !== undefined) passive.cooldownMs = cooldownMs;
  const when = env.FTPX_HEALTH_WHEN_ALL_UNHEALTHY;
  if (when !== undefined && when !== '' && when !== 'try' && when !== 'fail') {
    throw new Error(`FTPX_HEALTH_WHEN_ALL_UNHEALTHY: "${when}" is not try or fail`);
  }
  const hold = number('FTPX_HEALTH_ACTIVE_HOLD_MS');
  return healthSettings({
    passive,
    ...(when === 'try' || when === 'fail' ? { whenAllUnhealthy: when } : {}),
    ...(hold !== undefined ? { activeFailureHoldMs: hold } : {}),
  });
}
