/**
 * The control channel is handled as latin1 ("binary") text: every byte maps to one character and back,
 * so path names in any encoding pass through the proxy unchanged. Only ASCII (verbs, reply codes) is
 * ever interpreted.
 */
export const WIRE_ENCODING = 'latin1' as const;

export function toWire(text: string): Buffer {
  return Buffer.from(text, WIRE_ENCODING);
}

/** A configured (UTF-16) string as it appears on the wire when the peer speaks UTF-8. */
export function utf8AsWire(text: string): string {
  return Buffer.from(text, 'utf8').toString(WIRE_ENCODING);
}
