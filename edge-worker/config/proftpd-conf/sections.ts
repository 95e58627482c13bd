/** Sections ftpx reads (walk.ts). */
export const SUPPORTED_SECTIONS = [
  'IfModule',
  'Global',
  'VirtualHost',
  'Limit',
  'Class',
  'IfClass',
  'IfUser',
  'IfGroup',
] as const;

/** ProFTPD sections ftpx does not read; an error, since skipping them could drop access rules. */
export const UNSUPPORTED_SECTIONS = [
  'Anonymous',
  'Directory',
  'IfDefine',
  'IfAuthenticated',
  'IfVersion',
] as const;

export function canonicalSectionName(name: string): string | undefined {
  const lower = name.toLowerCase();
  return [...SUPPORTED_SECTIONS, ...UNSUPPORTED_SECTIONS].find((known) => known.toLowerCase() === lower);
}
