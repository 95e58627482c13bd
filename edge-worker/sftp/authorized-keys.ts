import { readFile } from 'node:fs/promises';
import ssh2 from 'ssh2';
import { perUserPath } from '../reverse/backend-source.js';

/** The most bytes read from one authorized_keys file. */
const MAX_FILE_BYTES = 1024 * 1024;

/**
 * Whether `keyBlob` (the SSH wire form of a client's public key) is listed in the user's
 * authorized_keys file (SFTPAuthorizedUserKeys, `%u` = the user name). Lines may carry OpenSSH
 * options before the key; options are not applied (the proxy only decides who the user is). A
 * missing file means no key.
 */
export async function isAuthorizedKey(template: string, user: string, keyBlob: Buffer): Promise<boolean> {
  const path = perUserPath(template.split('%u').join('%U'), user);
  if (!path.ok) return false;
  let text: string;
  try {
    const buffer = await readFile(path.path);
    text = buffer.subarray(0, MAX_FILE_BYTES).toString('utf8');
  } catch {
    return false;
  }
  for (const line of text.split(/\r?\n/)) {
    const blob = keyOfLine(line);
    if (blob?.equals(keyBlob)) return true;
  }
  return false;
}

const KEY_TYPE = /(?:^|\s)((?:ssh-|ecdsa-sha2-|sk-)[\w@.-]+\s+[A-Za-z0-9+/=]+)/;

/** The public key blob of one authorized_keys line, or undefined for comments and junk. */
export function keyOfLine(line: string): Buffer | undefined {
  const trimmed = line.trim();
  if (trimmed === '' || trimmed.startsWith('#')) return undefined;
  const match = KEY_TYPE.exec(trimmed);
  if (!match?.[1]) return undefined;
  const parsed = ssh2.utils.parseKey(match[1]);
  if (parsed instanceof Error) return undefined;
  return parsed.getPublicSSH();
}
