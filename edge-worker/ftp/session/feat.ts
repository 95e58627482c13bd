import type { FtpReply } from '../control/reply.js';

/**
 * Features the backend may list that are not the backend's to offer: TLS towards the client is the
 * proxy's (it adds its own lines when the listener has TLS), and HOST is answered by the proxy.
 */
const HIDDEN_FEATURES = new Set(['AUTH', 'PBSZ', 'PROT', 'CCC', 'ADAT', 'HOST']);
/** Features the proxy provides itself, whatever the backend supports (both are translated). */
const PROXY_FEATURES = ['EPRT', 'EPSV'];

/**
 * The client's FEAT reply: the backend's feature list, filtered to what the proxy can honour, plus
 * what the proxy adds. Relaying the backend's list (rather than a fixed local one, as mod_proxy does
 * without ShowFeatures) keeps MLST, SIZE, MDTM, UTF8 and REST STREAM truthful for each backend.
 * `mlst` replaces the backend's MLST line when the proxy translates listings.
 */
export function featReply(
  backendReply: FtpReply | undefined,
  mlst?: string,
  /** The proxy's own security features (AUTH TLS, PBSZ, PROT) when the listener offers TLS. */
  security: readonly string[] = [],
): FtpReply {
  const lines = backendReply?.code === 211 ? backendReply.lines.slice(1, -1) : [];
  const features = new Map<string, string>();
  for (const line of lines) {
    const text = line.trim();
    if (text === '') continue;
    const key = text.split(' ', 1)[0]?.toUpperCase() ?? '';
    if (!HIDDEN_FEATURES.has(key)) features.set(key, text);
  }
  for (const feature of PROXY_FEATURES) if (!features.has(feature)) features.set(feature, feature);
  // Under ProxyDirectoryListPolicy LIST the proxy answers MLSD itself, with its own facts.
  if (mlst !== undefined) features.set('MLST', mlst);
  for (const feature of security) features.set(feature.split(' ', 1)[0]?.toUpperCase() ?? feature, feature);
  const sorted = [...features.values()].sort((a, b) => a.localeCompare(b));
  return {
    code: 211,
    lines: ['211-Features:', ...sorted.map((feature) => ` ${feature}`), '211 End'],
  };
}
