/** Readable output of the operator commands: tables for lists, `name: value` lines for one item. */

/** Columns padded to their widest cell, two spaces apart, no trailing blanks. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [headers, ...rows].map((row) => row.map((cell) => oneLine(cell)));
  const widths = headers.map((_, column) => Math.max(...all.map((row) => (row[column] ?? '').length)));
  return all
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
}

/** `name: value` lines, values aligned; undefined values are left out. */
export function formatFields(fields: readonly (readonly [string, string | undefined])[]): string {
  const present = fields.filter((field): field is readonly [string, string] => field[1] !== undefined);
  const width = Math.max(0, ...present.map(([name]) => name.length + 1));
  return present.map(([name, value]) => `${`${name}:`.padEnd(width)}  ${oneLine(value)}\n`).join('');
}

export function formatJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

export function yesNo(value: boolean): string {
  return value ? 'yes' : 'no';
}

/** An optional value as a cell: `-` when absent. */
export function orDash(value: string | number | undefined): string {
  return value === undefined || value === '' ? '-' : String(value);
}

export function formatLabels(labels: Record<string, string> | undefined): string {
  const entries = Object.entries(labels ?? {});
  return entries.length === 0 ? '-' : entries.map(([name, value]) => `${name}=${value}`).join(',');
}

/** Control characters (a name may hold anything the API accepts) would garble a terminal. */
function oneLine(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.charCodeAt(0);
    out += code < 0x20 || code === 0x7f ? `\\x${code.toString(16).padStart(2, '0')}` : char;
  }
  return out;
}
