import { describe, expect, it } from 'vitest';
import {
  SFTP_HEAP_GROWING_PERCENT,
  tuneHeapForSftp,
  WORKER_MALLOC_ARENAS,
  WORKER_SEMI_SPACE_MIB,
  workerEnv,
  workerExecArgv,
} from '../../../../edge-worker/cluster/memory-settings.js';

describe('worker memory settings', () => {
  it('caps the young generation after the primary own node options', () => {
    expect(workerExecArgv(['--enable-source-maps'], '')).toEqual([
      '--enable-source-maps',
      `--max-semi-space-size=${WORKER_SEMI_SPACE_MIB}`,
    ]);
  });

  it("leaves an operator's own young-generation size alone, however spelled and wherever given", () => {
    expect(workerExecArgv(['--max-semi-space-size=32'], '')).toEqual(['--max-semi-space-size=32']);
    expect(workerExecArgv(['--max_semi_space_size=4'], '')).toEqual(['--max_semi_space_size=4']);
    expect(workerExecArgv([], '--inspect --max-semi-space-size=1')).toEqual([]);
    // A different flag with the same prefix is not the operator's setting.
    expect(workerExecArgv(['--max-semi-space-size-foo'], '')).toContain(
      `--max-semi-space-size=${WORKER_SEMI_SPACE_MIB}`,
    );
  });

  it("limits malloc arenas unless the operator's environment says how many", () => {
    expect(workerEnv({})).toEqual({ MALLOC_ARENA_MAX: String(WORKER_MALLOC_ARENAS) });
    expect(workerEnv({ MALLOC_ARENA_MAX: '8' })).toEqual({});
  });

  it('widens the heap growth of a process serving SFTP, unless the operator set it', () => {
    const set: string[] = [];
    const flag = `--heap-growing-percent=${SFTP_HEAP_GROWING_PERCENT}`;
    expect(tuneHeapForSftp(['--enable-source-maps'], '', (f) => set.push(f))).toEqual([flag]);
    expect(set).toEqual([flag]);
    set.length = 0;
    expect(tuneHeapForSftp(['--heap-growing-percent=50'], '', (f) => set.push(f))).toEqual([]);
    expect(tuneHeapForSftp([], '--heap_growing_percent=0', (f) => set.push(f))).toEqual([]);
    expect(set).toEqual([]);
  });
});
