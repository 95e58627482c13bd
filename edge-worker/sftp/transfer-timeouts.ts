/**
 * TimeoutNoTransfer and TimeoutStalled for an SSH session, as mod_sftp applies ProFTPD's core
 * timeouts to SFTP and SCP: after login, the session ends when no file data moves for `noTransfer`
 * while no transfer is open, or for `stalled` while one is (an SFTP file handle opened and not yet
 * closed, or an scp channel running). "Data" is an SSH_FXP_READ or SSH_FXP_WRITE request or scp
 * bytes; opening or closing a transfer counts as activity too. 0 turns either off.
 */
export class SshTransferTimeouts {
  private open = 0;
  private last = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly limits: { noTransfer: number; stalled: number },
    private readonly expire: (reason: string) => void,
  ) {}

  start(): void {
    this.last = Date.now();
    this.schedule();
  }

  /** File data moved. */
  data(): void {
    this.last = Date.now();
  }

  /** An SFTP file handle was opened or an scp transfer started. */
  opened(): void {
    this.open += 1;
    this.data();
    this.schedule();
  }

  /** A transfer ended (its handle closed, its channel closed). */
  closed(): void {
    this.open = Math.max(0, this.open - 1);
    this.data();
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.stopped) return;
    const limit = this.open > 0 ? this.limits.stalled : this.limits.noTransfer;
    if (limit <= 0) return;
    const wait = limit - (Date.now() - this.last);
    if (wait <= 0) {
      this.stopped = true;
      this.expire(
        this.open > 0
          ? `stalled transfer timeout (TimeoutStalled, ${limit / 1000} s)`
          : `no transfer timeout (TimeoutNoTransfer, ${limit / 1000} s)`,
      );
      return;
    }
    this.timer = setTimeout(() => this.schedule(), wait);
    this.timer.unref?.();
  }
}
