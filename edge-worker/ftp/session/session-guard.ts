/**
 * mod_ban's events a session reports (BanOnEvent), by ProFTPD's names where ProFTPD has the event;
 * the listener and the SSH server report the ones that happen before a session exists
 * (ClientConnectRate, MaxConnectionsPerHost, BadProxyHeader, TLSHandshake).
 */
export type GuardEvent =
  | 'MaxLoginAttempts'
  | 'LoginRate'
  | 'TimeoutLogin'
  | 'TimeoutIdle'
  | 'UnhandledCommand'
  | 'SSHAuthFailure'
  | 'BadProxyHeader'
  | 'TLSHandshake'
  | 'ProxyAuthFailure';

/** A refusal the client gets before the connection closes (FTP: the code and text; SSH: the text). */
export interface GuardRefusal {
  code: number;
  text: string;
}

/**
 * What the connection limits and bans (edge-worker/limits/) need of one session: its login, so the
 * limits counted per logged-in client (MaxClients, MaxClientsPerClass, MaxClientsPerHost, MaxClientsPerUser,
 * MaxHostsPerUser) can apply as ProFTPD applies them (after the password), and its ban events.
 */
export interface SessionGuard {
  /** The login succeeded as `user`: undefined when admitted, else the refusal (the session then ends). */
  loggedIn(user: string): Promise<GuardRefusal | undefined>;
  /** USER, REIN: the logged-in count is given back. */
  loggedOut(): void;
  /** A ban event; false once the event banned the client (the session should end). */
  event(name: GuardEvent, user?: string): void;
}
