import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/**
 * A SHA-512 crypt(3) hash (`$6$...`), which every server here verifies through libc. It is quick on
 * purpose: pure-pw's default argon2id costs two seconds of CPU on every login.
 */
export async function sha512Crypt(password: string): Promise<string> {
  const { stdout } = await promisify(execFile)('openssl', ['passwd', '-6', password]);
  return stdout.trim();
}
