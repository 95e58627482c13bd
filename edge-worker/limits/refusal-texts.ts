import type { GuardRefusal } from '../ftp/session/session-guard.js';

/** ProFTPD's texts for its connection limits (modules/mod_auth.c); `%m` is the limit. */
export const LIMIT_TEXTS = {
  maxClients: 'Sorry, the maximum number of allowed clients (%m) are already connected.',
  maxClientsPerClass: 'Sorry, the maximum number of clients (%m) from your class are already connected.',
  maxClientsPerHost: 'Sorry, the maximum number of clients (%m) from your host are already connected.',
  maxClientsPerUser: 'Sorry, the maximum number of clients (%m) for this user are already connected.',
  maxConnectionsPerHost: 'Sorry, the maximum number of connections (%m) for your host are already connected.',
  maxHostsPerUser: 'Sorry, the maximum number of hosts (%m) for this user are already connected.',
} as const;

export type CountedLimit = keyof typeof LIMIT_TEXTS;

/** The 530 a limit answers with: the directive's message argument if given, else ProFTPD's text. */
export function limitRefusal(
  limit: CountedLimit,
  setting: { max: number; message?: string | undefined },
): GuardRefusal {
  return { code: 530, text: (setting.message ?? LIMIT_TEXTS[limit]).replaceAll('%m', String(setting.max)) };
}

/** ftpx's own pre-login cap (ProFTPD has none): 421, try again later (RFC 959). */
export const PRE_LOGIN_REFUSAL: GuardRefusal = {
  code: 421,
  text: 'Too many connections waiting to log in; try again later.',
};

/**
 * What a running session is told when its own event banned its client: 421 (the service closes the
 * control connection, RFC 959) with the ban's message (BanMessage or the rule's) if there is one.
 */
export function bannedSessionRefusal(ban: GuardRefusal | undefined, event: string): GuardRefusal {
  return { code: 421, text: ban?.text ?? `Banned (${event}); closing control connection.` };
}
