/** The public surface of functions/core/auth/: import from here, not from its files (docs/layers.md). */

export { importAuthUserFile } from './auth-user-file.js';
export { authenticate, type AuthenticateOptions } from './authenticate.js';
export { type IdentityHookConfig, identityHookConfigSchema } from './identity-hook.js';
export { scryptPool } from './scrypt-pool.js';
