import { parsePrometheusText } from './prometheus-text.js';

/** Calls the admin endpoint of a running proxy (bearer token when given). */
export function adminClient(url: string, token?: string) {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const call = (path: string, init: RequestInit = {}) => fetch(`${url}${path}`, { ...init, headers });
  return {
    call,
    async metrics(): Promise<Map<string, number>> {
      const response = await call('/metrics');
      if (response.status !== 200) throw new Error(`/metrics: HTTP ${response.status}`);
      return parsePrometheusText(await response.text());
    },
    async sessions(): Promise<Record<string, unknown>[]> {
      const response = await call('/sessions');
      if (response.status !== 200) throw new Error(`/sessions: HTTP ${response.status}`);
      return ((await response.json()) as { sessions: Record<string, unknown>[] }).sessions;
    },
  };
}

/** The admin URL a serving process printed (`ftpx: admin endpoint on http://...`). */
export function adminUrlFrom(stderr: string): string {
  const match = /ftpx: admin endpoint on (http:\/\/\S+)/.exec(stderr);
  if (!match?.[1]) throw new Error(`no admin endpoint in:\n${stderr}`);
  return match[1];
}
