import { afterEach, describe, expect, it, vi } from 'vitest';
import { createServiceLogger } from '../../../../edge-worker/log/service-logger.js';

describe('createServiceLogger with ProxyLog none (log.file: false)', () => {
  afterEach(() => vi.restoreAllMocks());

  it('writes nothing, where without a file it writes to standard error', async () => {
    const written = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const off = createServiceLogger({ level: 'info', file: false }, undefined);
    off.log.error('not written');
    await off.close();
    expect(written).not.toHaveBeenCalled();
    const onStderr = createServiceLogger({ level: 'info' }, undefined);
    onStderr.log.error('written');
    await onStderr.close();
    expect(written).toHaveBeenCalled();
  });
});
