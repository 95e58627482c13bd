import { describe, expect, it } from 'vitest';
import { loadedPackages } from '../../../support/loaded-packages.js';

describe("a cluster worker's modules", () => {
  it('load neither ssh2 (SFTP), dynalite (the store) nor the config parsers until the config asks', async () => {
    await import('../../../../edge-worker/cluster/worker.js');
    const loaded = loadedPackages();
    // The check itself: the worker's graph does reach CommonJS packages (its metrics').
    expect(loaded).toContain('prom-client');
    for (const name of ['ssh2', 'dynalite', 'yaml']) expect(loaded).not.toContain(name);
  });

  it('call the control plane over HTTP without undici', async () => {
    await import('../../../../edge-worker/control-plane/http-transport.js');
    expect(loadedPackages()).not.toContain('undici');
  });
});
