/**
 * Where an FTP session stands, as one value instead of flags that could contradict each other.
 * `loggedIn` survives into the two ending states because a transfer still running when the session
 * starts to end re-arms its timers by it.
 */
export type SessionState =
  | { kind: 'awaiting-login' }
  | { kind: 'logged-in' }
  /** The backend sent 421 on its own (its idle timeout, say): the client has been told the session is over. */
  | { kind: 'backend-said-goodbye'; loggedIn: boolean }
  /** The proxy ended the session on purpose (a timeout, a kick, MaxLoginAttempts): what fails afterwards is the consequence. */
  | { kind: 'ended-by-proxy'; reason: string; loggedIn: boolean };

export const AWAITING_LOGIN: SessionState = { kind: 'awaiting-login' };

export function isLoggedIn(state: SessionState): boolean {
  return state.kind === 'logged-in' || (state.kind !== 'awaiting-login' && state.loggedIn);
}

/** The same state with the login changed (USER, REIN, a new destination log the client out). */
export function withLogin(state: SessionState, loggedIn: boolean): SessionState {
  if (state.kind === 'awaiting-login' || state.kind === 'logged-in')
    return loggedIn ? { kind: 'logged-in' } : AWAITING_LOGIN;
  return { ...state, loggedIn };
}

/** A backend's unsolicited 421; an end the proxy chose stays the reason. */
export function backendSaidGoodbye(state: SessionState): SessionState {
  return state.kind === 'ended-by-proxy'
    ? state
    : { kind: 'backend-said-goodbye', loggedIn: isLoggedIn(state) };
}

export function endedByProxy(state: SessionState, reason: string): SessionState {
  return { kind: 'ended-by-proxy', reason, loggedIn: isLoggedIn(state) };
}

/** Why the proxy ended the session, if it did. */
export function proxyEndReason(state: SessionState): string | undefined {
  return state.kind === 'ended-by-proxy' ? state.reason : undefined;
}
