import { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { LoopGuard } from '../../../../edge-worker/forward/loop-guard.js';

describe('forward loop protection', () => {
  it('matches a specific listener by address (IPv4-mapped too) and port only', async () => {
    const guard = new LoopGuard(() => [{ address: '127.0.0.1', port: 2121 }]);
    expect(await guard.isSelf('127.0.0.1', 2121)).toBe(true);
    expect(await guard.isSelf('::ffff:127.0.0.1', 2121)).toBe(true);
    expect(await guard.isSelf('127.0.0.1', 21)).toBe(false);
    expect(await guard.isSelf('127.0.0.2', 2121)).toBe(false);
    // The unspecified address connects to this machine.
    expect(await guard.isSelf('0.0.0.0', 2121)).toBe(true);
  });

  it('treats a wildcard listener as every local address', async () => {
    const guard = new LoopGuard(() => [{ address: '0.0.0.0', port: 21 }]);
    expect(await guard.isSelf('127.8.9.10', 21)).toBe(true);
    expect(await guard.isSelf('::1', 21)).toBe(true);
    const own = Object.values(networkInterfaces())
      .flat()
      .find((entry) => entry && !entry.internal);
    if (own) expect(await guard.isSelf(own.address, 21)).toBe(true);
    expect(await guard.isSelf('192.0.2.1', 21)).toBe(false);
  });

  it('resolves a listener given by name', async () => {
    const guard = new LoopGuard(() => [{ address: 'localhost', port: 2121 }]);
    expect(await guard.isSelf('127.0.0.1', 2121)).toBe(true);
  });
});
