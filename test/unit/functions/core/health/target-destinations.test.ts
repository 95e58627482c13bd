import { describe, expect, it } from 'vitest';
import { parseBackendUrl } from '../../../../../functions/core/backend-url.js';
import { activeCheckOptionsFromEnv } from '../../../../../functions/core/health/check-options-from-env.js';
import type { CheckTarget } from '../../../../../functions/core/health/check-targets.js';
import { screenTargets } from '../../../../../functions/core/health/target-destinations.js';
import { numericHost } from '../../../../../functions/core/net/address-resolver.js';
import { parseAllowNetworks } from '../../../../../functions/core/net/destination-policy.js';

const target = (url: string, operator = false): CheckTarget => {
  const parsed = parseBackendUrl(url);
  if (!parsed.ok) throw new Error(parsed.error);
  return { pool: 'p', backend: url, url: parsed.url, operator };
};

/** A table of names, as a DNS zone would answer (no network). */
const zone: Record<string, string[]> = {
  'inward.test': ['127.0.0.1'],
  'split.test': ['192.0.2.10', '169.254.169.254'],
  'public.test': ['192.0.2.10', '2001:db8::10'],
};
/** As addressResolver does: numeric forms never reach the resolver. */
const resolve = async (host: string) => {
  const numeric = numericHost(host);
  if (numeric !== undefined) return [numeric];
  const found = zone[host];
  if (!found) throw new Error(`${host}: no such name`);
  return found;
};

describe('active check targets and the destination policy', () => {
  it('operator-listed targets pass as written; the others are judged on every resolved address', async () => {
    const { allowed, refused } = await screenTargets(
      [
        target('ftp://127.0.0.1:2121', true),
        target('ftp://inward.test:21'),
        target('ftp://split.test:21'),
        target('ftp://public.test:21'),
        target('ftp://0x7f.1:21'),
        target('ftp://missing.test:21'),
      ],
      { resolve, allowNetworks: () => [] },
    );
    expect(allowed.map((entry) => [entry.backend, entry.address, entry.unresolved])).toEqual([
      ['ftp://127.0.0.1:2121', undefined, undefined],
      ['ftp://public.test:21', '192.0.2.10', undefined],
      ['ftp://missing.test:21', undefined, 'cannot resolve missing.test: missing.test: no such name'],
    ]);
    expect(refused.map((entry) => `${entry.backend} ${entry.reason.split(';')[0]}`)).toEqual([
      'ftp://inward.test:21 127.0.0.1 is a loopback address (127.0.0.0/8)',
      'ftp://split.test:21 169.254.169.254 is a metadata address (169.254.169.254/32)',
      'ftp://0x7f.1:21 127.0.0.1 is a loopback address (127.0.0.0/8)',
    ]);
  });

  it("the pool's allow list opens what it names, per pool", async () => {
    const { allowed, refused } = await screenTargets(
      [target('ftp://inward.test:21'), { ...target('ftp://inward.test:21'), pool: 'q' }],
      { resolve, allowNetworks: (pool) => (pool === 'p' ? parseAllowNetworks(['127.0.0.0/8']) : []) },
    );
    expect(allowed).toEqual([expect.objectContaining({ pool: 'p', address: '127.0.0.1' })]);
    expect(refused).toEqual([expect.objectContaining({ pool: 'q' })]);
  });

  it('FTPX_HEALTH_CHECK_ALLOW_NETWORKS: comma-separated CIDRs; a bad entry names the variable', () => {
    expect(
      activeCheckOptionsFromEnv({ FTPX_HEALTH_CHECK_ALLOW_NETWORKS: '10.0.0.0/8, fd00::/8' })
        .allowDestinationNetworks,
    ).toEqual(['10.0.0.0/8', 'fd00::/8']);
    expect(activeCheckOptionsFromEnv({}).allowDestinationNetworks).toBeUndefined();
    expect(() => activeCheckOptionsFromEnv({ FTPX_HEALTH_CHECK_ALLOW_NETWORKS: '10.0.0.1/8' })).toThrow(
      /^FTPX_HEALTH_CHECK_ALLOW_NETWORKS: invalid CIDR "10.0.0.1\/8": host bits are set/,
    );
  });
});
