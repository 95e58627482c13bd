import { createRequire } from 'node:module';
import type { Algorithms } from 'ssh2';

/**
 * The transport algorithms ssh2 implements (its `protocol/constants` tables), to validate configured
 * lists at configuration time rather than at the first handshake.
 */
interface Ssh2Constants {
  SUPPORTED_KEX: string[];
  SUPPORTED_SERVER_HOST_KEY: string[];
  SUPPORTED_CIPHER: string[];
  SUPPORTED_MAC: string[];
  DEFAULT_KEX: string[];
}

const require = createRequire(import.meta.url);
let loaded: Ssh2Constants | undefined;
/**
 * Loaded on first use: the config schema reaches this file in every process, and ssh2's constants
 * pull in its crypto bindings (with a 16 MiB poly1305 heap), which an FTP-only proxy never needs.
 */
const constants = (): Ssh2Constants => {
  loaded ??= require('ssh2/lib/protocol/constants') as Ssh2Constants;
  return loaded;
};

export const SUPPORTED_ALGORITHMS = {
  get kex() {
    return constants().SUPPORTED_KEX;
  },
  get serverHostKey() {
    return constants().SUPPORTED_SERVER_HOST_KEY;
  },
  get cipher() {
    return constants().SUPPORTED_CIPHER;
  },
  get hmac() {
    return constants().SUPPORTED_MAC;
  },
} as const;

export type AlgorithmKind = keyof typeof SUPPORTED_ALGORITHMS;

/** What mod_sftp / mod_proxy call each list, for error messages. */
const LABELS: Record<AlgorithmKind, string> = {
  kex: 'key exchange',
  serverHostKey: 'host key algorithm',
  cipher: 'cipher',
  hmac: 'MAC (digest)',
};

/** The first name in `names` that ssh2 does not implement, with the reason; undefined when all are known. */
export function unsupportedAlgorithm(kind: AlgorithmKind, names: readonly string[]): string | undefined {
  const known = SUPPORTED_ALGORITHMS[kind];
  for (const name of names) {
    if (!known.includes(name)) {
      return `${LABELS[kind]} "${name}" is not implemented by ssh2 (known: ${known.join(', ')})`;
    }
  }
  return undefined;
}

/** SFTPCompression / ProxySFTPCompression. */
export type CompressionMode = 'on' | 'off' | 'delayed';

/** mod_proxy's offers: off = none; on = zlib,none; delayed = zlib@openssh.com,zlib,none. */
export function compressionList(mode: CompressionMode): string[] {
  if (mode === 'on') return ['zlib', 'none'];
  if (mode === 'delayed') return ['zlib@openssh.com', 'zlib', 'none'];
  return ['none'];
}

export interface AlgorithmSettings {
  ciphers?: string[] | undefined;
  digests?: string[] | undefined;
  keyExchanges?: string[] | undefined;
  hostKeyAlgorithms?: string[] | undefined;
  compression: CompressionMode;
  /** ProxySFTPOptions AllowWeakDH: also offer diffie-hellman-group1-sha1 and group14-sha1. */
  allowWeakDh?: boolean;
}

const WEAK_DH = ['diffie-hellman-group14-sha1', 'diffie-hellman-group1-sha1'];

/** The ssh2 `algorithms` option for configured lists; unset lists keep ssh2's defaults. */
export function ssh2Algorithms(settings: AlgorithmSettings): Algorithms {
  const algorithms: Algorithms = {
    compress: compressionList(settings.compression) as Algorithms['compress'],
  };
  let kex = settings.keyExchanges;
  if (settings.allowWeakDh) {
    kex = [...(kex ?? constants().DEFAULT_KEX), ...WEAK_DH.filter((name) => !(kex ?? []).includes(name))];
  }
  if (kex) algorithms.kex = kex as Algorithms['kex'];
  if (settings.ciphers) algorithms.cipher = settings.ciphers as Algorithms['cipher'];
  if (settings.digests) algorithms.hmac = settings.digests as Algorithms['hmac'];
  if (settings.hostKeyAlgorithms) {
    algorithms.serverHostKey = settings.hostKeyAlgorithms as Algorithms['serverHostKey'];
  }
  return algorithms;
}
