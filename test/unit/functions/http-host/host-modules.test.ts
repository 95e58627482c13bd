import { describe, expect, it } from 'vitest';
import { loadedPackages } from '../../../support/loaded-packages.js';

describe("the control-plane host's modules", () => {
  it('do not load the TLS cache function (OCSP fetching through undici) before its first call', async () => {
    await import('../../../../functions/http-host/host.js');
    const loaded = loadedPackages();
    // The check itself: the host's graph does reach CommonJS packages.
    expect(loaded).toContain('dns-packet');
    expect(loaded).not.toContain('undici');
  });
});
