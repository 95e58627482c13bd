import { z } from 'zod';

/**
 * ProxySFTPVerifyServer's memory: the host key each SFTP backend showed first, per pool and backend
 * (trust on first use). The edge worker reads the stored key when a backend presents one, and
 * stores it the first time (`put`, which never replaces a stored key) or replaces it under
 * `verifyServer: off` (`put` with `replace`). A key pinned by an operator is never replaced by a `put`.
 */

/** An SSH public key in wire form, base64 (at most 16 KiB of key). */
const keyBase64 = z
  .string()
  .min(4)
  .max(22 * 1024)
  .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64');

export const sshHostKeyRequestSchema = z
  .object({
    op: z.enum(['get', 'put']),
    pool: z.string().min(1).max(256),
    /** The backend's key (its URL without credentials), as the connect policies name it. */
    backend: z.string().min(1).max(1024),
    /** put: the key to store. */
    key: keyBase64.optional(),
    /**
     * put: replace an unpinned stored key (`verifyServer: off`). Without it a put stores only where
     * no key is stored yet and answers with the stored one, so racing first uses agree on one key.
     */
    replace: z.boolean().optional(),
  })
  .strict()
  .refine((request) => (request.op === 'put') === (request.key !== undefined), {
    path: ['key'],
    message: 'put needs a key, get takes none',
  })
  .refine((request) => request.op === 'put' || request.replace === undefined, {
    path: ['replace'],
    message: 'replace goes with put only',
  });

export const sshHostKeyResponseSchema = z.object({
  /** The stored key (after a put: what is stored now, which is the pinned one when pinned). */
  key: keyBase64.optional(),
  /** Set through the registration API: mismatches are refused whatever the pool's mode. */
  pinned: z.boolean().default(false),
});

export type SshHostKeyRequest = z.input<typeof sshHostKeyRequestSchema>;
export type SshHostKeyRequestParsed = z.output<typeof sshHostKeyRequestSchema>;
export type SshHostKeyResponse = z.output<typeof sshHostKeyResponseSchema>;
