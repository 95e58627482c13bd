import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';

const CHUNK_BYTES = 1024 * 1024;

/**
 * Writes `bytes` random bytes to `path` one chunk at a time, so multi-GiB fixtures cost no memory, and
 * returns their sha256 in hex.
 */
export async function makeRandomFile(path: string, bytes: number): Promise<string> {
  const hash = createHash('sha256');
  async function* chunks() {
    for (let left = bytes; left > 0; left -= CHUNK_BYTES) {
      const chunk = randomBytes(Math.min(left, CHUNK_BYTES));
      hash.update(chunk);
      yield chunk;
    }
  }
  await pipeline(chunks, createWriteStream(path));
  return hash.digest('hex');
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk);
  return hash.digest('hex');
}
