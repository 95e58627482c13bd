/**
 * The W3C trace context a caller sent (https://www.w3.org/TR/trace-context/#traceparent-header):
 * the edge worker's control-plane calls carry it, so a function's log lines can name the edge
 * login's trace.
 */
export interface TraceContext {
  /** 32 lowercase hex digits, not all zero. */
  traceId: string;
  /** The caller's span (16 lowercase hex digits, not all zero): the parent of this request. */
  parentSpanId: string;
  sampled: boolean;
}

const VERSION_00 = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
// A later version may append fields after a dash; its first four fields keep version 00's form.
const LATER_VERSION = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/s;
const ALL_ZERO = /^0+$/;
/** Longer than any header a well-behaved tracer sends; a longer one is not even scanned. */
const MAX_LENGTH = 512;

/**
 * The trace context of a `traceparent` header value, or undefined when there is none or it is not
 * valid W3C trace context (wrong lengths, uppercase or non-hex digits, version ff, all-zero ids,
 * a repeated header): an invalid header is ignored, as the specification asks, never an error.
 */
export function parseTraceparent(value: unknown): TraceContext | undefined {
  if (typeof value !== 'string' || value.length > MAX_LENGTH) return undefined;
  const v00 = VERSION_00.exec(value);
  const later = v00 ? undefined : LATER_VERSION.exec(value);
  if (later && (later[1] === '00' || later[1] === 'ff')) return undefined;
  const traceId = v00?.[1] ?? later?.[2];
  const parentSpanId = v00?.[2] ?? later?.[3];
  const flags = v00?.[3] ?? later?.[4];
  if (traceId === undefined || parentSpanId === undefined || flags === undefined) return undefined;
  if (ALL_ZERO.test(traceId) || ALL_ZERO.test(parentSpanId)) return undefined;
  return { traceId, parentSpanId, sampled: (Number.parseInt(flags, 16) & 1) === 1 };
}

/** The log fields naming a request's trace: `traceId` and `parentSpanId`, or none. */
export function traceLogFields(context: TraceContext | undefined): Record<string, string> {
  return context ? { traceId: context.traceId, parentSpanId: context.parentSpanId } : {};
}
