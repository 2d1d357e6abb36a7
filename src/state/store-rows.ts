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

/** What becomes of a store's rows when it is to serve `wanted` (collaboration names; null: every one). */
export interface StoreRowChanges {
  /** Rows that go to another collaboration, in place of one that goes. */
  readonly moves: readonly { readonly id: number; readonly to: string | null }[];
  /** Collaborations that get a row of their own. */
  readonly adds: readonly (string | null)[];
  /** Rows left over: more collaborations go than come. */
  readonly removes: readonly number[];
}

/**
 * A store's rows matched to the collaborations it is to serve, as the
 * server's own calls leave them: a row kept where its collaboration stays,
 * moved where one goes and another comes, the others added or removed.
 */
export function storeRowChanges(rows: LiveAlgorithmStore['rows'], wanted: readonly (string | null)[]): StoreRowChanges {
  const adds = wanted.filter((collaboration) => !rows.some((row) => row.collaboration === collaboration));
  const surplus = rows.filter((row) => !wanted.includes(row.collaboration));
  return {
    moves: surplus.slice(0, adds.length).map((row, i) => ({ id: row.id, to: adds[i] ?? null })),
    adds: adds.slice(surplus.length),
    removes: surplus.slice(adds.length).map((row) => row.id),
  };
}
