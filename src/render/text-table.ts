import stringWidth from 'string-width';

/**
 * Rows as columns padded to their widest cell, by the width a terminal gives
 * them (CJK twice, emoji and combining marks as they show). The last column
 * is not padded.
 */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[], indent = ''): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((row) => stringWidth(row[i] ?? ''))));
  return all.map((row) => indent + row.map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - stringWidth(cell)))).join('  ').trimEnd());
}
