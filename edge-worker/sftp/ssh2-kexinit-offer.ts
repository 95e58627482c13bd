import type { Client } from 'ssh2';

/**
 * ProxySFTPOptions NoExtensionNegotiation and NoStrictKex for ssh2's client.
 *
 * ssh2 appends `ext-info-c` (RFC 8308) and `kex-strict-c-v00@openssh.com` to every client KEXINIT
 * and has no option to leave them out. Its KEXINIT is built from the offer object its protocol
 * keeps (`_offer`, used for the first exchange and every rekey), and ssh2 sends it only once the
 * server's identification line has arrived, so replacing that offer right after `connect()` changes
 * what the backend is offered. Strict KEX needs one more step: ssh2's client turns strict mode on
 * when the *server* offers it, assuming it offered it too; its `_strictMode` is decided only while
 * undefined, so setting it to false keeps both sides out of strict mode.
 */

interface KexList {
  array: string[];
}
interface KexOffer {
  constructor: new (lists: unknown) => KexOffer;
  lists: {
    kex: KexList;
    serverHostKey: KexList;
    cs: Record<'cipher' | 'mac' | 'compress' | 'lang', KexList>;
    sc: Record<'cipher' | 'mac' | 'compress' | 'lang', KexList>;
  };
}

const EXT_INFO = 'ext-info-c';
const STRICT_KEX = 'kex-strict-c-v00@openssh.com';

/** Leaves ext-info-c and/or strict KEX out of `client`'s offer; call right after `connect()`. False when ssh2's internals changed. */
export function withoutKexExtensions(
  client: Client,
  leaveOut: { extensionNegotiation: boolean; strictKex: boolean },
): boolean {
  const protocol = (client as unknown as { _protocol?: { _offer?: KexOffer; _strictMode?: boolean } })
    ._protocol;
  const offer = protocol?._offer;
  if (!protocol || !offer?.lists?.kex?.array || typeof offer.constructor !== 'function') return false;
  const drop = new Set([
    ...(leaveOut.extensionNegotiation ? [EXT_INFO] : []),
    ...(leaveOut.strictKex ? [STRICT_KEX] : []),
  ]);
  const side = (lists: KexOffer['lists']['cs']) => ({
    cipher: lists.cipher.array,
    mac: lists.mac.array,
    compress: lists.compress.array,
    lang: lists.lang.array,
  });
  protocol._offer = new offer.constructor({
    kex: offer.lists.kex.array.filter((name) => !drop.has(name)),
    serverHostKey: offer.lists.serverHostKey.array,
    cs: side(offer.lists.cs),
    sc: side(offer.lists.sc),
  });
  if (leaveOut.strictKex) protocol._strictMode = false;
  return true;
}
