/**
 * A small path router for the registry API: patterns like `/v1/pools/{pool}/backends/{id}`, where
 * `{name}` matches one non-empty path segment, percent-decoded (so `%2F` puts a `/` in a name).
 * A literal segment beats a parameter. A path that some pattern matches under another method is
 * `method-not-allowed`, with the methods that would have matched (for the `Allow` header).
 */
export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export interface RouteEntry<T> {
  method: HttpMethod;
  path: string;
  value: T;
}

export type RouteMatch<T> =
  | { kind: 'match'; value: T; params: Record<string, string> }
  | { kind: 'method-not-allowed'; allow: HttpMethod[] }
  | { kind: 'not-found' };

type Segment = { literal: string } | { param: string };

interface Compiled<T> {
  entry: RouteEntry<T>;
  segments: Segment[];
  literals: number;
}

export interface Router<T> {
  match(method: string, path: string): RouteMatch<T>;
}

export function createRouter<T>(routes: readonly RouteEntry<T>[]): Router<T> {
  const compiled = routes.map((entry) => compile(entry));
  const seen = new Set<string>();
  for (const route of compiled) {
    const shape = `${route.entry.method} ${route.segments.map((s) => ('param' in s ? '{}' : s.literal)).join('/')}`;
    if (seen.has(shape)) throw new Error(`two routes for ${route.entry.method} ${route.entry.path}`);
    seen.add(shape);
  }
  return {
    match(method, path) {
      const segments = splitPath(path);
      if (!segments) return { kind: 'not-found' };
      let best: { route: Compiled<T>; params: Record<string, string> } | undefined;
      const allow = new Set<HttpMethod>();
      for (const route of compiled) {
        const params = matchSegments(route.segments, segments);
        if (!params) continue;
        allow.add(route.entry.method);
        if (route.entry.method !== method.toUpperCase()) continue;
        if (!best || route.literals > best.route.literals) best = { route, params };
      }
      if (best) return { kind: 'match', value: best.route.entry.value, params: best.params };
      if (allow.size > 0)
        return { kind: 'method-not-allowed', allow: HTTP_METHODS.filter((m) => allow.has(m)) };
      return { kind: 'not-found' };
    },
  };
}

function compile<T>(entry: RouteEntry<T>): Compiled<T> {
  if (!entry.path.startsWith('/')) throw new Error(`route path ${entry.path} must start with /`);
  const names = new Set<string>();
  const segments = entry.path
    .slice(1)
    .split('/')
    .map((text): Segment => {
      const param = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(text)?.[1];
      if (param === undefined) {
        if (text === '' || /[{}]/.test(text)) throw new Error(`bad segment "${text}" in route ${entry.path}`);
        return { literal: text };
      }
      if (names.has(param)) throw new Error(`parameter ${param} twice in route ${entry.path}`);
      names.add(param);
      return { param };
    });
  return { entry, segments, literals: segments.filter((s) => 'literal' in s).length };
}

/** The raw path's segments, or undefined when it is not a path ("//", missing leading "/"). One trailing "/" is ignored. */
function splitPath(path: string): string[] | undefined {
  if (!path.startsWith('/')) return undefined;
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  const segments = trimmed.slice(1).split('/');
  return segments.some((segment) => segment === '') ? undefined : segments;
}

function matchSegments(
  pattern: readonly Segment[],
  raw: readonly string[],
): Record<string, string> | undefined {
  if (pattern.length !== raw.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const segment = pattern[i] as Segment;
    const text = raw[i] as string;
    if ('literal' in segment) {
      if (segment.literal !== text) return undefined;
      continue;
    }
    let decoded: string;
    try {
      decoded = decodeURIComponent(text);
    } catch {
      return undefined;
    }
    if (decoded === '') return undefined;
    params[segment.param] = decoded;
  }
  return params;
}
