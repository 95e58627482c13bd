/** The public surface of functions/core/auth/: import from here, not from its files (docs/layers.md). */

export { importAuthUserFile } from './auth-user-file.js';
export { type AuthenticateOptions, authenticate } from './authenticate.js';
export { type IdentityHookConfig, identityHookConfigSchema } from './identity-hook.js';
