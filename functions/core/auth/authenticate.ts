import type { AuthRequestParsed, AuthResponse } from '../../contract/auth.js';
import { getProxyUserRecord } from '../registry/index.js';
import type { Table } from '../store/index.js';
import { part } from '../store/index.js';
import { callIdentityHook, type IdentityHookConfig, selectIdentityHook } from './identity-hook.js';
import { checkPassword, spendVerificationTime } from './password-check.js';

export interface AuthenticateOptions {
  /**
   * External identity hooks: a pool covered by one (its `pools` names the pool, or it has no
   * `pools`) is decided by the hook alone; other pools use the store's proxy users.
   */
  identityHook?: IdentityHookConfig | readonly IdentityHookConfig[];
  /** Epoch milliseconds for store reads; defaults to Date.now. */
  now?: () => number;
}

/** A name longer than this once escaped cannot be a stored proxy user (see the registry contract). */
const MAX_KEY_PART_BYTES = 900;

/**
 * Proxy authentication (mod_proxy's `ProxyOptions UseReverseProxyAuth`): whether `request.user`
 * may log in to `request.pool` with `request.password`, and with which groups.
 *
 * - A pool covered by an identity hook: the hook's answer (identity-hook.ts); any failure denies.
 * - Otherwise the pool's proxy user from the store (one strongly consistent GetItem): its hash is
 *   checked (scrypt, or the crypt(3) `$1$` / `$5$` / `$6$` hashes AuthUserFile imports keep);
 *   disabled users, unknown users, unverifiable hashes and public keys are denied.
 * - `workerVerifiedKey` (a public key the edge worker checked against SFTPAuthorizedUserKeys, with its
 *   signature): the store's proxy user, when known and enabled, with its groups and nothing else.
 *
 * Every denial by the store costs about one password verification, whatever the cause, so response
 * times do not tell which users exist. The answer's `reason` is for logs only. Store failures are
 * thrown (the handler answers 500, and the edge worker fails the login).
 */
export async function authenticate(
  table: Table,
  request: AuthRequestParsed,
  options: AuthenticateOptions = {},
): Promise<AuthResponse> {
  const hook = selectIdentityHook(options.identityHook, request.pool);
  if (hook && request.workerVerifiedKey) {
    return {
      allowed: false,
      reason: `pool "${request.pool}" is covered by an identity hook: it judges public keys itself`,
      source: 'identity-hook',
    };
  }
  if (hook) {
    return callIdentityHook(hook, {
      pool: request.pool,
      user: request.user,
      ...(request.password !== undefined ? { password: request.password } : {}),
      ...(request.publicKey !== undefined ? { publicKey: request.publicKey } : {}),
      clientAddress: request.clientAddress,
      protocol: request.protocol,
    });
  }

  const password = request.password ?? '';
  const fits = Buffer.byteLength(part(request.user), 'utf8') <= MAX_KEY_PART_BYTES;
  const now = options.now ?? Date.now;
  const user = fits ? await getProxyUserRecord(table, request.pool, request.user, now()) : undefined;
  if (!user) {
    await spendVerificationTime(password);
    return deny(`no proxy user "${request.user}" in pool "${request.pool}"`);
  }
  if (request.workerVerifiedKey) {
    // No credential to check: the edge worker verified the key and its signature. Only the user's
    // standing and groups are told, never backends.
    if (!user.enabled) return deny(`proxy user "${user.name}" is disabled`);
    return {
      allowed: true,
      user: user.name,
      primaryGroup: user.primaryGroup,
      groups: [...new Set([user.primaryGroup, ...user.groups])],
      reason: 'groups looked up for a public key the edge worker verified',
      source: 'store',
    };
  }
  if (request.publicKey !== undefined) {
    await spendVerificationTime(request.publicKey);
    return deny(`public-key authentication needs an identity hook (proxy user "${user.name}")`);
  }
  // Checked even for a disabled user: a refusal takes the same time whatever its cause.
  const check = await checkPassword(password, user.passwordHash);
  if (!user.enabled) return deny(`proxy user "${user.name}" is disabled`);
  if (check.outcome === 'unsupported') {
    return deny(`proxy user "${user.name}" cannot log in: ${check.detail ?? check.format}`);
  }
  if (check.outcome === 'mismatch') return deny(`wrong password for proxy user "${user.name}"`);
  return {
    allowed: true,
    user: user.name,
    primaryGroup: user.primaryGroup,
    groups: [...new Set([user.primaryGroup, ...user.groups])],
    reason: `password verified (${check.format})`,
    source: 'store',
  };
}

function deny(reason: string): AuthResponse {
  return { allowed: false, reason, source: 'store' };
}
