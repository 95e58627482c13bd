/** Sections ftpx reads (walk.ts). */
export const SUPPORTED_SECTIONS = ['IfModule', 'Global', 'VirtualHost', 'Limit', 'Class'] as const;

/** ProFTPD sections ftpx does not read; an error, since skipping them could drop access rules. */
export const UNSUPPORTED_SECTIONS = [
  'Anonymous',
  'Directory',
  'IfDefine',
  'IfClass',
  'IfUser',
  'IfGroup',
  'IfAuthenticated',
  'IfVersion',
] as const;

export function canonicalSectionName(name: string): string | undefined {
  const lower = name.toLowerCase();
  return [...SUPPORTED_SECTIONS, ...UNSUPPORTED_SECTIONS].find((known) => known.toLowerCase() === lower);
}
