import { isIPv4 } from 'node:net';
import type { FtpReply } from './reply.js';

export interface DataAddress {
  /** Absent in a 229 reply: the data connection goes to the control connection's peer. */
  host?: string;
  port: number;
}

/** Parses "227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)"; the parentheses are optional in practice. */
export function parsePasvReply(reply: FtpReply): DataAddress | undefined {
  if (reply.code !== 227) return undefined;
  const match = /(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3})/.exec(reply.lines.join(' '));
  if (!match) return undefined;
  const numbers = match.slice(1).map(Number);
  if (numbers.some((n) => n > 255)) return undefined;
  const [a, b, c, d, p1, p2] = numbers as [number, number, number, number, number, number];
  return { host: `${a}.${b}.${c}.${d}`, port: p1 * 256 + p2 };
}

/** Parses "229 Entering Extended Passive Mode (|||port|)" (RFC 2428; any delimiter character). */
export function parseEpsvReply(reply: FtpReply): DataAddress | undefined {
  if (reply.code !== 229) return undefined;
  const match = /\((.)\1\1(\d{1,5})\1\)/.exec(reply.lines.join(' '));
  if (!match) return undefined;
  const port = Number(match[2]);
  return port >= 1 && port <= 65535 ? { port } : undefined;
}

export function formatPasvReply(ipv4: string, port: number): string {
  return `Entering Passive Mode (${ipv4.split('.').join(',')},${port >> 8},${port & 0xff}).`;
}

export function formatEpsvReply(port: number): string {
  return `Entering Extended Passive Mode (|||${port}|)`;
}

/** "::ffff:10.0.0.1" -> "10.0.0.1"; a plain IPv4 address as is; undefined for real IPv6. */
export function asIPv4(address: string): string | undefined {
  if (isIPv4(address)) return address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped?.[1];
}

/** Two addresses are the same host, whether or not one of them is IPv4-mapped. */
export function sameHost(a: string, b: string): boolean {
  return (asIPv4(a) ?? a.toLowerCase()) === (asIPv4(b) ?? b.toLowerCase());
}
