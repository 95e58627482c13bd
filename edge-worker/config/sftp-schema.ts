import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { type AlgorithmKind, unsupportedAlgorithm } from '../sftp/algorithms.js';
import { authChainProblem } from '../sftp/auth-chains.js';

/** An algorithm list (SFTPCiphers, ProxySFTPDigests, ...): every name must be one ssh2 implements. */
const algorithmList = (kind: AlgorithmKind) =>
  z
    .array(z.string().min(1))
    .min(1)
    .superRefine((names, ctx) => {
      const problem = unsupportedAlgorithm(kind, names);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    });

const absolutePath = z.string().refine(isAbsolute, 'must be an absolute path');

/**
 * A private key file. `agent:` keys are refused: ssh2 signs key-exchange hashes and hostbased
 * requests synchronously inside its protocol code, and an ssh-agent answers asynchronously.
 */
const keyFile = z.string().superRefine((value, ctx) => {
  if (value.startsWith('agent:')) {
    ctx.addIssue({
      code: 'custom',
      message:
        'agent: keys are not supported: ssh2 signs host keys and hostbased requests synchronously, an ssh-agent cannot answer in time; use a key file (with a passphrase provider)',
    });
  } else if (!isAbsolute(value)) {
    ctx.addIssue({ code: 'custom', message: 'must be an absolute path' });
  }
});

/**
 * SFTPPassPhraseProvider / ProxySFTPPassPhraseProvider: where the passphrase of encrypted keys comes
 * from. An absolute path runs that program (with "host:port keyfile" as its arguments, as ProFTPD
 * does) and reads the passphrase from its standard output; `env:NAME` reads an environment variable;
 * `file:/path` reads the first line of a file.
 */
export const passPhraseProviderSchema = z
  .string()
  .min(1)
  .refine(
    (value) => /^env:[A-Za-z_][A-Za-z0-9_]*$/.test(value) || /^file:\//.test(value) || isAbsolute(value),
    'must be an absolute program path, env:NAME or file:/path',
  );

export const COMPRESSION_MODES = ['on', 'off', 'delayed'] as const;
/** Offered when authMethods is not set (hostbased only where authorizedHostKeys is). */
export const DEFAULT_AUTH_METHODS = ['password', 'keyboard-interactive', 'publickey', 'hostbased'] as const;

/** One SFTPAuthMethods entry: a method, or a chain of methods joined by `+` (all required, in order). */
const authMethodEntry = z.string().superRefine((value, ctx) => {
  const problem = authChainProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** The frontend SSH server of a `protocol: sftp` listener (mod_sftp's SFTP* directives). */
export const sftpListenerSchema = z
  .object({
    /** SFTPHostKey: private host keys (RSA, ECDSA, Ed25519; OpenSSH or PEM), at least one. */
    hostKeys: z.array(keyFile).min(1, 'an SSH listener needs at least one host key'),
    passPhraseProvider: passPhraseProviderSchema.optional(),
    /**
     * SFTPAuthMethods: offered to clients, in this order. An entry `publickey+password` is a chain:
     * the client must pass both, in that order (partial success after the first).
     */
    authMethods: z
      .array(authMethodEntry)
      .min(1)
      .default([...DEFAULT_AUTH_METHODS]),
    /** SFTPAuthorizedUserKeys: an authorized_keys file per user (`%u` = the user name). */
    authorizedUserKeys: absolutePath.optional(),
    /**
     * SFTPAuthorizedHostKeys: the client hosts' public keys trusted for hostbased logins, in
     * authorized_keys form (`%u` = the user name); a verified client then logs in to the backend as
     * a verified public key does (mapping key, else ProxySFTPHostKey).
     */
    authorizedHostKeys: absolutePath.optional(),
    /** SFTPCiphers, SFTPDigests, SFTPKeyExchanges, SFTPHostKeyAlgorithms; ssh2's defaults when absent. */
    ciphers: algorithmList('cipher').optional(),
    digests: algorithmList('hmac').optional(),
    keyExchanges: algorithmList('kex')
      .refine(
        (names) => !names.some((name) => name.includes('group-exchange')),
        'diffie-hellman-group-exchange-* cannot be offered to clients: ssh2 implements group exchange as a client only',
      )
      .optional(),
    hostKeyAlgorithms: algorithmList('serverHostKey').optional(),
    /** SFTPCompression. */
    compression: z.enum(COMPRESSION_MODES).default('off'),
    /** SFTPDisplayBanner: text sent before authentication. */
    banner: z.string().min(1).optional(),
    /**
     * Follow relayed SFTP packets for the log and the transfer log (each operation, bytes per file).
     * Off relays bytes only (SCP transfers are still logged).
     */
    audit: z.boolean().default(true),
    /** The identification after "SSH-2.0-" (ServerIdent). */
    ident: z.string().min(1).default('ftpx'),
    /** Which channel requests are relayed; sftp and scp on, everything else off. */
    allow: z
      .object({
        sftp: z.boolean().default(true),
        scp: z.boolean().default(true),
        /** Other `exec` commands than scp. */
        exec: z.boolean().default(false),
        shell: z.boolean().default(false),
        /** direct-tcpip channels (ssh -L). */
        portForwarding: z.boolean().default(false),
        /** `env` requests passed on to the backend. */
        env: z.boolean().default(false),
        agentForwarding: z.literal(false, 'agent forwarding cannot be relayed by ftpx yet').default(false),
        x11: z.literal(false, 'X11 forwarding cannot be relayed by ftpx yet').default(false),
      })
      .strict()
      .default({
        sftp: true,
        scp: true,
        exec: false,
        shell: false,
        portForwarding: false,
        env: false,
        agentForwarding: false,
        x11: false,
      }),
  })
  .strict();

/**
 * ProxySFTPOptions, all honoured (http://www.proftpd.org/docs/contrib/mod_proxy.html#ProxySFTPOptions).
 * AllowWeakDH adds the SHA-1 groups; NoExtensionNegotiation and NoStrictKex leave ext-info-c and
 * kex-strict-c-v00@openssh.com out of the KEXINIT (sftp/ssh2-kexinit-offer.ts). The others hold by
 * construction: NoHostkeyRotation (a backend's `hostkeys-00@openssh.com` announcements never change
 * the recorded key: ProxySFTPVerifyServer keeps the key of first use, so ftpx never follows a
 * rotation); PessimisticKexinit (ssh2 sends its KEXINIT only after the server's identification
 * line, which is what the option asks of mod_proxy); OldProtocolCompat (ssh2 accepts `SSH-1.99-`
 * servers, and is pessimistic as above).
 */
export const PROXY_SFTP_OPTIONS = [
  'AllowWeakDH',
  'NoExtensionNegotiation',
  'NoHostkeyRotation',
  'NoStrictKex',
  'OldProtocolCompat',
  'PessimisticKexinit',
] as const;
/** mod_proxy options ssh2 gives no way to apply (none today; kept for the directive table). */
export const UNSUPPORTED_OPTIONS: Record<string, string> = {};

const proxySftpOption = z.string().superRefine((value, ctx) => {
  if ((PROXY_SFTP_OPTIONS as readonly string[]).includes(value)) return;
  const why = UNSUPPORTED_OPTIONS[value];
  ctx.addIssue({
    code: 'custom',
    message: why
      ? `ProxySFTPOptions ${value} cannot be applied: ${why}`
      : `unknown ProxySFTPOptions "${value}" (known: ${[...PROXY_SFTP_OPTIONS, ...Object.keys(UNSUPPORTED_OPTIONS)].join(', ')})`,
  });
});

/** The backend SSH client of a pool with sftp:// backends (mod_proxy's ProxySFTP* directives). */
export const sftpPoolSchema = z
  .object({
    ciphers: algorithmList('cipher').optional(),
    digests: algorithmList('hmac').optional(),
    keyExchanges: algorithmList('kex').optional(),
    hostKeyAlgorithms: algorithmList('serverHostKey').optional(),
    compression: z.enum(COMPRESSION_MODES).default('off'),
    options: z.array(proxySftpOption).default([]),
    /** ProxySFTPServerAlive: keepalives every `interval`, disconnect after `count` unanswered; 0 = off. */
    serverAlive: z
      .object({ count: z.number().int().min(0), interval: z.number().int().min(0) })
      .strict()
      .optional(),
    /** ProxySFTPServerMatch: only pessimisticNewkeys exists in mod_proxy, and ssh2 cannot apply it. */
    serverMatch: z
      .array(z.unknown())
      .max(
        0,
        'ProxySFTPServerMatch cannot be applied: its only key, pessimisticNewkeys, has no ssh2 equivalent',
      )
      .default([]),
    /** ProxySFTPHostKey: the proxy's client host keys for hostbased authentication to backends. */
    hostKeys: z.array(keyFile).default([]),
    passPhraseProvider: passPhraseProviderSchema.optional(),
    /** The client host name sent in hostbased requests (the backend's shosts.equiv names it). */
    hostbasedHostname: z.string().min(1).optional(),
    /**
     * sshpiper's mapping key: a private key file per user (`%u` = the user name) the proxy uses for
     * publickey authentication to the backend after verifying the client's own key. Tried before
     * hostbased; a user without a file falls back to hostbased (when hostKeys are set).
     */
    mappingKeys: absolutePath.optional(),
    /**
     * ProxySFTPVerifyServer: the first host key a backend shows is recorded; `on` (the default) and
     * `enforce` refuse a backend whose key changed, `off` accepts and records the new key (logged).
     */
    verifyServer: z.enum(['off', 'on', 'enforce']).default('on'),
  })
  .strict();

export type SftpListenerConfig = z.output<typeof sftpListenerSchema>;
export type SftpPoolConfig = z.output<typeof sftpPoolSchema>;

export const defaultSftpPool = (): SftpPoolConfig => sftpPoolSchema.parse({});
