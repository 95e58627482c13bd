import { toWire } from './wire.js';

/** One FTP reply: its code and its raw text lines (without CRLF), as received or as built locally. */
export interface FtpReply {
  code: number;
  lines: string[];
}

export function isPreliminary(reply: FtpReply): boolean {
  return reply.code < 200;
}

export function isSuccess(reply: FtpReply): boolean {
  return reply.code >= 200 && reply.code < 400;
}

/** Builds a reply of our own; several text lines make an RFC 959 multi-line reply. */
export function localReply(code: number, text: string | string[]): FtpReply {
  const texts = Array.isArray(text) ? text : [text];
  if (texts.length <= 1) return { code, lines: [`${code} ${texts[0] ?? ''}`] };
  return {
    code,
    lines: texts.map((line, index) => {
      if (index === 0) return `${code}-${line}`;
      if (index === texts.length - 1) return `${code} ${line}`;
      return line;
    }),
  };
}

/** The reply as bytes for the wire. Lines received from a backend are re-emitted as they came. */
export function encodeReply(reply: FtpReply): Buffer {
  return toWire(`${reply.lines.join('\r\n')}\r\n`);
}

/** The text of a reply's first line after the code, for logs and error messages. */
export function replyText(reply: FtpReply): string {
  return (reply.lines[0] ?? '').slice(4).trim();
}
