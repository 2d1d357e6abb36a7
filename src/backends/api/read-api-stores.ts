import { groupStoreRows, type StoreRow } from '../../state/store-rows.js';
import type { LiveAlgorithmStore } from '../../state/live-state.js';
import type { Vantage6Api } from './vantage6-api.js';

/** A link row as the API lists it: `collaborations` is a link for a row of one collaboration, null for one of every collaboration. */
interface ApiStoreRow {
  readonly id: number;
  readonly name: string | null;
  readonly url: string | null;
  /** vantage6 5 keeps the API's path apart (`/api`); 4.x has it in `url`. */
  readonly api_path?: string | null;
  readonly collaborations: string | null;
}

/** The store's API URL as fedctl identifies it: HQ's URL and path joined, without trailing slash. */
function storeUrl(row: ApiStoreRow): string | null {
  return row.url === null ? null : `${row.url}${row.api_path ?? ''}`.replace(/\/+$/, '');
}

/**
 * The server's store links through its API. The listing does not say which
 * collaboration a row serves, and `GET /collaboration?algorithm_store_id=`
 * lists every collaboration with a link to some store, whichever store is
 * asked about (4.15 and 5.0 alike): that list, asked once, names the
 * collaborations to ask `GET /algorithmstore?collaboration_id=` about, the
 * rows of each telling which rows serve it. Collaborations it left out are
 * asked only while some row is still unplaced (a release whose filter works).
 */
export async function readApiStores(api: Vantage6Api, collaborations: readonly { id: number; name: string | null }[]): Promise<LiveAlgorithmStore[]> {
  const rows = await api.list<ApiStoreRow>('algorithmstore');
  const perCollaboration = rows.filter((row) => row.collaborations !== null);
  const placed = new Map<number, number>();
  const ask = async (ids: readonly number[]): Promise<void> => {
    const answers = await Promise.all(ids.map(async (collaboration) => ({ collaboration, rows: await api.list<ApiStoreRow>('algorithmstore', { collaboration_id: collaboration }) })));
    for (const answer of answers) for (const row of answer.rows) if (row.collaborations !== null) placed.set(row.id, answer.collaboration);
  };
  if (perCollaboration.length > 0) {
    const first = perCollaboration[0] as ApiStoreRow;
    const candidates = (await api.list<{ id: number }>('collaboration', { algorithm_store_id: first.id })).map((c) => c.id);
    await ask(candidates);
    if (perCollaboration.some((row) => !placed.has(row.id))) await ask(collaborations.map((c) => c.id).filter((id) => !candidates.includes(id)));
  }
  const names = new Map(collaborations.map((c) => [c.id, c.name]));
  return groupStoreRows(rows.map((row): StoreRow => {
    const collaboration = row.collaborations === null ? null : placed.get(row.id) ?? null;
    return { id: row.id, name: row.name, url: storeUrl(row), every: row.collaborations === null, collaboration: collaboration === null ? null : names.get(collaboration) ?? null };
  }));
}
