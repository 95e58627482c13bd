import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import ssh2, { type ParsedKey } from 'ssh2';

const run = promisify(execFile);

/** A host key (or a proxy client key) that cannot be used: unreadable, too open, wrong passphrase. */
export class HostKeyError extends Error {
  override readonly name = 'HostKeyError';
}

/** What runs the passphrase provider: the server it is for ("host:port"), for ProFTPD's argument. */
export interface PassPhraseContext {
  provider?: string | undefined;
  /** "host:port" of the listener (or "proxy" for client keys), the provider's first argument. */
  server: string;
}

const PROVIDER_TIMEOUT_MS = 10_000;

/**
 * The passphrase for an encrypted key, from `provider`: a program run with "server keyfile" (its
 * first output line), `env:NAME`, or `file:/path` (first line).
 */
export async function passPhraseFor(path: string, context: PassPhraseContext): Promise<string> {
  const provider = context.provider;
  if (provider === undefined) {
    throw new HostKeyError(`${path} is encrypted and no passphrase provider is configured`);
  }
  if (provider.startsWith('env:')) {
    const value = process.env[provider.slice(4)];
    if (value === undefined) throw new HostKeyError(`passphrase provider ${provider}: variable not set`);
    return value;
  }
  if (provider.startsWith('file:')) {
    const text = await readFile(provider.slice(5), 'utf8').catch((err: Error) => {
      throw new HostKeyError(`passphrase provider ${provider}: ${err.message}`, { cause: err });
    });
    return firstLine(text);
  }
  const { stdout } = await run(provider, [context.server, path], { timeout: PROVIDER_TIMEOUT_MS }).catch(
    (err: Error) => {
      // The message of a failed exec names the program and its exit, never the passphrase.
      throw new HostKeyError(`passphrase provider ${provider} failed for ${path}: ${err.message}`, {
        cause: err,
      });
    },
  );
  return firstLine(stdout);
}

function firstLine(text: string): string {
  return text.split(/\r?\n/, 1)[0] ?? '';
}

/**
 * Reads a private key file as ProFTPD does: an absolute path, not readable or writable by group or
 * others (mode & 077 is refused), decrypted with the passphrase provider when encrypted.
 */
export async function loadPrivateKey(path: string, context: PassPhraseContext): Promise<LoadedKey> {
  const info = await stat(path).catch((err: Error) => {
    throw new HostKeyError(`cannot read key ${path}: ${err.message}`, { cause: err });
  });
  if (!info.isFile()) throw new HostKeyError(`key ${path} is not a regular file`);
  if ((info.mode & 0o077) !== 0) {
    throw new HostKeyError(
      `key ${path} is accessible by group or others (mode ${(info.mode & 0o777).toString(8)}): chmod 600 it`,
    );
  }
  const data = await readFile(path);
  let passphrase: string | undefined;
  let parsed = ssh2.utils.parseKey(data);
  if (parsed instanceof Error && /encrypted|passphrase/i.test(parsed.message)) {
    passphrase = await passPhraseFor(path, context);
    parsed = ssh2.utils.parseKey(data, passphrase);
    if (parsed instanceof Error) throw new HostKeyError(`key ${path}: ${parsed.message} (wrong passphrase?)`);
  }
  if (parsed instanceof Error) throw new HostKeyError(`key ${path}: ${parsed.message}`);
  if (!parsed.isPrivateKey()) throw new HostKeyError(`key ${path} is a public key, not a private one`);
  return { parsed, key: data, ...(passphrase !== undefined ? { passphrase } : {}) };
}

/** A private key read from a file: parsed (to check it), and as ssh2's options take it. */
export interface LoadedKey {
  parsed: ParsedKey;
  key: Buffer;
  /** Never log it. */
  passphrase?: string;
}

/** Every key of a list, in order. */
export async function loadPrivateKeys(
  paths: readonly string[],
  context: PassPhraseContext,
): Promise<LoadedKey[]> {
  const keys: LoadedKey[] = [];
  for (const path of paths) keys.push(await loadPrivateKey(path, context));
  return keys;
}
