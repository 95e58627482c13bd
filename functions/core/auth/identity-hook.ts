import { createRequire } from 'node:module';
import type { Agent } from 'undici';
import { z } from 'zod';
import type { AuthProtocol, AuthResponse } from '../../contract/auth.js';
import { parseBackendUrl } from '../backend-url.js';

/**
 * The external identity hook: for operators who keep their users elsewhere (a directory, an IdP, a
 * database of their own), as AWS Transfer Family's custom identity provider and SFTPGo's external
 * auth hook do. Each login is one HTTPS POST of JSON:
 *
 *     { "pool", "user", "password" | "publicKey", "clientAddress", "protocol" }
 *
 * answered with 200 and JSON:
 *
 *     { "allow": true, "user"?: canonical name, "group"?: primary group, "groups"?: [...],
 *       "backend"?: URL, "backends"?: [URL, ...], "reason"?: text for the log }
 *
 * Anything but a valid `"allow": true` answer denies: another status, a body that is not that JSON,
 * a backend that is not an ftp://, ftps:// or sftp:// URL, a timeout, a connection or TLS failure.
 * The hook is authoritative for the pools it covers: the store's proxy users are not consulted.
 */

const headerName = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'not an HTTP header name');

export const identityHookConfigSchema = z
  .object({
    /** The hook's URL: https (http only with allowInsecureHttp, for a sidecar on the same host). */
    url: z.string().url(),
    /**
     * The whole exchange (connect, TLS, answer) must fit in this, else the login is denied. Keep it
     * below the edge worker's controlPlane.timeout (2 s by default) when the control plane is remote.
     */
    timeoutMs: z.number().int().min(50).max(60_000).default(1500),
    /** Sent as `Authorization: Bearer <token>`. */
    bearerToken: z.string().min(1).optional(),
    /** A shared-secret header sent with every call, e.g. `{ name: "x-ftpx-secret", value: "..." }`. */
    secretHeader: z
      .object({ name: headerName, value: z.string().min(1) })
      .strict()
      .optional(),
    /**
     * PEM certificate(s) trusted for the hook's TLS, replacing the default CA list (a private CA or
     * a self-signed certificate). Without it, Node's default CAs (plus NODE_EXTRA_CA_CERTS).
     */
    ca: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    /** The pools this hook decides for; without it, every pool (a global hook). */
    pools: z.array(z.string().min(1)).min(1).optional(),
    /** Allows an http:// URL (the password then crosses the network in clear: loopback only). */
    allowInsecureHttp: z.boolean().default(false),
  })
  .strict()
  .superRefine((config, context) => {
    let protocol = '';
    try {
      protocol = new URL(config.url).protocol;
    } catch {
      return; // z.url() reports it.
    }
    if (protocol !== 'https:' && !(protocol === 'http:' && config.allowInsecureHttp)) {
      context.addIssue({
        code: 'custom',
        path: ['url'],
        message:
          protocol === 'http:'
            ? 'must be https (allowInsecureHttp permits http, for a hook on the same host)'
            : 'must be https',
      });
    }
  });

export type IdentityHookConfig = z.input<typeof identityHookConfigSchema>;
type ParsedHookConfig = z.output<typeof identityHookConfigSchema>;

/** What the hook is sent. */
export interface IdentityHookRequest {
  pool: string;
  user: string;
  password?: string;
  publicKey?: string;
  clientAddress: string;
  protocol: AuthProtocol;
}

const backendUrl = z
  .string()
  .max(2048)
  .refine((value) => parseBackendUrl(value).ok, 'not a backend URL (ftp://, ftps:// or sftp://)');
const name = z.string().min(1).max(256);

/** The hook's answer. Unknown fields are ignored; a field of the wrong shape makes it invalid. */
export const identityHookResponseSchema = z.object({
  allow: z.boolean(),
  user: name.optional(),
  group: name.optional(),
  groups: z.array(name).max(64).optional(),
  backend: backendUrl.optional(),
  backends: z.array(backendUrl).max(100).optional(),
  reason: z.string().optional(),
});

/** Largest answer read from a hook. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/** The hook that decides for `pool`: the first naming the pool, else the first without `pools`. */
export function selectIdentityHook(
  hooks: IdentityHookConfig | readonly IdentityHookConfig[] | undefined,
  pool: string,
): IdentityHookConfig | undefined {
  if (hooks === undefined) return undefined;
  const list: readonly IdentityHookConfig[] = Array.isArray(hooks) ? hooks : [hooks as IdentityHookConfig];
  return list.find((hook) => hook.pools?.includes(pool)) ?? list.find((hook) => hook.pools === undefined);
}

interface PreparedHook {
  config: ParsedHookConfig;
  agent: Agent;
}

const nodeRequire = createRequire(import.meta.url);
/** undici loads with the first hook prepared: every process validating a config reaches this module. */
// A bundle (esbuild: the Lambda functions) defines `require` and bundles what a literal require()
// names; Node's ESM has no `require`, and the module's own createRequire loads undici there.
const undici = (): typeof import('undici') =>
  (typeof require === 'function' ? require('undici') : nodeRequire('undici')) as typeof import('undici');

/** One connection pool per configuration object, so calls reuse keep-alive connections. */
const prepared = new Map<IdentityHookConfig, PreparedHook>();

function prepare(config: IdentityHookConfig): PreparedHook {
  const existing = prepared.get(config);
  if (existing) return existing;
  const parsed = identityHookConfigSchema.parse(config);
  const agent = new (undici().Agent)({
    connect: {
      timeout: parsed.timeoutMs,
      ...(parsed.ca !== undefined ? { ca: parsed.ca } : {}),
    },
    headersTimeout: parsed.timeoutMs,
    bodyTimeout: parsed.timeoutMs,
    maxResponseSize: MAX_RESPONSE_BYTES,
    keepAliveTimeout: 4000,
  });
  const hook = { config: parsed, agent };
  prepared.set(config, hook);
  return hook;
}

/** Closes the connections kept for `config` (every hook's, without it). */
export async function closeIdentityHooks(config?: IdentityHookConfig): Promise<void> {
  const entries = config ? [[config, prepared.get(config)] as const] : [...prepared.entries()];
  await Promise.all(
    entries.map(async ([key, hook]) => {
      prepared.delete(key);
      await hook?.agent.close();
    }),
  );
}

/** Asks the hook; every failure is a denial with its reason (never an exception). */
export async function callIdentityHook(
  config: IdentityHookConfig,
  request: IdentityHookRequest,
): Promise<AuthResponse> {
  let hook: PreparedHook;
  try {
    hook = prepare(config);
  } catch (err) {
    return deny(`identity hook misconfigured: ${describe(err)}`);
  }
  const { config: settings, agent } = hook;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json',
  };
  if (settings.bearerToken !== undefined) headers.authorization = `Bearer ${settings.bearerToken}`;
  if (settings.secretHeader) headers[settings.secretHeader.name.toLowerCase()] = settings.secretHeader.value;
  const body = JSON.stringify({
    pool: request.pool,
    user: request.user,
    ...(request.password !== undefined ? { password: request.password } : {}),
    ...(request.publicKey !== undefined ? { publicKey: request.publicKey } : {}),
    clientAddress: request.clientAddress,
    protocol: request.protocol,
  });

  const signal = AbortSignal.timeout(settings.timeoutMs);
  let status: number;
  let text: string;
  try {
    const response = await undici().request(settings.url, {
      method: 'POST',
      headers,
      body,
      dispatcher: agent,
      signal,
    });
    status = response.statusCode;
    text = await response.body.text();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (signal.aborted || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
      return deny(`identity hook did not answer within ${settings.timeoutMs} ms`);
    }
    if (code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') {
      return deny(`identity hook answer larger than ${MAX_RESPONSE_BYTES} bytes`);
    }
    return deny(`identity hook unreachable: ${describe(err)}`);
  }
  if (status < 200 || status > 299) return deny(`identity hook answered HTTP ${status}`);

  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return deny('identity hook answer is not JSON');
  }
  const parsed = identityHookResponseSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    return deny(`identity hook answer is invalid (${where}${issue?.message ?? 'unexpected shape'})`);
  }
  const answer = parsed.data;
  const said = answer.reason !== undefined ? `: ${printable(answer.reason)}` : '';
  if (!answer.allow) return deny(`identity hook denied${said}`);

  const groups = unique([...(answer.group !== undefined ? [answer.group] : []), ...(answer.groups ?? [])]);
  const backends = unique([
    ...(answer.backend !== undefined ? [answer.backend] : []),
    ...(answer.backends ?? []),
  ]);
  return {
    allowed: true,
    user: answer.user ?? request.user,
    ...(answer.group !== undefined ? { primaryGroup: answer.group } : {}),
    ...(groups.length > 0 ? { groups } : {}),
    ...(backends.length > 0 ? { backends } : {}),
    reason: `identity hook allowed${said}`,
    source: 'identity-hook',
  };
}

function deny(reason: string): AuthResponse {
  return { allowed: false, reason, source: 'identity-hook' };
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** The hook's own reason, made safe for a log line: printable, at most 200 characters. */
function printable(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    out += code < 0x20 || code === 0x7f ? ' ' : char;
  }
  return out.slice(0, 200);
}

function describe(err: unknown): string {
  if (err instanceof z.ZodError) {
    return err.issues.map((issue) => `${issue.path.join('.') || '(config)'}: ${issue.message}`).join('; ');
  }
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  // undici wraps the socket error; its cause says what happened (ECONNREFUSED, a TLS failure).
  const cause = (err as { cause?: unknown }).cause;
  const inner = cause instanceof Error ? `: ${cause.message}` : '';
  return `${typeof code === 'string' ? `${code} ` : ''}${message}${inner}`.slice(0, 300);
}
