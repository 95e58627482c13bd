import type { ConfigInput } from '../schema.js';
import { processWide } from './process-wide.js';
import { type ImportState, type Origin, originOf } from './state.js';

/** The `tlsCache` block from mod_tls's cache directives (process-wide, like the logs). */
export function buildTlsCache(state: ImportState): {
  input?: NonNullable<ConfigInput['tlsCache']>;
  origin?: Origin;
} {
  const what = 'has one TLS cache configuration';
  const sessionCache = processWide(state, 'TLSSessionCache', what);
  const staplingCache = processWide(state, 'TLSStaplingCache', what);
  const stapling = processWide(state, 'TLSStapling', what);
  const options = processWide(state, 'TLSStaplingOptions', what);
  const responder = processWide(state, 'TLSStaplingResponder', what);
  const timeout = processWide(state, 'TLSStaplingTimeout', what);
  const first = [sessionCache, staplingCache, stapling, options, responder, timeout].find(
    (setting) => setting,
  );
  if (!first) return {};
  const input: NonNullable<ConfigInput['tlsCache']> = {};
  if (sessionCache) {
    const value = sessionCache.value;
    input.sessions = {
      enabled: value.enabled,
      ...(value.off ? { workerCache: false } : {}),
      ...(value.size !== undefined ? { size: value.size } : {}),
      ...(value.timeoutS !== undefined ? { timeout: value.timeoutS } : {}),
    };
  }
  if (staplingCache || stapling || options || responder || timeout) {
    // Configuring a TLSStaplingCache turns stapling on (mod_tls); TLSStapling says so explicitly.
    const enabled = stapling?.value ?? staplingCache?.value.enabled ?? false;
    input.stapling = {
      enabled,
      ...(staplingCache?.value.size !== undefined ? { size: staplingCache.value.size } : {}),
      ...(responder ? { responder: responder.value } : {}),
      ...(timeout ? { timeout: `${timeout.value}ms` } : {}),
      ...(options?.value ?? {}),
    };
  }
  return { input, origin: originOf(first) };
}
