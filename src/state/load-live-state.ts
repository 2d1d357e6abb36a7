import type { DatabaseAdapter } from '../db/database-adapter.js';
import { inspectSchema, requireVantage6 } from '../db/inspect-schema.js';
import { hasHistory, listApplies, type ApplySummary } from '../history/apply-history.js';
import { freshState } from './fresh-state.js';
import type { LiveState } from './live-state.js';
import { readState } from './read-state.js';

export interface LoadedLiveState {
  readonly live: LiveState;
  /** The database is an empty SQLite file: apply creates the vantage6 schema first. */
  readonly initialize: boolean;
  /** The last apply fedctl recorded in the database (without its plan), read in the same snapshot. */
  readonly lastApply: ApplySummary | null;
}

/**
 * Read the live state and the last recorded apply in one snapshot, after
 * checking that the database is vantage6's (of any 4.x release). An empty SQLite database (the embedded
 * default before its first apply) reads as the state `fedctl init` would create.
 */
export async function loadLiveState(adapter: DatabaseAdapter): Promise<LoadedLiveState> {
  const status = await inspectSchema(adapter);
  if (status.kind === 'empty' && adapter.engine === 'sqlite') return absentLiveState();
  const schema = requireVantage6(status, adapter.target.display);
  return adapter.readSnapshot(async (db) => {
    const [live, last] = await Promise.all([readState(db, schema), hasHistory(schema.columns) ? listApplies(db, 1) : []]);
    return { live, initialize: false, lastApply: last[0] ?? null };
  });
}

/** For a database that does not exist yet: plan must not create it. */
export function absentLiveState(): LoadedLiveState {
  return { live: freshState(), initialize: true, lastApply: null };
}
