import { closest, distance } from 'fastest-levenshtein';

/** A did-you-mean hint for a misspelt name, or undefined when nothing is close. */
export function didYouMean(input: string, candidates: Iterable<string>): string | undefined {
  const list = [...candidates];
  if (list.length === 0) return undefined;
  const best = closest(input, list);
  const limit = Math.max(2, Math.floor(best.length / 3));
  if (distance(input.toLowerCase(), best.toLowerCase()) > limit) return undefined;
  return `did you mean ${JSON.stringify(best)}?`;
}
