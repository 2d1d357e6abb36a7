import type { Environment } from '../config/interpolate.js';
import type { ServerAddress } from '../federation.js';
import type { ApplySummary, Provenance } from '../history/apply-history.js';
import type { BackendKind, Plan } from '../plan/plan.js';
import type { LiveState } from '../state/live-state.js';
import type { MadeSecrets, SecretsStore } from '../secrets/secrets-store.js';

export type { BackendKind };

/** What a backend reads: the live state, and what its history says of the last apply. */
export interface LoadedLiveState {
  readonly live: LiveState;
  /** The database is an empty SQLite file: apply creates the vantage6 schema first. */
  readonly initialize: boolean;
  /** The last apply fedctl recorded in the database (without its plan), read in the same snapshot. */
  readonly lastApply: ApplySummary | null;
}

export interface ApplyOptions {
  /** Where the keys and passwords apply makes go, before the commit. */
  readonly secrets: SecretsStore;
  readonly bcryptCost: number;
  readonly lockTimeoutMs: number;
  /** Deletes are applied only when allowed (a guard for CI). */
  readonly allowDestroy: boolean;
  readonly env: Environment;
  readonly onHashProgress?: (done: number, total: number) => void;
  /** Aborted on Ctrl-C: apply stops before the commit, and nothing is changed. */
  readonly signal?: AbortSignal;
  /** The server as its algorithm stores reach it (the config's `server:`): a 4.x server tells a store it links; null: the server's own `server_url` setting. */
  readonly serverAddress: ServerAddress | null;
  /** Record the apply in the database's history, in its transaction; null when recording is off. */
  readonly record: { readonly provenance: Provenance; readonly configFingerprint: string } | null;
}

/**
 * The plan to apply, given the live state read under the lock: the reviewed
 * plan when nothing changed since; otherwise a fresh one, or an error when
 * a plan made for another state must not be applied.
 */
export type ResolvePlan = (live: LiveState) => Plan;

export interface ApplyResult {
  readonly plan: Plan;
  readonly initialized: boolean;
  /** What went to the secrets store; empty when the plan made no secret. */
  readonly secrets: MadeSecrets | null;
  /** The id of the history record, when the apply was recorded. */
  readonly recordId: number | null;
}

/**
 * What a backend can do, declared so that the commands and stages ask
 * instead of testing which backend they talk to (as Kysely's adapters
 * declare `supportsTransactionalDdl`).
 */
export interface BackendCapabilities {
  /** All of a plan in one transaction, or nothing; else ordered calls, each safe to repeat, stopping at the first failure. */
  readonly transactional: boolean;
  /** Who makes a node's key: fedctl (the database keeps its bcrypt hash), or the server (which returns it once). */
  readonly nodeKeys: 'fedctl' | 'server';
  /** Who hashes the keys and passwords stored: fedctl (at `--bcrypt-cost`), or the server (at its own cost). */
  readonly hashing: 'fedctl' | 'server';
  /** Whether applies are recorded where a plan reads them back (the database's history table). */
  readonly history: boolean;
  /** Whether `fedctl init` can create the vantage6 schema there. */
  readonly initialize: boolean;
  /** Where users' names, e-mail and state live: the server's own tables, or Keycloak (vantage6 5). */
  readonly identities: 'server' | 'keycloak';
}

export interface ReadOptions {
  readonly lockTimeoutMs: number;
  /** What tasks and runs refer to is needed only to guard deletes: a backend may skip reading it otherwise. */
  readonly forDeletes: boolean;
}

/**
 * One way to reach a vantage6 server: it reads the live state into the model
 * the planner diffs, and carries a plan's changes out. Everything else
 * (validation, the plan, the renderers, the secrets stage) is the same
 * whichever backend it is.
 */
export interface Backend {
  readonly kind: BackendKind;
  /** Where it is, safe to print: a database URL with the password masked, or the server's API URL. */
  readonly display: string;
  readonly capabilities: BackendCapabilities;
  /** The live state, read-only: nothing is written, not even an empty SQLite file. */
  read(options: ReadOptions): Promise<LoadedLiveState>;
  /** What a saved plan records of the state it was made from, and apply compares before it changes anything. */
  fingerprint(live: LiveState): string;
  /** Make the server match `plan` (re-checked against the live state by `resolve`); secrets go to `options.secrets` as they are made. */
  apply(plan: Plan, resolve: ResolvePlan, options: ApplyOptions): Promise<ApplyResult>;
}
