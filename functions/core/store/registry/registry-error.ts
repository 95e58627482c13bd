/**
 * What the registry's domain code refuses, by kind. The HTTP layer (functions/registry) maps each
 * kind to a status; the domain never speaks HTTP. Messages name the resource but never a secret
 * (no password, token, hash or URL with credentials).
 */
export type RegistryErrorKind =
  /** Input that passed the schema but not a rule needing the store or the clock (400). */
  | 'invalid'
  /** A list cursor that is not one this list handed out (400). */
  | 'invalid_cursor'
  /** The caller may not do this (403). */
  | 'forbidden'
  | 'not_found'
  /** POST of a name that exists (409). */
  | 'already_exists'
  /** If-Match named another version than the stored one (409). */
  | 'version_mismatch'
  /** Concurrent writers kept winning; the caller may retry (409). */
  | 'conflict'
  | 'pool_not_empty'
  | 'pool_being_deleted'
  /** A backend URL with a password in a pool not marked proxyAuth (400). */
  | 'url_credentials_need_proxy_auth';

export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  constructor(
    readonly kind: RegistryErrorKind,
    message: string,
    /** For `invalid`: the offending fields, by path inside the request body. */
    readonly issues?: { path: string; message: string }[],
  ) {
    super(message);
  }
}

export function notFound(what: string): RegistryError {
  return new RegistryError('not_found', `${what} not found`);
}
