import { describe, expect, it } from 'vitest';
import { SessionTransferRates } from '../../../../edge-worker/reverse/session-transfer-rates.js';

const rule = (kibPerSecond: number, extra: Record<string, string[]> = {}) => ({
  commands: ['RETR' as const],
  kibPerSecond,
  freeBytes: 0,
  ...extra,
});

describe('SessionTransferRates (TransferRate user/group/class conditions)', () => {
  it('keeps the rules whose conditions hold, updated in place as the login goes on', () => {
    const classify = (address: string) => (address === '127.0.0.2' ? 'slow' : undefined);
    const all = [
      rule(10, { users: ['alice'] }),
      rule(20, { groups: ['guests'] }),
      rule(30, { classes: ['slow'] }),
      rule(40),
    ];
    const rates = new SessionTransferRates(all, classify, { clientAddress: '127.0.0.1' });
    const seen = rates.rules;
    expect(rates.conditional).toBe(true);
    expect(seen.map((entry) => entry.kibPerSecond)).toEqual([40]);
    rates.update({ clientAddress: '127.0.0.1', user: 'alice' });
    expect(seen.map((entry) => entry.kibPerSecond)).toEqual([10, 40]);
    rates.update({ clientAddress: '127.0.0.1', user: 'bob', groups: ['guests'] });
    expect(seen.map((entry) => entry.kibPerSecond)).toEqual([20, 40]);
    const fromClass = new SessionTransferRates(all, classify, { clientAddress: '127.0.0.2' });
    expect(fromClass.rules.map((entry) => entry.kibPerSecond)).toEqual([30, 40]);
    expect(new SessionTransferRates([rule(40)], classify, { clientAddress: '127.0.0.2' }).conditional).toBe(
      false,
    );
  });
});
