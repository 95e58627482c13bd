import { describe, expect, it } from 'vitest';
import {
  holdYoungGeneration,
  SFTP_HEAP_GROWING_PERCENT,
  tuneHeapForSftp,
  V8_SEMI_SPACE_GROWTH_FACTOR,
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

describe('the young generation while a process starts', () => {
  it("is held at V8's initial size until the release, which restores V8's growth once", () => {
    const set: string[] = [];
    const release = holdYoungGeneration([], '', (flags) => set.push(flags));
    expect(set).toEqual(['--semi-space-growth-factor=1']);
    release();
    release();
    expect(set).toEqual([
      '--semi-space-growth-factor=1',
      `--semi-space-growth-factor=${V8_SEMI_SPACE_GROWTH_FACTOR}`,
    ]);
  });

  it('is left alone when the operator gave a growth factor, on the command line or in NODE_OPTIONS', () => {
    const set: string[] = [];
    holdYoungGeneration(['--semi-space-growth-factor=4'], '', (flags) => set.push(flags))();
    holdYoungGeneration([], '--semi_space_growth_factor=3', (flags) => set.push(flags))();
    expect(set).toEqual([]);
  });
});
