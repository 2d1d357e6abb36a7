import stringWidth from 'string-width';

/**
 * Rows as columns padded to their widest cell, by the width a terminal gives
 * them (CJK twice, emoji and combining marks as they show). The last column
 * is not padded.
 */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[], indent = ''): string[] {
  const all = [header, ...rows];
  // A loop, not Math.max(...cells): tables of every user of a large server exceed the arguments a call takes.
  const widths = header.map((_, i) => all.reduce((widest, row) => Math.max(widest, stringWidth(row[i] ?? '')), 0));
  return all.map((row) => indent + row.map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - stringWidth(cell)))).join('  ').trimEnd());
}
