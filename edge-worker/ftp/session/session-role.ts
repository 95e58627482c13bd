import type { PoolConfig } from '../../config/schema.js';
import type { BackendChannel } from '../control/backend-control.js';
import type { FtpCommand } from '../control/command-parser.js';
import type { BackendDataSetup } from '../data/backend-data.js';

/** What every role's backend gives the session: its control connection and data-channel setup. */
export interface SessionBackend {
  control: BackendChannel;
  dataSetup: Pick<BackendDataSetup, 'prepare'>;
}

export type CommandHandler = (command: FtpCommand) => Promise<void>;

/**
 * What makes a session reverse or forward (mod_proxy's reverse.c and forward.c): how the client is
 * greeted, how USER/PASS/HOST choose and log in to the backend, and the pool whose settings the
 * shared command handling reads. Everything else is the session's (ftp-session.ts).
 */
export interface SessionRole {
  /** How logs and 421 texts name the other end: `backend` or `destination`. */
  readonly peer: string;
  /** The pool whose settings apply now (ShowFeatures, UseDirectDataTransfers, lingerTimeout). */
  readonly pool: PoolConfig;
  /** The first reply (or a refusal); the reason the session is over already, if it is. */
  greet(): Promise<string | undefined>;
  /** USER, PASS and HOST: the role's own, answered with or without a backend. */
  readonly login: Readonly<Record<'USER' | 'PASS' | 'HOST', CommandHandler>>;
  /** AUTH, PBSZ, PROT, CCC...: bridged to the role's backend TLS; the end reason when it closed the session. */
  securityCommand(command: FtpCommand): Promise<string | undefined>;
  /** The user `<Limit>` rules see; the session's user name when absent. */
  limitUser?(): string | undefined;
  /**
   * The text of the 530 for a command before login; `Please login with USER and PASS` when absent
   * (the forward role's proxy login has its own, as mod_proxy's).
   */
  notLoggedInText?(): string;
  /** Runs first when the session is disposed (the reverse role reports its backend's end). */
  disposing?(): void;
}
