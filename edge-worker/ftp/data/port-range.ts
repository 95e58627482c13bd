import type { Server } from 'node:net';

/** Every port of the PassivePorts range is taken: by this process's sessions or by other programs. */
export class PortRangeExhaustedError extends Error {
  override readonly name = 'PortRangeExhaustedError';
}

/**
 * A PassivePorts range shared by the sessions of one listener. A port is handed to one data listener
 * at a time: the ones this process holds are skipped without a try, and `exclusive` listening makes
 * the kernel refuse a port that another worker process already holds.
 */
export class PortRange {
  private readonly inUse = new Set<number>();

  constructor(
    readonly min: number,
    readonly max: number,
  ) {}

  get size(): number {
    return this.max - this.min + 1;
  }

  /** Listens on a free port of the range (starting at a random one, so workers spread out). */
  async listen(server: Server, host: string): Promise<number> {
    const start = Math.floor(Math.random() * this.size);
    for (let step = 0; step < this.size; step++) {
      const port = this.min + ((start + step) % this.size);
      if (this.inUse.has(port)) continue;
      this.inUse.add(port);
      try {
        await listenOn(server, host, port);
        server.once('close', () => this.inUse.delete(port));
        return port;
      } catch (err) {
        this.inUse.delete(port);
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EADDRINUSE' && code !== 'EACCES') throw err;
      }
    }
    throw new PortRangeExhaustedError(`no free port in PassivePorts range ${this.min}-${this.max}`);
  }
}

export function listenOn(server: Server, host: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen({ host, port, exclusive: true, backlog: 4 }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
