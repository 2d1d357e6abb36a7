import { NO_PRUNING, type EntityKind, type PruneSettings } from '../federation.js';

/** An entity named on the command line (`--target user/anna`): its kind and name. */
export interface EntitySelector {
  readonly kind: EntityKind;
  readonly name: string;
}

/** What a plan is asked to do beyond reconciling the config; none of it comes from the config file. */
export interface PlanOptions {
  /** Kinds whose unmanaged objects are deleted (the config's `prune:` merged with --prune). */
  readonly prune: PruneSettings;
  /** Nodes whose API key is replaced: by node name, or `organization/collaboration`. */
  readonly rotateNodeKeys: readonly string[];
  /** Users whose password is set anew from the config (or generated). */
  readonly resetPasswords: readonly string[];
  /** Limit the plan to these entities and what they need; null for everything. */
  readonly targets: readonly EntitySelector[] | null;
}

export const DEFAULT_PLAN_OPTIONS: PlanOptions = { prune: NO_PRUNING, rotateNodeKeys: [], resetPasswords: [], targets: null };
