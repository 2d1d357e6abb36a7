import type { RuleKey } from '../catalog/rule-catalog.js';
import type { ServerProfile } from '../catalog/server-profile.js';
import { mayRefuseDottedLogins, usesKeycloak, type SchemaFeatures, type VersionRange } from '../catalog/vantage6-versions.js';
import type { ValueTest } from './value-test.js';
import type { AlgorithmStore, Collaboration, EntityKind, IdentityProvider, Node, Organization, Role, StorePolicies, StoreRole, StoreUser, Study, User } from '../federation.js';

/**
 * The database as the same model the config produces, plus row ids. Plain
 * JSON-serializable data. Rows without an identity (a NULL name) are left
 * out: nothing can refer to them and fedctl never touches them.
 */
export interface LiveState {
  /** Which vantage6 releases the database's schema and catalogue fit, and the features fedctl uses there. */
  readonly server: {
    readonly versions: VersionRange;
    readonly features: SchemaFeatures;
    readonly unknown: UnknownParts;
    /** The exact release, where the server says it (its API's `/version`); else only `versions` is known. */
    readonly release?: string;
    /** Changes the backend cannot make (a database's required column, what an API does not offer), with the reason. */
    readonly limits: readonly ChangeLimit[];
    /** The rules fedctl's account may grant (a server grants only rules the account holds); null for any. */
    readonly grantable: readonly RuleKey[] | null;
    /** The server's own organization and administrator, and fedctl's account: never pruned, never exported. */
    readonly owned: ServerOwned;
  };
  /** The database's own rule catalogue: ids differ between databases, keys do not. */
  readonly rules: readonly { readonly id: number; readonly key: RuleKey }[];
  readonly organizations: readonly (Organization & { readonly id: number })[];
  readonly collaborations: readonly (Collaboration & { readonly id: number })[];
  readonly nodes: readonly LiveNode[];
  readonly studies: readonly (Study & { readonly id: number })[];
  readonly roles: readonly LiveRole[];
  /**
   * `awaitingInvitation`: an invited user (vantage6 5) whose invitation was
   * never sent (an apply stopped after HQ made them): they still have the
   * password nobody knows and have not set their own. `twoFactor` (read in
   * Keycloak, vantage6 5): the user has two-factor authentication, or must
   * configure it at their next login; absent where not read.
   * `holdsPassword` (read in Keycloak for users who sign in through an
   * identity provider): they still have a password of vantage6's.
   */
  readonly users: readonly (User & { readonly id: number; readonly awaitingInvitation?: true; readonly twoFactor?: boolean; readonly holdsPassword?: boolean })[];
  readonly algorithmStores: readonly LiveAlgorithmStore[];
  /** The roles and users of the stores whose users or roles the config manages (read with fedctl's store account); none otherwise. */
  readonly storeRoles: readonly LiveStoreRole[];
  readonly storeUsers: readonly LiveStoreUser[];
  /** The policies of the stores whose policies the config names, as the stores say them. */
  readonly storePolicies: readonly LiveStorePolicies[];
  /** vantage6 5: the identity providers of HQ's Keycloak (`id` their place in Keycloak's list); absent where not read. */
  readonly identityProviders?: readonly (IdentityProvider & { readonly id: number })[];
  /** Entities that tasks, runs or algorithm stores refer to: deleting them would orphan that data. */
  readonly inUse: readonly { readonly kind: EntityKind; readonly id: number }[];
}

/** What the database has that no vantage6 release fedctl knows has: a newer release's, or a hand's. */
export interface UnknownParts {
  readonly tables: readonly string[];
  /** `table.column`. */
  readonly columns: readonly string[];
  readonly rules: readonly RuleKey[];
}

export const NOTHING_UNKNOWN: UnknownParts = { tables: [], columns: [], rules: [] };

/**
 * What fedctl never prunes: what a server makes at its first start (an
 * organization and its administrator; null: none found), and the account
 * fedctl acts as through the API (null in a database).
 */
export interface ServerOwned {
  readonly organization: string;
  readonly user: string | null;
  readonly account: string | null;
}

/** A 4.x server's first start makes organization root and user root. */
export const ROOT_OWNED: ServerOwned = { organization: 'root', user: 'root', account: null };

/**
 * Changes of a kind that the backend cannot make, in the plan's terms:
 * creating, deleting, adding links (members, rules, roles) or changing a
 * field; only of one entity (`address`), or only of entities that lack a
 * field (`lacking`, e.g. a user without e-mail).
 */
export interface ChangeLimit {
  readonly kind: EntityKind;
  /** `shrink`: an update that takes more members out of a set than it puts in (a store's collaborations). */
  readonly change: 'create' | 'delete' | 'link' | 'shrink' | { readonly field: string };
  readonly address?: string;
  readonly lacking?: string;
  /** Not entities that have this field (a user who signs in through an identity provider needs no password from the config). */
  readonly unlessWith?: string;
  /** Only changes that give a user a role of another organization than the user's. */
  readonly foreignRoles?: true;
  /** Only entities whose `field` fails one of `tests`, as the component checks it (a name too long, a character Keycloak refuses); its value is named in the reason. */
  readonly refusedValue?: { readonly field: string; readonly tests: readonly ValueTest[] };
  readonly reason: string;
}

/**
 * A store's policies as fedctl could read them: all of them, or only those
 * it shows anyone (`onlyPublic`: a 4.x store the server is not linked to
 * yet refuses fedctl's account the rest).
 */
export interface LiveStorePolicies extends StorePolicies {
  readonly onlyPublic?: true;
}

/** A node row; its organization or collaboration can be missing in a hand-edited database. */
export interface LiveNode extends Omit<Node, 'organization' | 'collaboration'> {
  readonly id: number;
  readonly organization: string | null;
  readonly collaboration: string | null;
}

/**
 * A store as the server keeps it: one row per collaboration it serves (one
 * without collaboration for every one), told apart by URL; `id` is the
 * oldest row's.
 */
export interface LiveAlgorithmStore extends AlgorithmStore {
  readonly id: number;
  /** Every row, oldest first: a link to several collaborations is several rows. */
  readonly rows: readonly { readonly id: number; readonly collaboration: string | null }[];
}

/** A store's user; fedctl's own account there is never pruned. */
export interface LiveStoreUser extends StoreUser {
  readonly id: number;
  readonly account?: true;
}

/** A store's role; a built-in one is only referenced, never changed. */
export interface LiveStoreRole extends StoreRole {
  readonly id: number;
  readonly isDefault: boolean;
}

export interface LiveRole extends Role {
  readonly id: number;
  /** A built-in role: referenced, never changed. */
  readonly isDefault: boolean;
}

export type LiveUser = LiveState['users'][number];
export type LiveOrganization = LiveState['organizations'][number];
export type LiveCollaboration = LiveState['collaborations'][number];
export type LiveStudy = LiveState['studies'][number];

/** What the database offers a config: its own catalogue, and studies where it has them. */
export function liveProfile(live: LiveState): ServerProfile {
  return {
    versions: live.server.versions,
    rules: live.rules.map((rule) => rule.key),
    studies: live.server.features.studies,
    algorithmStores: live.server.features.algorithmStores,
    // A database does not tell which patch of a release made it.
    refusesDottedLogins: mayRefuseDottedLogins(live.server.versions, null),
    keycloak: usesKeycloak(live.server.versions.to),
  };
}
