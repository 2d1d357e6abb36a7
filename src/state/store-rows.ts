import { sortedUnique } from '../federation.js';
import type { LiveAlgorithmStore } from './live-state.js';

/** One link row as a server keeps it: a store's URL and one collaboration it serves (null: every one). */
export interface StoreRow {
  readonly id: number;
  readonly name: string | null;
  readonly url: string | null;
  /** The row serves every collaboration (it names none). */
  readonly every: boolean;
  /** The name of the collaboration it serves; null also for one fedctl cannot name (a collaboration without name). */
  readonly collaboration: string | null;
}

/**
 * A server's link rows as one store per URL, as the server itself treats
 * them (its API deletes every row of a URL at once): named after its oldest
 * row; serving every collaboration when any row says so.
 */
export function groupStoreRows(rows: readonly StoreRow[]): LiveAlgorithmStore[] {
  const byUrl = new Map<string, StoreRow[]>();
  for (const row of [...rows].sort((a, b) => a.id - b.id)) {
    if (row.url === null) continue;
    byUrl.set(row.url, [...(byUrl.get(row.url) ?? []), row]);
  }
  return [...byUrl].map(([url, group]) => {
    const first = group[0] as StoreRow;
    const every = group.some((row) => row.every);
    return {
      id: first.id,
      url,
      name: group.find((row) => row.name !== null)?.name ?? '',
      everyCollaboration: every,
      collaborations: every ? [] : sortedUnique(group.flatMap((row) => (row.collaboration === null ? [] : [row.collaboration]))),
      rows: group.map((row) => ({ id: row.id, collaboration: row.every ? null : row.collaboration })),
    };
  });
}
