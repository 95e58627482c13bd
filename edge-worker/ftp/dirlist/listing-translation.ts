import type { PoolConfig } from '../../config/schema.js';
import type { Logger } from '../../log/logger.js';
import type { FtpCommand } from '../control/command-parser.js';
import { type FtpReply, localReply } from '../control/reply.js';
import type { TransferContext } from '../data/data-transfers.js';
import {
  DEFAULT_MLST_FACTS,
  formatFeatMlst,
  formatOptsMlstReply,
  type MlstFact,
  parseOptsMlst,
} from './facts.js';
import { createMlsdTransform, listCommandFor } from './mlsd-transform.js';

/**
 * ProxyDirectoryListPolicy LIST (http://www.proftpd.org/docs/contrib/mod_proxy.html#ProxyDirectoryListPolicy):
 * the proxy owns MLSD (the backend is sent LIST and its lines come back as MLSD facts), so it also
 * owns the MLST feature line and OPTS MLST. Under `client`, the default, nothing is translated.
 */
export class ListingTranslation {
  private facts: ReadonlySet<MlstFact> = DEFAULT_MLST_FACTS;

  /** `pool` is read at each use: the pool of a session may change before login (HOST, SNI). */
  constructor(private readonly pool: () => Pick<PoolConfig, 'directoryListPolicy' | 'useSlink'>) {}

  private get active(): boolean {
    return this.pool().directoryListPolicy === 'LIST';
  }

  /** The proxy's MLST line for FEAT when it translates listings. */
  feature(): string | undefined {
    return this.active ? formatFeatMlst(this.facts).trim() : undefined;
  }

  /** The reply to `OPTS MLST <facts>` when the proxy owns the facts; undefined when OPTS goes to the backend. */
  optsMlst(arg: string): FtpReply | undefined {
    if (!this.active || !/^MLST(\s|$)/i.test(arg)) return undefined;
    const facts = parseOptsMlst(arg.replace(/^MLST\s*/i, ''));
    if (!facts) return localReply(501, 'Invalid OPTS MLST argument.');
    this.facts = facts;
    return localReply(200, formatOptsMlstReply(facts));
  }

  /** MLSD served from a backend LIST; undefined for any other listing, or under `client`. */
  listing(command: FtpCommand, log: Logger): TransferContext['listing'] {
    if (command.verb !== 'MLSD' || !this.active) return undefined;
    log.trace('proxy.ftp.dirlist', 9, () => `translating LIST into MLSD for '${command.arg}'`);
    return {
      backendLine: listCommandFor(this.facts, command.arg === '' ? undefined : command.arg),
      through: createMlsdTransform({
        facts: this.facts,
        useSlink: this.pool().useSlink,
        onSkippedLine: (line, reason) => {
          log.trace('proxy.ftp.dirlist', 3, () => `unable to parse listing text (${reason}): '${line}'`);
          log.warn('listing line not translated to MLSD', { line, reason });
        },
      }),
    };
  }
}
