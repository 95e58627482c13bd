/** The public surface of functions/core/health/: import from here, not from its files (docs/layers.md). */

export type { ActiveCheckOptions } from './check-backend.js';
export { activeCheckOptionsFromEnv } from './check-options-from-env.js';
export { checkPools } from './check-pools.js';
export type { ListedBackends } from './check-targets.js';
export { DEFAULT_HEALTH_SETTINGS, type HealthSettings, healthSettings } from './health-settings.js';
export { type HealthState, healthState } from './health-state.js';
export { poolHealthView } from './health-view.js';
export { healthSettingsFromEnv } from './settings-from-env.js';
