import { request } from 'undici';

/** The responder answered with something other than an OCSP response, or not in time. */
export class OcspFetchError extends Error {
  override readonly name = 'OcspFetchError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Largest response read from a responder (a stapled response must fit a TLS record anyway). */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * POSTs a DER OCSP request to `url` (RFC 6960 appendix A.1) and returns the DER response. The
 * whole exchange (connect, send, answer) must fit in `timeoutMs`. Redirects are not followed.
 */
export async function fetchOcspResponse(url: string, der: Buffer, timeoutMs: number): Promise<Buffer> {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new OcspFetchError(`OCSP responder URL must be http or https (got ${parsed.protocol})`);
  }
  const signal = AbortSignal.timeout(timeoutMs);
  let status: number;
  let body: Buffer;
  try {
    const response = await request(parsed, {
      method: 'POST',
      body: der,
      headers: { 'content-type': 'application/ocsp-request', accept: 'application/ocsp-response' },
      signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    status = response.statusCode;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body) {
      size += (chunk as Buffer).length;
      if (size > MAX_RESPONSE_BYTES) {
        response.body.destroy();
        throw new OcspFetchError(
          `OCSP responder ${parsed.origin} sent more than ${MAX_RESPONSE_BYTES} bytes`,
        );
      }
      chunks.push(chunk as Buffer);
    }
    body = Buffer.concat(chunks);
  } catch (err) {
    if (err instanceof OcspFetchError) throw err;
    const reason = signal.aborted
      ? `no answer within ${timeoutMs} ms`
      : err instanceof Error
        ? err.message
        : String(err);
    throw new OcspFetchError(`OCSP responder ${parsed.origin}: ${reason}`, { cause: err });
  }
  if (status !== 200) throw new OcspFetchError(`OCSP responder ${parsed.origin} answered HTTP ${status}`);
  if (body.length === 0) throw new OcspFetchError(`OCSP responder ${parsed.origin} sent an empty answer`);
  return body;
}
