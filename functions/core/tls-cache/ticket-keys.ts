import { randomBytes } from 'node:crypto';
import type { TicketKey } from '../../contract/tls-cache.js';
import type { Table } from '../store/index.js';
import { createTicketKey, readTicketKey, type StoredTicketKey, StoreError } from '../store/index.js';

/** What tls.Server.setTicketKeys takes: 16 bytes key name, 16 bytes HMAC secret, 16 bytes AES key. */
export const TICKET_KEY_BYTES = 48;

/**
 * Session ticket keys shared by every edge worker. Time is cut into periods of `rotateEveryS`; the
 * key of period p is current from p × rotateEvery to (p + 1) × rotateEvery. Whichever worker asks
 * first creates a period's key (random, conditional put: the first writer wins, the others read
 * it back), so all workers encrypt with the same key and switch at the same instant. Answers carry
 * the next period's key too, so a worker can switch on time without asking again. A key item is
 * kept until its period ended plus the ticket lifetime.
 */
export async function ticketKeys(
  table: Table,
  options: { rotateEveryS: number; lifetimeS: number },
  nowMs: number,
): Promise<{ current: TicketKey; next: TicketKey }> {
  const periodMs = options.rotateEveryS * 1000;
  const epoch = Math.floor(nowMs / periodMs);
  const [current, next] = await Promise.all([
    periodKey(table, epoch, periodMs, options.lifetimeS),
    periodKey(table, epoch + 1, periodMs, options.lifetimeS),
  ]);
  return { current, next };
}

async function periodKey(
  table: Table,
  epoch: number,
  periodMs: number,
  lifetimeS: number,
): Promise<TicketKey> {
  const activeFrom = epoch * periodMs;
  const activeUntil = activeFrom + periodMs;
  const existing = await readTicketKey(table, epoch);
  if (existing) return view(existing, epoch, activeFrom, activeUntil);
  const secret = randomBytes(TICKET_KEY_BYTES);
  const expiresAtS = Math.ceil(activeUntil / 1000) + lifetimeS;
  if (await createTicketKey(table, epoch, { secret, activeFrom, activeUntil }, expiresAtS)) {
    return { epoch, key: secret.toString('base64'), activeFrom, activeUntil };
  }
  const winner = await readTicketKey(table, epoch);
  if (!winner) throw new StoreError(`the ticket key of period ${epoch} vanished after it was created`);
  return view(winner, epoch, activeFrom, activeUntil);
}

function view(stored: StoredTicketKey, epoch: number, activeFrom: number, activeUntil: number): TicketKey {
  if (stored.secret.length !== TICKET_KEY_BYTES) {
    throw new StoreError(`the ticket key of period ${epoch} is malformed`);
  }
  return {
    epoch,
    key: Buffer.from(stored.secret).toString('base64'),
    activeFrom: stored.activeFrom ?? activeFrom,
    activeUntil: stored.activeUntil ?? activeUntil,
  };
}
