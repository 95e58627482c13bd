import type { MiddlewareObj } from '@middy/core';
import type { z } from 'zod';
import { InvalidRequestError } from './invalid-request-error.js';

/**
 * middy middleware: parses the event with a zod schema before the handler runs, so handlers only
 * ever see a validated, defaulted event.
 */
export function validateEvent<S extends z.ZodType>(schema: S): MiddlewareObj<unknown, unknown> {
  return {
    before: (request) => {
      const parsed = schema.safeParse(request.event);
      if (!parsed.success) throw InvalidRequestError.fromZod(parsed.error);
      request.event = parsed.data;
    },
  };
}
