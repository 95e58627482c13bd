import { isIPv4, isIPv6 } from 'node:net';
import type { FtpReply } from '../control/reply.js';

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

/** PORT h1,h2,h3,h4,p1,p2 (RFC 959). */
export function parsePortArgument(arg: string): Required<DataAddress> | undefined {
  const match = /^\s*(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3})\s*$/.exec(arg);
  if (!match) return undefined;
  const numbers = match.slice(1).map(Number);
  if (numbers.some((n) => n > 255)) return undefined;
  const [a, b, c, d, p1, p2] = numbers as [number, number, number, number, number, number];
  return { host: `${a}.${b}.${c}.${d}`, port: p1 * 256 + p2 };
}

export type EprtParse =
  | { ok: true; address: Required<DataAddress> }
  | { ok: false; reason: 'syntax' | 'family' };

/** EPRT |af|address|port| (RFC 2428): af 1 is IPv4, 2 is IPv6; any delimiter character. */
export function parseEprtArgument(arg: string): EprtParse {
  const text = arg.trim();
  const delimiter = text[0];
  if (delimiter === undefined || delimiter.charCodeAt(0) < 33 || delimiter.charCodeAt(0) > 126) {
    return { ok: false, reason: 'syntax' };
  }
  const parts = text.split(delimiter);
  if (parts.length !== 5 || parts[0] !== '' || parts[4] !== '') return { ok: false, reason: 'syntax' };
  const [, family, host = '', portText = ''] = parts;
  if (family !== '1' && family !== '2') return { ok: false, reason: 'family' };
  if (family === '1' ? !isIPv4(host) : !isIPv6(host)) return { ok: false, reason: 'syntax' };
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    return { ok: false, reason: 'syntax' };
  }
  return { ok: true, address: { host, port: Number(portText) } };
}

export function formatPortArgument(ipv4: string, port: number): string {
  return `${ipv4.split('.').join(',')},${port >> 8},${port & 0xff}`;
}

export function formatEprtArgument(host: string, port: number): string {
  const ipv4 = asIPv4(host);
  return ipv4 ? `|1|${ipv4}|${port}|` : `|2|${host}|${port}|`;
}

/** RFC 1918 private IPv4 space (10/8, 172.16/12, 192.168/16), for mod_proxy's NAT fix-up of PORT. */
export function isRfc1918(address: string): boolean {
  const ipv4 = asIPv4(address);
  if (!ipv4) return false;
  const [a = 0, b = 0] = ipv4.split('.').map(Number);
  return a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}

/** A real IPv6 address (not IPv4-mapped). */
export function isIPv6Only(address: string): boolean {
  return isIPv6(address) && asIPv4(address) === undefined;
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
