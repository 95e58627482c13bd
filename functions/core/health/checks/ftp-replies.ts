import type { Socket } from 'node:net';

/** One FTP reply: its code and its text (every line, joined). */
export interface FtpReply {
  code: number;
  text: string;
}

/** The backend did not send a complete reply in time, closed, or sent something that is not FTP. */
export class FtpReplyError extends Error {
  override readonly name = 'FtpReplyError';
}

const MAX_REPLY_BYTES = 16 * 1024;

/**
 * Reads the next complete reply (RFC 959 multi-line replies included) from `socket`, which may be a
 * TLS socket. Only a checker uses this: it sends one command and waits for its one reply, so bytes
 * after the reply are not kept. The socket is paused again afterwards.
 */
export function readReply(
  socket: Socket,
  timeoutMs: number,
  what: string,
  /** The whole check's time limit, named in the timeout message (the reply got what was left of it). */
  budgetMs = timeoutMs,
): Promise<FtpReply> {
  return new Promise((resolve, reject) => {
    let text = '';
    const finish = (error: Error | undefined, reply?: FtpReply) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      socket.pause();
      if (error) reject(error);
      else resolve(reply as FtpReply);
    };
    const timer = setTimeout(() => finish(new FtpReplyError(`no ${what} within ${budgetMs} ms`)), timeoutMs);
    const onError = (err: Error) => finish(new FtpReplyError(`${what}: ${err.message}`, { cause: err }));
    const onClose = () => finish(new FtpReplyError(`the connection closed before the ${what}`));
    const onData = (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (text.length > MAX_REPLY_BYTES) return finish(new FtpReplyError(`${what} longer than 16 KiB`));
      const reply = completeReply(text);
      if (reply === 'invalid')
        return finish(new FtpReplyError(`${what} is not an FTP reply: ${firstLine(text)}`));
      if (reply) finish(undefined, reply);
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.resume();
  });
}

function completeReply(text: string): FtpReply | 'invalid' | undefined {
  const lines = text.split('\r\n');
  if (lines.length < 2) return undefined;
  const first = lines[0] as string;
  const match = /^(\d{3})([ -])/.exec(first);
  if (!match) return 'invalid';
  const code = match[1] as string;
  if (match[2] === ' ') return { code: Number(code), text: first.slice(4) };
  for (let i = 1; i < lines.length - 1; i++) {
    if ((lines[i] as string).startsWith(`${code} `)) {
      return { code: Number(code), text: lines.slice(0, i + 1).join(' ') };
    }
  }
  return undefined;
}

function firstLine(text: string): string {
  return JSON.stringify(text.split('\r\n', 1)[0]?.slice(0, 80) ?? '');
}

/** Sends one command line and reads its reply. */
export async function command(
  socket: Socket,
  line: string,
  timeoutMs: number,
  budgetMs = timeoutMs,
): Promise<FtpReply> {
  socket.write(`${line}\r\n`);
  return readReply(socket, timeoutMs, `reply to ${line.split(' ', 1)[0]}`, budgetMs);
}
