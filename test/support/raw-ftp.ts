import { connect, type Socket } from 'node:net';

/** A minimal line-oriented FTP peer, to send exactly the bytes a test needs. */
export class RawFtp {
  private buffer = '';
  private waiting: (() => void) | undefined;
  private constructor(private readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (text: string) => {
      this.buffer += text;
      this.waiting?.();
    });
    socket.on('close', () => this.waiting?.());
  }

  static async open(port: number, host = '127.0.0.1', localAddress?: string): Promise<RawFtp> {
    const socket = connect({ host, port, ...(localAddress ? { localAddress } : {}) });
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return new RawFtp(socket);
  }

  /** The next complete reply (single- or multi-line), or undefined if the connection closed first. */
  async reply(timeoutMs = 10_000): Promise<string | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = /^(\d{3})(?: [^\r\n]*|-[\s\S]*?\r\n\1 [^\r\n]*)\r\n/.exec(this.buffer);
      if (match) {
        this.buffer = this.buffer.slice(match[0].length);
        return match[0].trimEnd();
      }
      if (this.socket.destroyed || this.socket.readableEnded) return undefined;
      if (Date.now() > deadline) throw new Error(`no reply within ${timeoutMs} ms; buffer: ${this.buffer}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.waiting = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  async command(line: string): Promise<string | undefined> {
    this.socket.write(`${line}\r\n`);
    return this.reply();
  }

  write(data: string): void {
    this.socket.write(data);
  }

  async closed(timeoutMs = 5000): Promise<boolean> {
    if (this.socket.destroyed) return true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** Reads the greeting, logs in and switches to binary mode; fails the test if any step is refused. */
  async login(user: string, password: string): Promise<void> {
    const greeting = await this.reply();
    if (!greeting?.startsWith('220')) throw new Error(`no greeting: ${greeting}`);
    await this.command(`USER ${user}`);
    const loggedIn = await this.command(`PASS ${password}`);
    if (!loggedIn?.startsWith('230')) throw new Error(`login refused: ${loggedIn}`);
    const binary = await this.command('TYPE I');
    if (!binary?.startsWith('200')) throw new Error(`TYPE I refused: ${binary}`);
  }

  /** The client side's port: how the proxy's admin endpoint names this connection's client. */
  get localPort(): number {
    return this.socket.localPort ?? 0;
  }

  destroy(): void {
    this.socket.destroy();
  }
}
