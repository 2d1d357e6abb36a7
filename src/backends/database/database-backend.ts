import type { DatabaseTarget } from '../../db/database-url.js';
import { checkDriver, databaseIsAbsent, openDatabase } from '../../db/open-database.js';
import { fingerprintState } from '../../plan/fingerprint.js';
import type { Plan } from '../../plan/plan.js';
import type { LiveState } from '../../state/live-state.js';
import type { ApplyOptions, ApplyResult, Backend, BackendCapabilities, LoadedLiveState, ReadOptions, ResolvePlan } from '../backend.js';
import { applyToDatabase } from './apply-to-database.js';
import { absentLiveState, loadLiveState } from './read-database-state.js';

const CAPABILITIES: BackendCapabilities = { transactional: true, nodeKeys: 'fedctl', hashing: 'fedctl', history: true, initialize: true, identities: 'server' };

/** The server's database, PostgreSQL or SQLite: read in one snapshot, written in one transaction. */
export class DatabaseBackend implements Backend {
  readonly capabilities = CAPABILITIES;

  constructor(readonly target: DatabaseTarget) {}

  get kind(): DatabaseTarget['engine'] {
    return this.target.engine;
  }

  get display(): string {
    return this.target.display;
  }

  /** A missing SQLite file reads as a fresh database: plan never creates one (but its driver must load, for apply to). */
  async read({ lockTimeoutMs }: ReadOptions): Promise<LoadedLiveState> {
    if (databaseIsAbsent(this.target)) {
      await checkDriver(this.target);
      return absentLiveState();
    }
    const adapter = await openDatabase(this.target, { readonly: true, lockTimeoutMs });
    try {
      return await loadLiveState(adapter);
    } finally {
      await adapter.close();
    }
  }

  /** Everything read, what tasks and runs refer to included: the transaction holds it still, so deletes are judged on it. */
  fingerprint(live: LiveState): string {
    return fingerprintState(live);
  }

  async apply(plan: Plan, resolve: ResolvePlan, options: ApplyOptions): Promise<ApplyResult> {
    const adapter = await openDatabase(this.target, { readonly: false, lockTimeoutMs: options.lockTimeoutMs });
    try {
      return await applyToDatabase(adapter, plan, resolve, options);
    } finally {
      await adapter.close();
    }
  }
}
