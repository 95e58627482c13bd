/** What every server module gets: where to listen and a fresh directory it owns. */
export interface LaunchContext {
  /** Appears in the server's greeting, so tests can tell which backend answered. */
  name: string;
  host: string;
  port: number;
  /** Fresh, empty, traversable by the servers' unprivileged users, removed on stop. */
  workDir: string;
  /** The address to name in 227 replies instead of the server's own. */
  passiveAddress?: string;
  /** TimeoutIdle of the server, in seconds. */
  idleTimeoutSeconds?: number;
  /** Appended to the server's config file. */
  extraConfig?: string;
  /** FTPS (ProFTPD mod_tls, vsftpd ssl_enable): explicit AUTH TLS, or implicit. */
  tls?: BackendTlsOptions;
}

/** FTPS for a test backend. Data connections must resume the control session (both servers' defaults here). */
export interface BackendTlsOptions {
  cert: string;
  key: string;
  /** TLS from the first byte (ProFTPD TLSOptions UseImplicitSSL, vsftpd implicit_ssl). */
  implicit?: boolean;
  /** Ask for a client certificate and require it to chain to this CA. */
  clientCa?: string;
  /** Refuse logins and transfers without TLS. */
  required?: boolean;
  /** Highest protocol (default TLSv1.3). */
  maxProtocol?: 'TLSv1.2' | 'TLSv1.3';
  /** ProFTPD TLSServerCipherPreference (mod_tls default on: the server's suite order wins). */
  serverCipherPreference?: boolean;
}

/** What a server module hands back once its config and user database are written. */
export interface ServerLaunch {
  command: string;
  args: string[];
  user: string;
  password: string;
  /** The login's FTP root, owned by the uid the server writes files as. */
  homeDir: string;
  transferLog: string;
  /** Worth showing when the server does not come up. */
  logFiles: string[];
}

export type Launcher = (context: LaunchContext) => Promise<ServerLaunch>;
