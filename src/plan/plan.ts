import { FedctlError } from '../errors.js';
import { isServerKind, type KeycloakKind, type ServerKind, type StoreKind } from '../federation.js';
import type {
  AlgorithmStore, Collaboration, DesiredUser, EntityKind, IdentityProvider, Node, Organization, Role, StorePolicyValue, StoreRole, StoreUser, Study, User,
} from '../federation.js';

/** How fedctl reaches a server: its database (PostgreSQL or SQLite), or its REST API. */
export type BackendKind = 'postgres' | 'sqlite' | 'api';

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
  algorithm_store: AlgorithmStore;
  identity_provider: IdentityProvider;
  store_role: StoreRole;
  store_user: StoreUser;
}

/** What each kind of entity looks like in the database before an update. */
export interface CurrentEntity {
  organization: Organization;
  collaboration: Collaboration;
  node: Node;
  study: Study;
  role: Role;
  user: User;
  algorithm_store: AlgorithmStore;
  identity_provider: IdentityProvider;
  store_role: StoreRole;
  store_user: StoreUser;
}

export type ScalarValue = string | boolean | null;

/**
 * One changed attribute: a scalar replaced (a rename is a change of `name` or
 * `username`), members of a set added and removed, or a secret replaced on
 * request (a node's API key rotated, a user's password reset).
 */
export type FieldChange =
  | { readonly field: string; readonly before: ScalarValue; readonly after: ScalarValue }
  | { readonly field: string; readonly added: readonly string[]; readonly removed: readonly string[] }
  | { readonly field: 'api_key' | 'password'; readonly secret: 'rotate' | 'reset' }
  /** A user who signs in through an identity provider: the vantage6 password they had is removed. */
  | { readonly field: 'password'; readonly secret: 'remove' }
  /** An invited user's invitation: owed since an apply stopped before sending it, or sent anew on request (their password removed). */
  | { readonly field: 'invitation'; readonly secret: 'send' | 'resend' };

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

export type DeleteChange = {
  [K in EntityKind]: {
    readonly action: 'delete';
    readonly kind: K;
    readonly address: string;
    readonly id: number;
    readonly before: CurrentEntity[K];
  };
}[EntityKind];

/**
 * One change to one entity, tagged by action and kind. Secrets are never in
 * a change: a new node's key and a generated password are made at apply
 * time; a password from the environment is named by its variable only.
 */
export type Change = CreateChange | UpdateChange | DeleteChange;

/** A change a server backend makes; the others go to Keycloak (`KeycloakKind`) and the stores (`StoreKind`), after the server's. */
export type ServerChange = Extract<Change, { kind: ServerKind }>;
export type KeycloakChange = Extract<Change, { kind: KeycloakKind }>;
export type StoreChange = Extract<Change, { kind: StoreKind }>;

export function isServerChange(change: Change): change is ServerChange {
  return isServerKind(change.kind);
}

/** One permission gained or lost: resource, operation and scope as the config spells them, and on what. */
export interface AccessItem {
  readonly resource: string;
  readonly operation: string;
  readonly scope: string;
  /** `everything`; `collaboration "X"` and `organization "Y"` (what collaboration or organization scope reaches); `their own`; `store "Z"` (scope `store`). */
  readonly on: readonly string[];
}

/** Users whose access a plan changes the same way, for the same reasons. */
export interface AccessChangeGroup {
  readonly users: readonly string[];
  /** How many organizations those users belong to. */
  readonly organizations: number;
  readonly gains: readonly AccessItem[];
  readonly losses: readonly AccessItem[];
  /** The plan's changes that cause it: a role's rules, a collaboration's members, a user's roles, rules or organization. */
  readonly causes: readonly string[];
  /** It gives global scope, or management of others' users, roles or organizations: a reviewer should look twice. */
  readonly notable: boolean;
}

/** What a plan changes about who can do what; absent from a plan that changes nobody's access. */
export interface AccessChanges {
  /** Users whose access changes. */
  readonly users: number;
  /** Notable groups first, then the largest. */
  readonly groups: readonly AccessChangeGroup[];
  /** Groups left out of a plan's JSON (the smallest), unless --show-access. */
  readonly unlistedGroups?: number;
}

/**
 * Who can do what on another server (the one a federation moves from, read
 * by `--compare-with`) against this one once the plan is applied, each
 * difference with its causes; `users` 0 and no groups when nobody's differs.
 */
export interface AccessAcross extends AccessChanges {
  /** The other server, as fedctl reached it (a database URL with the password masked, or an API URL). */
  readonly server: string;
  /** Its vantage6 release(s). */
  readonly vantage6: string;
}

/** How many groups of access changes a plan's JSON and saved plans list without --show-access. */
const LISTED_GROUPS = 100;

/**
 * The plan as its JSON gives it: the access changes of a first plan of a
 * large federation (every user created, each group with every place) would
 * run to hundreds of megabytes, so only the first groups are listed unless
 * `all`; `users` still counts everyone.
 */
export function planForOutput(plan: Plan, all: boolean): Plan {
  const cut = <T extends AccessChanges>(access: T | undefined): T | undefined =>
    (all || access === undefined || access.groups.length <= LISTED_GROUPS ? access
      : { ...access, groups: access.groups.slice(0, LISTED_GROUPS), unlistedGroups: access.groups.length - LISTED_GROUPS });
  const access = cut(plan.access);
  const across = cut(plan.accessAcross);
  if (access === plan.access && across === plan.accessAcross) return plan;
  return { ...plan, ...(access === undefined ? {} : { access }), ...(across === undefined ? {} : { accessAcross: across }) };
}

/** A store policy whose live value is not the config's: fedctl cannot set it, the store's operator deploys it (`fedctl store-policies`). */
export interface PolicyDrift {
  readonly store: string;
  readonly policy: string;
  /** Null when the store does not say it. */
  readonly live: StorePolicyValue | null;
  readonly config: StorePolicyValue;
}

/** Users a plan would leave breaking one of the config's guardrails, in the same way, for the same reasons. */
export interface GuardrailViolation {
  readonly guardrail: string;
  readonly users: readonly string[];
  /** What breaks it: `would hold user: create (global) through role "X"`, or `6 users would hold task: delete (any scope); at most 5 may`. */
  readonly breach: string;
  /** The plan's changes that cause it. */
  readonly causes: readonly string[];
}

/**
 * A change the plan needs but that must not or cannot be made: a delete that
 * pruning asks for but that would orphan data, or a write the database would
 * refuse. It makes the plan unappliable.
 */
export interface BlockedChange {
  readonly action: Change['action'];
  readonly kind: EntityKind;
  readonly address: string;
  readonly reason: string;
}

export interface UnmanagedEntity {
  readonly kind: EntityKind;
  readonly address: string;
  /** Owned by the server (its root organization and administrator): never pruned. */
  readonly serverOwned?: true;
  /** The account fedctl acts as through the server's API: never pruned. */
  readonly account?: true;
}

/** What a plan says about fedctl's history of applies to the database. */
export interface PlanHistory {
  /** False where fedctl keeps no history (a server reached through its API): an apply there is never recorded. */
  readonly kept?: false;
  /** Whether apply records itself (`history: false` or `--no-history` turn it off). */
  readonly recording: boolean;
  /** The last apply recorded in the database, if any. */
  readonly lastApply: {
    readonly id: number;
    readonly appliedAt: string;
    readonly commit: string | null;
    readonly author: string | null;
    readonly branch: string | null;
    readonly summary: string;
  } | null;
  /** The database's state is not the one the last apply left: something changed it outside fedctl since. */
  readonly changedOutsideFedctl: boolean;
}

/** What a 4.x config was adapted in, to be planned for vantage6 5: each adaptation at the config's line. */
export interface AdaptedFrom {
  /** The 4.x release the config is for. */
  readonly vantage6: string;
  readonly adaptations: readonly {
    /** What it was made to, as the plan names entities (`user "anna"`). */
    readonly entity: string;
    /** `file:line` of the config's item, or null where the config has none (a role made by the adaptation). */
    readonly at: string | null;
    readonly note: string;
  }[];
}

/**
 * What apply would do. Plain, readonly, JSON-serializable data: computing it
 * is pure, renderers only read it, and `JSON.parse(JSON.stringify(plan))`
 * equals it.
 */
export interface Plan {
  readonly formatVersion: typeof PLAN_FORMAT_VERSION;
  readonly database: {
    /** How fedctl reaches the server: its database (`postgres`, `sqlite`) or its REST API (`api`, `display` its URL). */
    readonly engine: BackendKind;
    readonly display: string;
    /** The database does not exist or is empty: apply creates the vantage6 schema first. */
    readonly initialize: boolean;
    /** The vantage6 releases the database's schema and rule catalogue fit, e.g. `4.10 to 4.12`. */
    readonly vantage6: string;
    /** What the database has that no vantage6 release fedctl knows has (tables, columns, rules); absent when nothing. */
    readonly unknown?: readonly string[];
  };
  /**
   * Creates and updates by kind (organization, collaboration, node, study,
   * role, user), then deletes in the reverse order; by address within a kind.
   */
  readonly changes: readonly Change[];
  /** Entities in the database that the config does not mention and that are not pruned; left alone. */
  readonly unmanaged: readonly UnmanagedEntity[];
  /** Changes refused (deletes because of runtime data or dependants, writes the database would refuse); apply refuses a plan that has any. */
  readonly blocked: readonly BlockedChange[];
  readonly summary: { readonly add: number; readonly change: number; readonly destroy: number };
  /** Store policies the live stores do not have as the config says; absent when there are none. */
  readonly policyDrift?: readonly PolicyDrift[];
  /** The history of applies as the database records it; set when the plan was made against a database. */
  readonly history?: PlanHistory;
  /**
   * Nodes whose keys a server made (through its API) while no apply recorded
   * them: an apply was killed between the two. `--rotate-node-key` gives each a
   * new, recorded key.
   */
  readonly unrecordedKeys?: readonly string[];
  /** Nodes whose files carry other policies (their own, their collaboration's stores) than the config gives them now: `--rotate-node-key` writes them anew. Absent when none. */
  readonly staleNodeFiles?: readonly string[];
  /** Stores this plan unlinks that then delete their users of the server with their store roles (4.x stores). Absent when none. */
  readonly storesDeletingUsers?: readonly string[];
  /** Who gains and loses which power where, and which changes cause it; absent when the plan changes nobody's access. */
  readonly access?: AccessChanges;
  /** Each user's access on the server a federation moves from against this one after the plan (`--compare-with`); absent when not asked. */
  readonly accessAcross?: AccessAcross;
  /** A 4.x config planned for vantage6 5 (`--for 5.0`): what was adapted so that vantage6 5 holds it; absent otherwise. */
  readonly adaptedFrom?: AdaptedFrom;
  /** The config's guardrails the plan would break; a plan with any is refused. Absent when it breaks none. */
  readonly violations?: readonly GuardrailViolation[];
}

/** Why a plan must not be applied, one message each; empty when it can be. */
export function planRefusals(plan: Plan, allowDestroy: boolean): string[] {
  const refusals: string[] = [];
  if (plan.blocked.length > 0) {
    refusals.push(`the plan has ${plan.blocked.length} change(s) that cannot be made, each listed under "Refused" with its reason; `
      + 'change the config (or turn pruning off for that kind) so that it needs none of them');
  }
  const broken = [...new Set((plan.violations ?? []).map((v) => JSON.stringify(v.guardrail)))];
  if (broken.length > 0) {
    refusals.push(`the plan breaks guardrail${broken.length === 1 ? '' : 's'} ${broken.join(', ')} of the config's policy, each listed under "Guardrails" with the change that breaks it; `
      + 'change the config so that it breaks none');
  }
  if (plan.summary.destroy > 0 && !allowDestroy) refusals.push(`the plan deletes ${plan.summary.destroy} object(s); review the deletes and pass --allow-destroy`);
  return refusals;
}

/** Refuse a plan that must not be applied, whoever made it (each backend calls this before it changes anything). */
export function assertApplicable(plan: Plan, allowDestroy: boolean): void {
  const refusals = planRefusals(plan, allowDestroy);
  if (refusals.length > 0) throw new FedctlError('APPLY_ABORTED', refusals.join('; '), 'nothing was changed');
}

export function planHasChanges(plan: Plan): boolean {
  return plan.changes.length > 0 || plan.database.initialize;
}
