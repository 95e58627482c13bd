import { Agent, request } from 'undici';

/**
 * The operator commands' client for the registry API (functions/registry): one base URL, one
 * bearer token, JSON in and out. It never puts the token in an error message.
 */

export interface ApiIssue {
  path: string;
  message: string;
}

/** The API answered with an error (`{ error: { code, message, issues? } }`). */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: ApiIssue[],
    /** The error body as the API sent it (for --json). */
    readonly body: unknown,
  ) {
    super(message);
  }
}

/** No answer: connection refused, unknown host, timeout, or an answer that is not the API's. */
export class ApiUnreachableError extends Error {
  override readonly name = 'ApiUnreachableError';
}

export interface ApiPage<T> {
  items: T[];
  nextCursor?: string;
}

export interface ApiClientOptions {
  /** `http(s)://host:port`, optionally with a path prefix (an API Gateway stage). */
  baseUrl: string;
  token?: string | undefined;
  /** For connect, and again for the answer. Defaults to 30 s. */
  timeoutMs?: number;
}

/** The largest page the API serves. */
const MAX_PAGE = 100;
/** Error bodies and pages are small; anything bigger is not the API. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export class ApiClient {
  private readonly base: URL;
  private readonly agent: Agent;
  private readonly token: string | undefined;
  /** The base URL without credentials, for messages. */
  readonly displayUrl: string;

  constructor(options: ApiClientOptions) {
    this.base = new URL(options.baseUrl);
    this.displayUrl = displayUrl(this.base);
    this.token = options.token;
    const timeout = options.timeoutMs ?? 30_000;
    this.agent = new Agent({ connect: { timeout }, headersTimeout: timeout, bodyTimeout: timeout });
  }

  /**
   * One request to `/<segments...>` under the base URL (each segment percent-encoded). Resolves to
   * the parsed JSON body, or undefined for 204.
   */
  async call<T = unknown>(
    method: HttpMethod,
    segments: readonly string[],
    options: { query?: Record<string, string>; body?: unknown } = {},
  ): Promise<T> {
    const url = this.urlOf(segments, options.query);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    let response: Awaited<ReturnType<typeof request>>;
    try {
      response = await request(url, { method, headers, body, dispatcher: this.agent });
    } catch (err) {
      throw new ApiUnreachableError(`cannot reach the control plane at ${this.displayUrl}: ${describe(err)}`);
    }
    const text = await readText(response.body).catch((err: unknown) => {
      throw new ApiUnreachableError(
        `the control plane at ${this.displayUrl} broke off its answer: ${describe(err)}`,
      );
    });
    const status = response.statusCode;
    const contentType = String(response.headers['content-type'] ?? '');
    if (status === 204 || (status < 300 && text === '')) return undefined as T;
    const json = /^application\/([a-z0-9.+-]+\+)?json/i.test(contentType) ? parseJson(text) : undefined;
    if (status >= 200 && status < 300 && json !== undefined) return json as T;
    const error = apiErrorOf(json);
    if (status >= 400 && error) {
      throw new ApiError(status, error.code, error.message, error.issues ?? [], json);
    }
    throw new ApiUnreachableError(
      `${this.displayUrl} did not answer as the ftpx registry API does (HTTP ${status}${contentType ? `, ${contentType.split(';')[0]}` : ''}): is --api the control plane's URL?`,
    );
  }

  /**
   * Every item of a list, following `nextCursor` page after page; with `limit`, at most that many
   * (the answer's nextCursor then says whether there are more).
   */
  async list<T = unknown>(segments: readonly string[], limit?: number): Promise<ApiPage<T>> {
    const items: T[] = [];
    let cursor: string | undefined;
    const seen = new Set<string>();
    do {
      const pageSize = limit === undefined ? MAX_PAGE : Math.min(MAX_PAGE, limit - items.length);
      const page = await this.call<unknown>('GET', segments, {
        query: { limit: String(pageSize), ...(cursor !== undefined ? { cursor } : {}) },
      });
      if (!isPage(page)) {
        throw new ApiUnreachableError(`${this.displayUrl} answered a list without "items"`);
      }
      items.push(...(page.items as T[]));
      cursor = page.nextCursor;
      if (cursor !== undefined) {
        if (seen.has(cursor)) throw new ApiUnreachableError(`${this.displayUrl} repeated a page cursor`);
        seen.add(cursor);
      }
    } while (cursor !== undefined && (limit === undefined || items.length < limit));
    return { items, ...(cursor !== undefined ? { nextCursor: cursor } : {}) };
  }

  /** Whether requests carry a bearer token (never the token itself). */
  get hasToken(): boolean {
    return this.token !== undefined;
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private urlOf(segments: readonly string[], query: Record<string, string> | undefined): string {
    const url = new URL(this.base.href);
    const prefix = url.pathname.replace(/\/+$/, '');
    url.pathname = `${prefix}/${segments.map((segment) => encodeURIComponent(segment)).join('/')}`;
    url.search = query ? new URLSearchParams(query).toString() : '';
    url.hash = '';
    return url.href;
  }
}

/** The URL as it may be shown: no user or password, no query. */
export function displayUrl(url: URL): string {
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/+$/, '');
  return `${url.protocol}//${url.host}${path}`;
}

function isPage(value: unknown): value is ApiPage<unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const page = value as { items?: unknown; nextCursor?: unknown };
  return Array.isArray(page.items) && (page.nextCursor === undefined || typeof page.nextCursor === 'string');
}

function apiErrorOf(
  body: unknown,
): { code: string; message: string; issues?: ApiIssue[] | undefined } | undefined {
  const error = (body as { error?: unknown } | undefined)?.error as
    | { code?: unknown; message?: unknown; issues?: unknown }
    | undefined;
  if (typeof error?.code !== 'string' || typeof error.message !== 'string') return undefined;
  const issues = Array.isArray(error.issues)
    ? error.issues.filter(
        (issue): issue is ApiIssue =>
          typeof (issue as ApiIssue)?.path === 'string' && typeof (issue as ApiIssue)?.message === 'string',
      )
    : undefined;
  return { code: error.code, message: error.message, issues };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function readText(body: AsyncIterable<Buffer | string>): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new Error(`answer larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A network error in a few words: `connect ECONNREFUSED 127.0.0.1:9`, `getaddrinfo ENOTFOUND x`. */
function describe(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) {
    return [...new Set(err.errors.map((inner) => describe(inner)))].join('; ');
  }
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return 'connect timed out';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return 'no answer in time';
  const cause = err.cause instanceof Error ? describe(err.cause) : undefined;
  if (err.message === '' || err.message === 'fetch failed') return cause ?? String(code ?? err.name);
  return err.message;
}
