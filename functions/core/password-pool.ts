import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/**
 * Password hashing on threads of its own (docs/security.md, "Password checks"): scrypt, the
 * rounds of SHA-crypt (`$5$`, `$6$`: 5,000 hashes per check by default) and bcrypt. Node's `crypto.scrypt` runs
 * on the libuv pool (4 threads by default) that DNS lookups and file reads share, and SHA-crypt's
 * rounds on the event loop would stall every session the worker serves while a sprayer's guesses are
 * checked. Here at most `threads` jobs run at once on dedicated worker threads, and at most
 * `queueLimit` wait; more are refused at once with PasswordPoolBusyError (the login then fails, 530),
 * so a flood costs bounded CPU and memory and touches neither the libuv pool nor the event loop.
 */
export class PasswordPoolBusyError extends Error {
  override readonly name = 'PasswordPoolBusyError';
}

export interface PasswordPoolOptions {
  /** Worker threads; default: half the cores, at least 1, at most 4. */
  threads?: number;
  /** Jobs waiting for a thread before new ones are refused; default 64. */
  queueLimit?: number;
}

/** Node's scrypt options, every one given. */
export interface ScryptParameters {
  N: number;
  r: number;
  p: number;
  maxmem: number;
}

/** What a worker thread is asked to compute (structured-cloned to it). */
type Work =
  | {
      kind: 'scrypt';
      plain: string;
      salt: Buffer;
      keyBytes: number;
      options: ScryptParameters;
    }
  | {
      kind: 'sha-crypt-rounds';
      algorithm: 'sha256' | 'sha512';
      /** Digest A, where the rounds start. */
      start: Buffer;
      /** The byte sequences P and S of the specification. */
      p: Buffer;
      s: Buffer;
      rounds: number;
    }
  | {
      kind: 'bcrypt';
      /** Where bcryptjs is (resolved by the caller: the worker's eval'd code has no module path). */
      modulePath: string;
      password: string;
      stored: string;
    };

interface Job {
  work: Work;
  resolve(key: Buffer): void;
  reject(err: Error): void;
}

/**
 * The worker's code: CommonJS, evaluated (no file to find in src/, dist/ or a Lambda bundle). The
 * SHA-crypt loop is the specification's ("Unix crypt using SHA-256 and SHA-512", step 21); the rest
 * of SHA-crypt (a few hashes, the output encoding) stays in functions/core/auth/crypt.ts.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash, scryptSync } = require('node:crypto');
function shaCryptRounds(job) {
  const p = Buffer.from(job.p);
  const s = Buffer.from(job.s);
  let c = Buffer.from(job.start);
  for (let round = 0; round < job.rounds; round++) {
    const step = createHash(job.algorithm);
    step.update(round & 1 ? p : c);
    if (round % 3 !== 0) step.update(s);
    if (round % 7 !== 0) step.update(p);
    step.update(round & 1 ? c : p);
    c = step.digest();
  }
  return c;
}
parentPort.on('message', (job) => {
  try {
    const key =
      job.kind === 'sha-crypt-rounds'
        ? shaCryptRounds(job)
        : job.kind === 'bcrypt'
          ? Buffer.from([require(job.modulePath).compareSync(job.password, job.stored) ? 1 : 0])
          : scryptSync(job.plain, Buffer.from(job.salt), job.keyBytes, job.options);
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

export class PasswordPool {
  private readonly threads: Thread[] = [];
  private readonly queue: Job[] = [];
  private readonly size: number;
  private readonly queueLimit: number;

  constructor(options: PasswordPoolOptions = {}) {
    this.size = options.threads ?? Math.min(4, Math.max(1, Math.floor(availableParallelism() / 2)));
    this.queueLimit = options.queueLimit ?? 64;
  }

  /** Jobs running and waiting now. */
  get load(): { running: number; waiting: number } {
    return { running: this.threads.filter((thread) => thread.job).length, waiting: this.queue.length };
  }

  /** scrypt of `plain` (Node's `scryptSync` with `options`, on a pool thread). */
  derive(plain: string, salt: Buffer, keyBytes: number, options: ScryptParameters): Promise<Buffer> {
    return this.submit({ kind: 'scrypt', plain, salt, keyBytes, options });
  }

  /** SHA-crypt's rounds loop from digest A (`start`) with the byte sequences P and S: digest C. */
  shaCryptRounds(
    algorithm: 'sha256' | 'sha512',
    start: Buffer,
    p: Buffer,
    s: Buffer,
    rounds: number,
  ): Promise<Buffer> {
    return this.submit({ kind: 'sha-crypt-rounds', algorithm, start, p, s, rounds });
  }

  /** bcryptjs's compare of `password` with the bcrypt hash `stored`, on a pool thread. */
  async bcrypt(modulePath: string, password: string, stored: string): Promise<boolean> {
    const answer = await this.submit({ kind: 'bcrypt', modulePath, password, stored });
    return answer[0] === 1;
  }

  private submit(work: Work): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      const job: Job = { work, resolve, reject };
      const idle = this.idleThread();
      if (idle) {
        this.run(idle, job);
        return;
      }
      if (this.queue.length >= this.queueLimit) {
        reject(new PasswordPoolBusyError(`password checks busy: ${this.queueLimit} waiting already`));
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
        else job.reject(new Error(answer.error ?? `${job.work.kind} failed`));
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
    thread.worker.postMessage(job.work);
  }
}

let shared: PasswordPool | undefined;

/** The process's pool (created on first use). */
export function passwordPool(): PasswordPool {
  shared ??= new PasswordPool();
  return shared;
}
