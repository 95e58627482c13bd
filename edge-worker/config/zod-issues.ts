import { z } from 'zod';
import { configSchema } from './schema.js';
import { closestMatch } from './suggest.js';

export type SchemaIssue = z.core.$ZodIssue;
export type KeyPath = readonly PropertyKey[];

/** `['listeners', 0, 'port']` → `listeners[0].port`. */
export function formatKeyPath(path: KeyPath): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else {
      const name = String(segment);
      if (/^[A-Za-z_$][\w$-]*$/.test(name)) text += text === '' ? name : `.${name}`;
      else text += `[${JSON.stringify(name)}]`;
    }
  }
  return text;
}

/** Whether the parsed input has a value (even null) at `path`. */
export function hasValueAt(input: unknown, path: KeyPath): boolean {
  let value: unknown = input;
  for (const segment of path) {
    if (value === null || typeof value !== 'object') return false;
    if (!Object.hasOwn(value, segment)) return false;
    value = (value as Record<PropertyKey, unknown>)[segment];
  }
  return value !== undefined;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (;;) {
    if (
      current instanceof z.ZodDefault ||
      current instanceof z.ZodOptional ||
      current instanceof z.ZodNullable
    ) {
      current = current.unwrap() as z.ZodType;
    } else if (current instanceof z.ZodPipe) {
      current = current.in as z.ZodType;
    } else {
      return current;
    }
  }
}

/** The keys the native schema allows in the object at `path` (empty when it is not an object). */
export function knownKeysAt(path: KeyPath): string[] {
  let schema: z.ZodType | undefined = configSchema;
  for (const segment of path) {
    if (!schema) return [];
    const inner = unwrap(schema);
    if (inner instanceof z.ZodObject && typeof segment === 'string') {
      schema = (inner.shape as Record<string, z.ZodType>)[segment];
    } else if (inner instanceof z.ZodArray && typeof segment === 'number') {
      schema = inner.element as z.ZodType;
    } else {
      return [];
    }
  }
  const inner = schema ? unwrap(schema) : undefined;
  return inner instanceof z.ZodObject ? Object.keys(inner.shape) : [];
}

/** The message for one key that `.strict()` refused, with a suggestion when it looks like a typo. */
export function unknownKeyMessage(path: KeyPath, key: string): string {
  const known = knownKeysAt(path);
  const suggestion = closestMatch(key, known);
  if (suggestion) return `unknown key "${key}" (did you mean "${suggestion}"?)`;
  return known.length > 0 ? `unknown key "${key}" (known keys: ${known.join(', ')})` : `unknown key "${key}"`;
}

/**
 * A readable message for a schema issue (other than unrecognized_keys, which is reported key by key).
 * `present` says whether the input had a value at the issue's path, so missing keys are called that.
 */
export function describeSchemaIssue(issue: SchemaIssue, present: boolean): string {
  if (issue.code === 'invalid_type' && !present) return `missing required key (expected ${issue.expected})`;
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    const branches = issue.errors.map((errors) => (errors.length === 1 ? errors[0] : undefined));
    if (branches.every((branch) => branch?.code === 'invalid_type' && branch.path.length === 0)) {
      const expected = [
        ...new Set(branches.map((branch) => (branch?.code === 'invalid_type' ? branch.expected : ''))),
      ];
      const received = /received (\w+)/.exec(branches[0]?.message ?? '')?.[1];
      if (!present) return `missing required key (expected ${expected.join(' or ')})`;
      return `Invalid input: expected ${expected.join(' or ')}${received ? `, received ${received}` : ''}`;
    }
    const messages = [...new Set(issue.errors.flat().map((branch) => branch.message))];
    return `${issue.message}: ${messages.join('; or ')}`;
  }
  return issue.message;
}
