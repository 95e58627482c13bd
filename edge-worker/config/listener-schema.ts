import { z } from 'zod';
import { duration } from './duration-schema.js';
import { connectionLimitsSchema } from './limits-schema.js';
import { cidr, portRange } from './network-schema.js';
import { sftpListenerSchema } from './sftp-schema.js';
import { listenerTlsSchema } from './tls-schema.js';

/** Frontend timeouts, as ProFTPD's core directives; 0 turns one off. */
const timeoutsSchema = z
  .object({
    /**
     * TimeoutLogin: from connect until logged in. 60 s, not ProFTPD's 300 s: on a public gateway every
     * connection not logged in holds a pre-login slot (and maybe a backend connection); docs/security.md.
     */
    login: duration.default(60_000),
    /** TimeoutIdle: no command while no transfer runs. */
    idle: duration.default(600_000),
    /** TimeoutNoTransfer: logged in, but no data transfer started. */
    noTransfer: duration.default(300_000),
    /** TimeoutStalled: a transfer during which no byte moves. */
    stalled: duration.default(3_600_000),
  })
  .strict();

export const listenerSchema = z
  .object({
    name: z.string().min(1).optional(),
    /**
     * ftp (FTP and FTPS; the default when absent) or sftp (an SSH server relaying SFTP and SCP to
     * sftp:// backends; docs/sftp.md).
     */
    protocol: z.enum(['ftp', 'sftp']).optional(),
    /** SFTPEngine and the SFTP* directives: the frontend SSH server of a `protocol: sftp` listener. */
    sftp: sftpListenerSchema.optional(),
    address: z.string().min(1).default('0.0.0.0'),
    port: z.number().int().min(0).max(65535),
    /**
     * TCPBackLog: connections the kernel completes and queues until ftpx accepts them (Node's 511 when
     * absent). Under a connection flood a longer queue lets honest clients in sooner; Linux caps it
     * at net.core.somaxconn.
     */
    backlog: z.number().int().min(1).max(65535).optional(),
    pool: z.string().min(1),
    /** A ProxyLog of this listener's own: its sessions log here instead of log.file. */
    logFile: z.string().min(1).optional(),
    /**
     * Pools a client may switch to with HOST (RFC 7151) before USER, by their name or hostNames: the
     * name-based virtual hosts sharing this address and port.
     */
    hostPools: z.array(z.string().min(1)).default([]),
    /**
     * Pool selection by who the client is (mod_ifsession's `<IfClass>`, `<IfUser>`, `<IfGroup>` around
     * ProxyReverseServers): at connect, at USER and after proxy authentication the first rule whose
     * conditions are all known and hold moves the session (before login) to its pool. See
     * docs/configuration.md, "Choosing the pool", for the order with tls.sniPools and HOST.
     */
    poolRules: z
      .array(
        z
          .object({
            pool: z.string().min(1),
            /** The client's `<Class>` (`!name`: any other class, or none). */
            class: z
              .string()
              .regex(/^!?[^\s!]+$/, 'a class name, or !name')
              .optional(),
            /** The client's address is in one of these networks. */
            from: z.array(cidr).min(1).optional(),
            /** The USER name is one of these. */
            users: z.array(z.string().min(1)).min(1).optional(),
            /** One of the user's groups (known with proxy authentication) is one of these. */
            groups: z.array(z.string().min(1)).min(1).optional(),
          })
          .strict()
          .refine(
            (rule) =>
              rule.class !== undefined ||
              rule.from !== undefined ||
              rule.users !== undefined ||
              rule.groups !== undefined,
            'a rule needs at least one condition: class, from, users or groups',
          ),
      )
      .optional(),
    /** Longest command line accepted from a client, in bytes. */
    maxCommandLength: z.number().int().min(512).max(65536).default(4096),
    /** How long to wait for a data connection to open (client passive connect, active connect out). */
    dataConnectTimeout: duration.default(30_000),
    /** PassivePorts: the range of ports for passive data connections; any free port when absent. */
    passivePorts: portRange.optional(),
    /** MasqueradeAddress: the IPv4 address (or a host name resolving to one) given in 227 replies. */
    masqueradeAddress: z.string().min(1).optional(),
    /**
     * `false` refuses EPSV (502), so clients fall back to PASV, whose 227 reply carries an address.
     * Needed where data must reach another address than the control connection did (behind a load
     * balancer, each task advertising its own address): a 229 reply names only a port, and the
     * client would connect to the load balancer. Absent: EPSV is served.
     */
    epsv: z.boolean().optional(),
    /**
     * ServerIdent: the text of the 220 greeting the proxy gives itself (the forward role always; the
     * reverse role when it chooses the backend at USER, under PerUser or proxy authentication). A
     * reverse proxy that connects at once relays the backend's greeting instead. Absent: "FTP proxy
     * ready." (reverse) or "FTP forward proxy ready." (forward).
     */
    greeting: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[^\r\n]*$/, 'one line: no CR or LF')
      .optional(),
    /**
     * AllowForeignAddress: PORT/EPRT may name another host than the client (true, or only hosts in
     * these networks). Ports below 1024 are refused regardless.
     */
    allowForeignAddress: z.union([z.boolean(), z.array(cidr)]).default(false),
    timeouts: timeoutsSchema.default({
      login: 60_000,
      idle: 600_000,
      noTransfer: 300_000,
      stalled: 3_600_000,
    }),
    /**
     * TransferRate: per-transfer speed limits by command, in KiB/s, after `freeBytes` at full speed.
     * The first rule naming the command whose conditions hold applies (rules with conditions first).
     */
    transferRate: z
      .array(
        z
          .object({
            commands: z.array(z.enum(['RETR', 'STOR', 'APPE', 'STOU', 'LIST', 'NLST', 'MLSD'])).min(1),
            kibPerSecond: z.number().positive(),
            freeBytes: z.number().int().min(0).default(0),
            /**
             * Only for these users / groups (known with proxy authentication) / classes (TransferRate's
             * `user`, `group`, `class` conditions); reverse pools only.
             */
            users: z.array(z.string().min(1)).min(1).optional(),
            groups: z.array(z.string().min(1)).min(1).optional(),
            classes: z.array(z.string().min(1)).min(1).optional(),
          })
          .strict(),
      )
      .default([]),
    /**
     * `<Limit>`: which commands which users or networks may send. The first rule naming a command (or
     * its group: READ, WRITE, DIRS, LOGIN, ALL) decides; see edge-worker/ftp/session/command-limits.ts.
     */
    limits: z
      .array(
        z
          .object({
            commands: z
              .array(z.string().regex(/^[A-Za-z]{3,5}$/, 'a command name or READ, WRITE, DIRS, LOGIN, ALL'))
              .min(1),
            allowUsers: z.array(z.string().min(1)).default([]),
            denyUsers: z.array(z.string().min(1)).default([]),
            /** AllowGroup / DenyGroup: need proxyAuth on the listener's pools (groups come from it). */
            allowGroups: z.array(z.string().min(1)).optional(),
            denyGroups: z.array(z.string().min(1)).optional(),
            /** AllowClass / DenyClass: the client's `<Class>` (classes). */
            allowClasses: z.array(z.string().min(1)).optional(),
            denyClasses: z.array(z.string().min(1)).optional(),
            allowFrom: z.array(cidr).default([]),
            denyFrom: z.array(cidr).default([]),
            otherwise: z.enum(['allow', 'deny']).optional(),
            order: z.enum(['allow,deny', 'deny,allow']).default('allow,deny'),
          })
          .strict(),
      )
      .default([]),
    /** MaxClients, MaxConnectionsPerHost...: see config/limits-schema.ts. */
    connections: connectionLimitsSchema.prefault({}),
    /** MaxLoginAttempts: failed logins before the connection is closed. */
    maxLoginAttempts: z.number().int().min(1).default(3),
    /**
     * PROXY protocol in (v1 or v2): connections from these networks (a load balancer) must start with
     * a header, whose client address then counts as the client's. Others are never parsed.
     */
    proxyProtocol: z
      .object({
        trustedNetworks: z.array(cidr).min(1, 'name at least one network (the load balancer)'),
        timeout: duration.default(5000),
      })
      .strict()
      .optional(),
    /** FTPS towards clients (mod_tls): see edge-worker/config/tls-schema.ts. Plain FTP only when absent. */
    tls: listenerTlsSchema.optional(),
  })
  .strict();

export type ListenerConfig = z.output<typeof listenerSchema>;
