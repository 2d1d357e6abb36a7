import type {
  Collaboration, DesiredUser, EntityKind, Node, Organization, Role, Study, User,
} from '../federation.js';
import type { Engine } from '../db/database-url.js';

/** Version of the plan's JSON form; bumped on any incompatible change. */
export const PLAN_FORMAT_VERSION = 1;

/** What each kind of entity looks like in the config (create) and after an update. */
export interface DesiredEntity {
  organization: Organization;
  collaboration: Collaboration;
  node: Node;
  study: Study;
  role: Role;
  user: DesiredUser;
}

/** What each kind of entity looks like in the database before an update. */
export interface CurrentEntity {
  organization: Organization;
  collaboration: Collaboration;
  node: Node;
  study: Study;
  role: Role;
  user: User;
}

export type ScalarValue = string | boolean | null;

/** One changed attribute: a scalar replaced, or members of a set added and removed. */
export type FieldChange =
  | { readonly field: string; readonly before: ScalarValue; readonly after: ScalarValue }
  | { readonly field: string; readonly added: readonly string[]; readonly removed: readonly string[] };

export type CreateChange = {
  [K in EntityKind]: { readonly action: 'create'; readonly kind: K; readonly address: string; readonly after: DesiredEntity[K] };
}[EntityKind];

export type UpdateChange = {
  [K in EntityKind]: {
    readonly action: 'update';
    readonly kind: K;
    readonly address: string;
    /** Row id of the entity being changed. */
    readonly id: number;
    readonly before: CurrentEntity[K];
    readonly after: DesiredEntity[K];
    readonly fields: readonly FieldChange[];
  };
}[EntityKind];

/**
 * One change to one entity, tagged by action and kind. Secrets are never in
 * a change: a new node's key and a generated password are made at apply
 * time; a password from the environment is named by its variable only.
 */
export type Change = CreateChange | UpdateChange;

export interface UnmanagedEntity {
  readonly kind: EntityKind;
  readonly address: string;
}

/**
 * What apply would do. Plain, readonly, JSON-serializable data: computing it
 * is pure, renderers only read it, and `JSON.parse(JSON.stringify(plan))`
 * equals it.
 */
export interface Plan {
  readonly formatVersion: typeof PLAN_FORMAT_VERSION;
  readonly database: {
    readonly engine: Engine;
    readonly display: string;
    /** The database does not exist or is empty: apply creates the vantage6 schema first. */
    readonly initialize: boolean;
  };
  /** In apply order: by kind (organization, collaboration, node, study, role, user), then by address. */
  readonly changes: readonly Change[];
  /** Entities in the database that the config does not mention; left alone. */
  readonly unmanaged: readonly UnmanagedEntity[];
  readonly summary: { readonly add: number; readonly change: number; readonly destroy: number };
}

export function planHasChanges(plan: Plan): boolean {
  return plan.changes.length > 0 || plan.database.initialize;
}
