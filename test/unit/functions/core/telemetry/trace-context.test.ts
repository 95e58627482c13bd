import { describe, expect, it } from 'vitest';
import { parseTraceparent, traceLogFields } from '../../../../../functions/core/telemetry/index.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('parseTraceparent (W3C trace context)', () => {
  it('reads version 00 with its flags', () => {
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-01`)).toEqual({
      traceId: TRACE,
      parentSpanId: SPAN,
      sampled: true,
    });
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-00`)?.sampled).toBe(false);
  });

  it('reads a later version, extra fields included, as its first four fields', () => {
    expect(parseTraceparent(`01-${TRACE}-${SPAN}-01-what-comes-next`)).toMatchObject({
      traceId: TRACE,
      parentSpanId: SPAN,
    });
  });

  it.each([
    ['no header', undefined],
    ['a repeated header (an array)', [`00-${TRACE}-${SPAN}-01`, `00-${TRACE}-${SPAN}-01`]],
    ['two headers joined', `00-${TRACE}-${SPAN}-01, 00-${TRACE}-${SPAN}-01`],
    ['empty', ''],
    ['garbage', 'not-a-trace'],
    ['uppercase hex', `00-${TRACE.toUpperCase()}-${SPAN}-01`],
    ['a short trace id', `00-${TRACE.slice(1)}-${SPAN}-01`],
    ['a long span id', `00-${TRACE}-${SPAN}0-01`],
    ['non-hex digits', `00-${TRACE.slice(0, 31)}g-${SPAN}-01`],
    ['one-digit flags', `00-${TRACE}-${SPAN}-1`],
    ['version ff', `ff-${TRACE}-${SPAN}-01`],
    ['version 00 with extra fields', `00-${TRACE}-${SPAN}-01-extra`],
    ['a later version run into its extra data', `01-${TRACE}-${SPAN}-01extra`],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${SPAN}-01`],
    ['an all-zero span id', `00-${TRACE}-${'0'.repeat(16)}-01`],
    ['surrounding spaces', ` 00-${TRACE}-${SPAN}-01 `],
    ['a trailing newline', `00-${TRACE}-${SPAN}-01\n`],
    ['an oversized value', `01-${TRACE}-${SPAN}-01-${'a'.repeat(1000)}`],
  ])('ignores %s', (_what, value) => {
    expect(parseTraceparent(value)).toBeUndefined();
    expect(traceLogFields(parseTraceparent(value))).toEqual({});
  });

  it('gives the log fields traceId and parentSpanId', () => {
    expect(traceLogFields(parseTraceparent(`00-${TRACE}-${SPAN}-01`))).toEqual({
      traceId: TRACE,
      parentSpanId: SPAN,
    });
  });
});
