import type { SessionHandle } from '../../admin/session-registry.js';

/**
 * ProFTPD's MaxLoginAttempts (http://www.proftpd.org/docs/directives/linked/config_ref_MaxLoginAttempts.html)
 * for one session of any protocol: refused logins are counted and reported to the session registry,
 * and the one that reaches the limit is the last the client gets.
 */
export class LoginAttempts {
  private failures = 0;

  constructor(
    private readonly max: number,
    private readonly tracked: SessionHandle,
  ) {}

  /** A login succeeded: reported, and the count starts over. */
  succeeded(): void {
    this.failures = 0;
    this.tracked.login(true);
  }

  /** A login was refused: reported and counted. `last` when the session must now be closed. */
  failed(): { attempt: number; last: boolean } {
    this.failures += 1;
    this.tracked.login(false);
    return { attempt: this.failures, last: this.failures >= this.max };
  }
}
