import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const LOCK = join(tmpdir(), 'ftpx-stack-tests.lock');

/** Whether the process that took the lock is still running. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Lets one stack test file at a time run its local stack: each starts a task, a load balancer and
 * the nine functions, and one of them builds a container image; side by side on a 2-core machine
 * the other's task missed its health checks. A lock left by a process that is gone is taken over.
 * Resolves with the release function.
 */
export async function holdStackLock(waitMs: number): Promise<() => Promise<void>> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      await mkdir(LOCK);
      await writeFile(join(LOCK, 'pid'), String(process.pid));
      return () => rm(LOCK, { recursive: true, force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(await readFile(join(LOCK, 'pid'), 'utf8').catch(() => ''));
      if (holder > 0 && !alive(holder)) await rm(LOCK, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`another stack test held ${LOCK} for ${waitMs} ms`);
      else await sleep(500);
    }
  }
}
