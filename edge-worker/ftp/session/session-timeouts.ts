export type TimeoutKind = 'login' | 'idle' | 'noTransfer' | 'stalled';

export interface TimeoutLimits {
  login: number;
  idle: number;
  noTransfer: number;
  stalled: number;
}

/** ProFTPD's own texts (mod_auth, mod_core, mod_xfer, src/data.c), word for word. */
const REPLIES: Record<TimeoutKind, (seconds: number) => string> = {
  login: (s) => `Login timeout (${s} ${s === 1 ? 'second' : 'seconds'}): closing control connection`,
  idle: (s) => `Idle timeout (${s} seconds): closing control connection`,
  noTransfer: (s) => `No transfer timeout (${s} seconds): closing control connection`,
  stalled: (s) => `Data transfer stall timeout: ${s} ${s === 1 ? 'second' : 'seconds'}`,
};

/** The 421 text ProFTPD gives for each timeout. */
export function timeoutReplyText(kind: TimeoutKind, limits: TimeoutLimits): string {
  return REPLIES[kind](Math.round(limits[kind] / 1000));
}

/**
 * ProFTPD's frontend timers for one session: TimeoutLogin until the login succeeds, TimeoutIdle
 * between commands while no transfer runs, TimeoutNoTransfer while logged in without transferring,
 * TimeoutStalled while a transfer moves no bytes. A limit of 0 turns that timer off.
 *
 * Progress comes with every chunk a transfer moves (tens of thousands per GiB), so it only notes the
 * time: the stalled timer, when it fires, looks at the last progress and waits the rest of the limit
 * if there was some, rather than every chunk moving a timer in Node's timer lists.
 */
export class SessionTimeouts {
  private readonly timers = new Map<TimeoutKind, NodeJS.Timeout>();
  private lastProgress = 0;

  constructor(
    private readonly limits: TimeoutLimits,
    private readonly onExpired: (kind: TimeoutKind) => void,
  ) {
    this.arm('login');
    this.arm('idle');
  }

  commandReceived(): void {
    this.timers.get('idle')?.refresh();
  }

  loggedIn(): void {
    this.disarm('login');
    this.arm('noTransfer');
  }

  loggedOut(): void {
    this.disarm('noTransfer');
    this.arm('login');
  }

  transferStarted(): void {
    this.disarm('idle');
    this.disarm('noTransfer');
    this.lastProgress = Date.now();
    this.arm('stalled');
  }

  /** Bytes moved in the running transfer. */
  progress(): void {
    this.lastProgress = Date.now();
  }

  transferEnded(loggedIn: boolean): void {
    this.disarm('stalled');
    this.arm('idle');
    if (loggedIn) this.arm('noTransfer');
  }

  dispose(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private arm(kind: TimeoutKind, ms = this.limits[kind]): void {
    this.disarm(kind);
    if (ms <= 0) return;
    const timer = setTimeout(() => {
      this.timers.delete(kind);
      if (kind === 'stalled') {
        const left = this.lastProgress + this.limits.stalled - Date.now();
        if (left > 0) {
          this.arm('stalled', left);
          return;
        }
      }
      this.onExpired(kind);
    }, ms);
    timer.unref();
    this.timers.set(kind, timer);
  }

  private disarm(kind: TimeoutKind): void {
    const timer = this.timers.get(kind);
    if (timer) clearTimeout(timer);
    this.timers.delete(kind);
  }
}
