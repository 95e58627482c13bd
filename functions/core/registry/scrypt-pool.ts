import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/**
 * scrypt on threads of its own (docs/security.md, "Password checks"): Node's `crypto.scrypt` runs on
 * the libuv pool (4 threads by default) that DNS lookups and file reads share, so a password
 * sprayer could starve both. Here at most `threads` derivations run at once on dedicated worker
 * threads, and at most `queueLimit` wait; more are refused at once with ScryptBusyError (the login
 * then fails, 530), so a flood costs bounded CPU and memory and never touches the libuv pool.
 */
export class ScryptBusyError extends Error {
  override readonly name = 'ScryptBusyError';
}

export interface ScryptPoolOptions {
  /** Worker threads; default: half the cores, at least 1, at most 4. */
  threads?: number;
  /** Derivations waiting for a thread before new ones are refused; default 64. */
  queueLimit?: number;
}

interface Job {
  plain: string;
  salt: Buffer;
  keyBytes: number;
  options: { N: number; r: number; p: number; maxmem: number };
  resolve(key: Buffer): void;
  reject(err: Error): void;
}

/** The worker's code: CommonJS, evaluated (no file to find in src/ or dist/). */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { scryptSync } = require('node:crypto');
parentPort.on('message', (job) => {
  try {
    const key = scryptSync(job.plain, Buffer.from(job.salt), job.keyBytes, job.options);
    parentPort.postMessage({ key });
  } catch (err) {
    parentPort.postMessage({ error: err instanceof Error ? err.message : String(err) });
  }
});
`;

interface Thread {
  worker: Worker;
  job: Job | undefined;
}

export class ScryptPool {
  private readonly threads: Thread[] = [];
  private readonly queue: Job[] = [];
  private readonly size: number;
  private readonly queueLimit: number;

  constructor(options: ScryptPoolOptions = {}) {
    this.size = options.threads ?? Math.min(4, Math.max(1, Math.floor(availableParallelism() / 2)));
    this.queueLimit = options.queueLimit ?? 64;
  }

  /** Derivations running and waiting now. */
  get load(): { running: number; waiting: number } {
    return { running: this.threads.filter((thread) => thread.job).length, waiting: this.queue.length };
  }

  derive(plain: string, salt: Buffer, keyBytes: number, options: Job['options']): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      const job: Job = { plain, salt, keyBytes, options, resolve, reject };
      const idle = this.idleThread();
      if (idle) {
        this.run(idle, job);
        return;
      }
      if (this.queue.length >= this.queueLimit) {
        reject(new ScryptBusyError(`password checks busy: ${this.queueLimit} waiting already`));
        return;
      }
      this.queue.push(job);
    });
  }

  private idleThread(): Thread | undefined {
    const idle = this.threads.find((thread) => !thread.job);
    if (idle) return idle;
    if (this.threads.length >= this.size) return undefined;
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    // Idle threads never keep the process alive.
    worker.unref();
    const thread: Thread = { worker, job: undefined };
    worker.on('message', (answer: { key?: Uint8Array; error?: string }) => {
      const job = thread.job;
      thread.job = undefined;
      worker.unref();
      if (job) {
        if (answer.key) job.resolve(Buffer.from(answer.key));
        else job.reject(new Error(answer.error ?? 'scrypt failed'));
      }
      this.next(thread);
    });
    worker.on('error', (err) => {
      thread.job?.reject(err);
      thread.job = undefined;
      this.threads.splice(this.threads.indexOf(thread), 1);
      const waiting = this.queue.shift();
      if (waiting) {
        const replacement = this.idleThread();
        if (replacement) this.run(replacement, waiting);
        else this.queue.unshift(waiting);
      }
    });
    this.threads.push(thread);
    return thread;
  }

  private next(thread: Thread): void {
    const job = this.queue.shift();
    if (job) this.run(thread, job);
  }

  private run(thread: Thread, job: Job): void {
    thread.job = job;
    // A running derivation keeps the process alive until it answers.
    thread.worker.ref();
    thread.worker.postMessage({
      plain: job.plain,
      salt: job.salt,
      keyBytes: job.keyBytes,
      options: job.options,
    });
  }
}

let shared: ScryptPool | undefined;

/** The process's pool (created on first use). */
export function scryptPool(): ScryptPool {
  shared ??= new ScryptPool();
  return shared;
}
