/**
 * Which log fields are secrets, for the functions' logs (the edge worker's logger applies the
 * same rules to its lines): values under these keys are replaced whatever their type.
 */
const SECRET_KEYS = /pass(word)?|secret|token|credential|authorization|privatekey|private_key|passphrase/i;
/** `scheme://user:password@` in any string: the password goes. */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*):[^\s@/]*@/gi;
/** An Authorization header's value. */
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g;
export const REDACTED = '[redacted]';

/**
 * A JSON.stringify replacer that masks secrets: Powertools' Logger takes it as `jsonReplacerFn`, so
 * an event logged whole (POWERTOOLS_LOGGER_LOG_EVENT) or an error's fields leave no password behind.
 */
export function maskSecretFields(key: string, value: unknown): unknown {
  if (key !== '' && SECRET_KEYS.test(key) && value !== undefined && value !== null) return REDACTED;
  if (typeof value === 'string')
    return value.replace(URL_CREDENTIALS, `$1:${REDACTED}@`).replace(BEARER, `$1 ${REDACTED}`);
  return value;
}
