import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/** Small readers and writers for the raw attribute maps the low-level SDK client speaks. */
export type Item = Record<string, AttributeValue>;

export const s = (value: string): AttributeValue => ({ S: value });
export const n = (value: number): AttributeValue => ({ N: String(value) });

export function readString(item: Item | undefined, name: string): string | undefined {
  const value = item?.[name];
  return value && 'S' in value ? value.S : undefined;
}

export function readNumber(item: Item | undefined, name: string): number | undefined {
  const value = item?.[name];
  if (!value || !('N' in value) || value.N === undefined) return undefined;
  const number = Number(value.N);
  return Number.isFinite(number) ? number : undefined;
}

export function readStringSet(item: Item | undefined, name: string): string[] | undefined {
  const value = item?.[name];
  return value && 'SS' in value ? value.SS : undefined;
}

export function keyOf(key: { pk: string; sk: string }): Item {
  return { pk: s(key.pk), sk: s(key.sk) };
}
