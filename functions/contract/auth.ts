import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * The proxy-authentication contract (mod_proxy's `ProxyOptions UseReverseProxyAuth`), imported by
 * the `auth` function and by the edge worker's control-plane client. The edge worker answers USER
 * itself, then sends the USER name and the PASS argument here; only an allowed answer lets it pick a
 * backend (PerGroup keyed on `primaryGroup`) and replay USER / PASS to it.
 *
 * The request carries a password and the answer may carry backend URLs with credentials: this
 * contract is internal (edge worker to control plane) and neither may ever be logged.
 */

export const AUTH_PROTOCOLS = ['ftp', 'ftps', 'sftp'] as const;
export type AuthProtocol = (typeof AUTH_PROTOCOLS)[number];

/** Where an answer came from: the proxy users in the store, or the pool's external identity hook. */
export const AUTH_SOURCES = ['store', 'identity-hook'] as const;

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

export const authRequestSchema = z
  .object({
    /** The pool (edge worker pool name, ProFTPD's ServerName) whose users are asked. */
    pool: z.string().min(1).max(256),
    /** The name the client gave with USER, as given. */
    user: z
      .string()
      .min(1)
      .max(256)
      .refine((value) => !hasControlCharacter(value), 'must not contain control characters'),
    /**
     * The PASS argument (may be empty). Never log it. Exactly one of password, publicKey and
     * workerVerifiedKey.
     */
    password: z.string().max(1024).optional(),
    /**
     * SFTP public-key authentication: the client's key in OpenSSH `authorized_keys` form. Only an
     * identity hook can judge it (the store keeps no keys).
     */
    publicKey: z
      .string()
      .min(1)
      .max(16 * 1024)
      .optional(),
    /**
     * SFTP public-key login the edge worker has already verified itself (SFTPAuthorizedUserKeys and
     * the client's signature): no credential is judged here, the answer only says whether the user
     * is a known, enabled proxy user of the pool and its groups (PerGroup needs the primary group, as
     * mod_auth_file gives mod_proxy after mod_sftp's key check). Only the store's proxy users answer
     * it; a pool covered by an identity hook is denied (the hook judges keys itself, via publicKey).
     */
    workerVerifiedKey: z.literal(true).optional(),
    /** The client's IP address (after PROXY protocol, when the listener takes it). */
    clientAddress: z.string().refine((value) => isIP(value) !== 0, 'must be an IP address'),
    protocol: z.enum(AUTH_PROTOCOLS),
    /** The calling edge worker, for logs; the decision does not depend on it. */
    workerId: z.string().min(1).max(256).optional(),
  })
  .strict()
  .superRefine((request, context) => {
    const credentials = [request.password, request.publicKey, request.workerVerifiedKey].filter(
      (credential) => credential !== undefined,
    );
    if (credentials.length !== 1) {
      context.addIssue({
        code: 'custom',
        path: ['password'],
        message: 'give exactly one of password, publicKey and workerVerifiedKey',
      });
    }
  });

export const authResponseSchema = z.object({
  allowed: z.boolean(),
  /** When allowed: the canonical user name (as stored, or as the identity hook named it). */
  user: z.string().optional(),
  /** When allowed and known: the primary group, the key of the PerGroup policy. */
  primaryGroup: z.string().optional(),
  /** When allowed: every group of the user, the primary group first (ProFTPD's session groups). */
  groups: z.array(z.string()).optional(),
  /**
   * When allowed by an identity hook that assigned backends: their URLs, in its order, possibly
   * with credentials (never log them). Absent when the usual connect policy decides.
   */
  backends: z.array(z.string()).optional(),
  /** Why, for the edge worker's log: never shown to the client, never carries the password. */
  reason: z.string().optional(),
  /** Who decided. */
  source: z.enum(AUTH_SOURCES).optional(),
});

export type AuthRequest = z.input<typeof authRequestSchema>;
export type AuthRequestParsed = z.output<typeof authRequestSchema>;
export type AuthResponse = z.output<typeof authResponseSchema>;
