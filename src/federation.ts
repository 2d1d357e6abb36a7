import type { Operation, RuleKey, Scope } from './catalog/rule-catalog.js';
import type { StoreRuleKey } from './catalog/store-catalog.js';

/**
 * The domain model both the config and the database are turned into, so that
 * diffing compares like with like. Everything refers to other entities by
 * identity (names), never by database id. Lists that are sets are kept sorted
 * and without duplicates.
 */

export interface Organization {
  readonly name: string;
  readonly domain: string | null;
  readonly address1: string | null;
  readonly address2: string | null;
  readonly zipcode: string | null;
  readonly country: string | null;
}

export interface Collaboration {
  readonly name: string;
  readonly encrypted: boolean;
  /** Names of member organizations, sorted. */
  readonly members: readonly string[];
}

/** A node is identified by its (organization, collaboration); its name is an attribute. */
export interface Node {
  readonly organization: string;
  readonly collaboration: string;
  readonly name: string;
}

export interface Study {
  readonly name: string;
  readonly collaboration: string;
  /** Names of the organizations in the study, sorted. */
  readonly organizations: readonly string[];
}

/** A role's identity: its name and owning organization (null for none, as the built-in roles). */
export interface RoleRef {
  readonly name: string;
  readonly organization: string | null;
}

export interface Role extends RoleRef {
  readonly description: string | null;
  /** Rules, sorted. */
  readonly rules: readonly RuleKey[];
}

/**
 * Where a new user's initial password comes from; never the password
 * itself. `invite` (vantage6 5): none that anyone knows; Keycloak e-mails
 * the user a link to set their own.
 */
export type PasswordSource =
  | { readonly from: 'env'; readonly variable: string }
  | { readonly from: 'generate' }
  | { readonly from: 'invite' }
  | null;

export interface User {
  readonly username: string;
  /** Null only in a database, where the column is nullable. */
  readonly organization: string | null;
  /**
   * On vantage6 5 these three live in Keycloak, and null in the config
   * leaves them to the user (who fills them in at the first login).
   */
  readonly firstname: string | null;
  readonly lastname: string | null;
  readonly email: string | null;
  /** False: the user is kept with their history but cannot log in or do anything (vantage6 5: disabled in Keycloak). */
  readonly enabled: boolean;
  /** vantage6 5: the identity at a provider the user signs in with (a link in Keycloak); absent: none, or not read. */
  readonly signIn?: SignIn;
  /** Roles, sorted by `roleRefKey`. */
  readonly roles: readonly RoleRef[];
  /** Extra rules, sorted. */
  readonly rules: readonly RuleKey[];
}

/**
 * A user's identity at an identity provider (vantage6 5): Keycloak links it
 * to their account, so that signing in there lands in that account, and
 * only there. Keycloak finds the link by the subject alone.
 */
export interface SignIn {
  /** The provider's alias. */
  readonly provider: string;
  /** Who they are there: OpenID Connect's `sub` claim, SAML's NameID. */
  readonly subject: string;
}

/** How a plan and the access review show a sign-in. */
export function signInLabel(signIn: SignIn | undefined): string | null {
  return signIn === undefined ? null : `${signIn.provider}: ${signIn.subject}`;
}

export type IdentityProviderType = 'oidc' | 'saml';

/** The fields of a user a provider can fill in at every sign-in. */
export const FILLABLE_FIELDS = ['firstname', 'lastname', 'email'] as const;
export type FillableField = (typeof FILLABLE_FIELDS)[number];

/** Where a provider's claims or attributes are read from, unless the config says: OpenID Connect's standard claims, SAML's standard attributes (eduPerson, SURFconext). */
export const DEFAULT_CLAIMS: Readonly<Record<IdentityProviderType, Readonly<Record<FillableField, string>>>> = {
  oidc: { firstname: 'given_name', lastname: 'family_name', email: 'email' },
  saml: { firstname: 'urn:oid:2.5.4.42', lastname: 'urn:oid:2.5.4.4', email: 'urn:oid:0.9.2342.19200300.100.1.3' },
};

/** The field of a provider's `field=claim`. */
export const filledField = (fill: string): string => fill.slice(0, fill.indexOf('='));

/**
 * Where people sign in for vantage6 5 (an institution's OpenID Connect or
 * SAML provider), brokered by HQ's Keycloak. Nobody it knows gets in unless
 * the config links them to a user: fedctl holds every provider it keeps to
 * a first login that denies.
 */
export interface IdentityProvider {
  /** Keycloak's alias: in its URLs and on the login page's button unless `displayName`. */
  readonly alias: string;
  readonly type: IdentityProviderType;
  readonly displayName: string | null;
  /** OpenID Connect: its discovery document's URL; SAML: its metadata's. Endpoints and keys are read from there. */
  readonly metadata: string;
  /** OpenID Connect: vantage6's client at the provider; null for SAML. */
  readonly clientId: string | null;
  /**
   * OpenID Connect: the client's secret as the config names it (`${VAR}`),
   * never the secret; live: that reference when Keycloak holds the secret it
   * names, else `(another secret)`. Null: none (SAML).
   */
  readonly clientSecret: string | null;
  /** Names of the organizations whose users may sign in through it, sorted. */
  readonly organizations: readonly string[];
  /** Users of its organizations sign in through a provider, never with a password of vantage6's. */
  readonly required: boolean;
  /** Shown as a button on vantage6's login page (else reached only by a link that names it). */
  readonly onLoginPage: boolean;
  /**
   * What it fills in of its users at every sign-in, as `field=claim` (the
   * OpenID Connect claim or SAML attribute it is read from), sorted: those
   * fields are the provider's, not the config's.
   */
  readonly fills: readonly string[];
  readonly enabled: boolean;
  /**
   * What Keycloak keeps otherwise than the provider's metadata and fedctl's
   * safeguards say, as `setting=value`, sorted; none in the config (an apply
   * sets them all anew).
   */
  readonly drift: readonly string[];
}

/** What a new vantage6 5 user must do at their first login, as Keycloak's required actions (`verify_email` is VERIFY_EMAIL). */
export const REQUIRED_ACTIONS = ['update_password', 'verify_email', 'configure_totp', 'update_profile'] as const;
export type RequiredAction = (typeof REQUIRED_ACTIONS)[number];

export interface DesiredUser extends User {
  readonly password: PasswordSource;
  /** Set when the user is made (vantage6 5); absent: none beyond what HQ sets (a new password). `configure_totp` is kept for a user made already. */
  readonly requiredActions?: readonly RequiredAction[];
}

/**
 * What of a config's users says what fedctl keeps of them in Keycloak
 * (vantage6 5); a saved plan carries it. `password` only when it is an
 * invitation, whether it was sent being Keycloak's to tell.
 */
export type KeptUser = Pick<DesiredUser, 'username' | 'firstname' | 'lastname' | 'email' | 'enabled' | 'requiredActions' | 'signIn'> & Partial<Pick<DesiredUser, 'password'>>;

/**
 * The link of a server to an algorithm store: which collaborations may run
 * the store's algorithms. A store is identified by its API's URL, which the
 * server never changes (its API cannot: a store elsewhere is another store).
 */
export interface AlgorithmStore {
  /** The store's API, as the server reaches it: `https://store.example.org/api`, without trailing slash. */
  readonly url: string;
  readonly name: string;
  /** The store serves every collaboration, those made later too; `collaborations` is then empty. */
  readonly everyCollaboration: boolean;
  /** Names of the collaborations it serves, sorted. */
  readonly collaborations: readonly string[];
}

/** A role of an algorithm store: who may review, approve, publish or manage there is who holds which store roles. */
export interface StoreRole {
  /** The store's URL (its `AlgorithmStore.url`). */
  readonly store: string;
  readonly name: string;
  readonly description: string | null;
  /** Store rules, `resource:operation` (a store's rules have no scope), sorted. */
  readonly rules: readonly StoreRuleKey[];
}

/** A user of the server as a store knows them: the store roles they hold there. */
export interface StoreUser {
  readonly store: string;
  readonly username: string;
  /** Names of store roles (built-in or the store's own), sorted. */
  readonly roles: readonly string[];
}

/** Which stores' own users, roles and policies the config manages: those whose entry lists `users:`, `roles:` or `policies:`. */
export interface ManagedStore {
  readonly url: string;
  readonly users: boolean;
  readonly roles: boolean;
  readonly policies: boolean;
}

/** A store policy's value as the store's configuration spells it. */
export type StorePolicyValue = string | number | boolean | readonly string[];

/** The policies a config gives a store (only those it names): no API sets them, the store's operator deploys them. */
export interface StorePolicies {
  readonly store: string;
  readonly policies: Readonly<Record<string, StorePolicyValue>>;
}

/**
 * Created in this order, deleted in the other: a store's links refer to
 * collaborations; its users to its roles. The server's kinds come first: an
 * apply changes the server, then the stores.
 */
export type EntityKind = ServerKind | KeycloakKind | StoreKind;
export type ServerKind = 'organization' | 'collaboration' | 'node' | 'study' | 'role' | 'user' | 'algorithm_store';
/** What fedctl keeps in HQ's Keycloak beside its users (vantage6 5). */
export type KeycloakKind = 'identity_provider';
export type StoreKind = 'store_role' | 'store_user';

export const SERVER_KINDS: readonly ServerKind[] = ['organization', 'collaboration', 'node', 'study', 'role', 'user', 'algorithm_store'];
export const KEYCLOAK_KINDS: readonly KeycloakKind[] = ['identity_provider'];
export const STORE_KINDS: readonly StoreKind[] = ['store_role', 'store_user'];
export const ENTITY_KINDS: readonly EntityKind[] = [...SERVER_KINDS, ...KEYCLOAK_KINDS, ...STORE_KINDS];

export function isStoreKind(kind: EntityKind): kind is StoreKind {
  return kind === 'store_role' || kind === 'store_user';
}

export function isServerKind(kind: EntityKind): kind is ServerKind {
  return !isStoreKind(kind) && kind !== 'identity_provider';
}

/** How a store's role or user is shown, and a plan addresses it: its name, and its store. */
export function storeLabel(name: string, store: string): string {
  return `${name} (${store})`;
}

/** For each kind, whether objects in the database but not in the config are deleted. */
export type PruneSettings = Readonly<Record<EntityKind, boolean>>;

export const NO_PRUNING: PruneSettings = {
  organization: false, collaboration: false, node: false, study: false, role: false, user: false, algorithm_store: false,
  identity_provider: false, store_role: false, store_user: false,
};

/** Kinds whose identity (a name) can change: a node is identified by its place, a store by its URL. */
export type RenamableKind = Exclude<ServerKind, 'node' | 'algorithm_store'>;

/** Kinds that can be renamed, with the names they had, by the identity key of the entity now. */
export type PreviousNames = Readonly<Partial<Record<RenamableKind, Readonly<Record<string, readonly string[]>>>>>;

/** The vantage6 server as its nodes reach it: what a node configuration file needs. */
export interface ServerAddress {
  /** Base URL without trailing slash, e.g. `https://v6.example.org`. */
  readonly url: string;
  readonly port: number;
  /** Null when the config does not say: `/api` on vantage6 4.x, `/hq` on vantage6 5. */
  readonly apiPath: string | null;
  /** vantage6 5: the Keycloak its nodes log in through; null when the config does not say. */
  readonly keycloak: { readonly url: string; readonly realm: string } | null;
}

/**
 * Where the secrets apply makes may go. With any recipient, fedctl writes
 * keys and passwords only encrypted to them (age), never in plaintext.
 */
export interface SecretsSettings {
  /** The admins' age recipients (`age1…`): they can open every record and node file. */
  readonly recipients: readonly string[];
  /** Per organization, the age recipients of the people who run its nodes: they can open its node files. */
  readonly organizations: Readonly<Record<string, readonly string[]>>;
  /** Where nodes reach the server; without it no node configuration file is written. */
  readonly server: ServerAddress | null;
  /**
   * Per collaboration, the URLs of the algorithm stores that serve it: its
   * node files allow algorithms from these stores only (absent, or none: the
   * node files set no such policy).
   */
  readonly nodeStores?: Readonly<Record<string, readonly string[]>>;
  /** Per node name, what the config says of which algorithms it runs and for whom: written into its file. */
  readonly nodePolicies?: Readonly<Record<string, NodePolicies>>;
}

/**
 * A node's own policies, as 4.x and vantage6 5 nodes both read them from
 * their configuration (`policies:`); absent: the node's default.
 */
export interface NodePolicies {
  /** Image names (a tag optional) or regular expressions: the node runs only these (and, unless `allowed_algorithm_stores` is empty, only those its stores approve). */
  readonly allowedAlgorithms?: readonly string[];
  /** Names of organizations whose users may send it tasks (the node finds each by name at the server). */
  readonly allowedOrganizations?: readonly string[];
  /** Usernames (of the config) of users who may send it tasks; the node compares a task's user by id, so its file names their ids. */
  readonly allowedUsers?: readonly string[];
  /** The node pulls every algorithm's image anew, never running one from its local cache alone. */
  readonly requireAlgorithmPull?: boolean;
  /** An algorithm runs when `allowedAlgorithms` or the stores allow it (the node's default: only when both do). */
  readonly allowEitherWhitelistOrStore?: boolean;
  /** vantage6's basics algorithm runs whatever the other policies say (4.x nodes only; their default: true). */
  readonly allowBasicsAlgorithm?: boolean;
}

/** Characters by which a vantage6 node takes an allowed algorithm for a regular expression rather than an image name (its DockerManager's test). */
const REGEX_MARKS = ['*', '\\', '?', '$', '^', '[', ']', '(', ')', '{', '}', '|', '+'];

/** Whether a node reads an allowed algorithm as a regular expression. */
export const looksLikeRegex = (pattern: string): boolean => REGEX_MARKS.some((mark) => pattern.includes(mark));

export const NO_SECRETS_SETTINGS: SecretsSettings = { recipients: [], organizations: {}, server: null };

/** Which rules a guardrail is about: any rule whose resource, scope and operation are among the given ones (absent: any). */
export interface RulePattern {
  readonly resources?: readonly string[];
  readonly scopes?: readonly Scope[];
  readonly operations?: readonly Operation[];
}

/** A role a guardrail names: by name, of one organization (`null`: without organization) or, with `organization` absent, of any. */
export interface RoleMatcher {
  readonly name: string;
  readonly organization?: string | null;
}

/**
 * A limit on who may hold which rules, checked on the config by validate and
 * on what a plan would leave: only the named users, or users through the
 * named roles, may hold a matching rule; at most `atMost` users may. A
 * guardrail is about the server's rules, or (`stores`) the algorithm
 * stores' (`store.review`, whose roles are store roles, and whose holders
 * are counted over every store).
 */
export interface Guardrail {
  readonly name: string;
  readonly stores: boolean;
  readonly rules: RulePattern;
  readonly only?: { readonly users: readonly string[]; readonly roles: readonly RoleMatcher[] };
  readonly atMost?: number;
  /** What every holder of a matching rule must have (vantage6 5: two-factor authentication in Keycloak). */
  readonly require?: readonly GuardrailRequirement[];
}

/** `two_factor`: two-factor authentication configured in Keycloak, or required at the user's next login. */
export type GuardrailRequirement = 'two_factor';

/** What the config asks for. */
export interface DesiredState {
  readonly organizations: readonly Organization[];
  readonly collaborations: readonly Collaboration[];
  readonly nodes: readonly Node[];
  readonly studies: readonly Study[];
  readonly roles: readonly Role[];
  readonly users: readonly DesiredUser[];
  readonly algorithmStores: readonly AlgorithmStore[];
  readonly storeRoles: readonly StoreRole[];
  readonly storeUsers: readonly StoreUser[];
  /** The stores whose users, roles or policies the config lists: only these are read, with fedctl's store account. */
  readonly managedStores: readonly ManagedStore[];
  readonly storePolicies: readonly StorePolicies[];
  /** vantage6 5: the identity providers fedctl keeps in HQ's Keycloak. */
  readonly identityProviders: readonly IdentityProvider[];
  readonly previousNames: PreviousNames;
  readonly prune: PruneSettings;
  readonly secrets: SecretsSettings;
  /** Record each apply in the database's history table (`history: false` turns it off). */
  readonly history: boolean;
  /** The server's API URL when the config's `server:` says `manage: api`: fedctl then reaches it there, unless told otherwise. */
  readonly api: string | null;
  /** The guardrails of the config's `policy:`. */
  readonly policy: readonly Guardrail[];
}

/**
 * The URL of a server's API, as fedctl and its nodes reach it: the port only
 * when it is not the scheme's own; without a path when the config gives none
 * (fedctl then finds `/api` or `/hq`).
 */
export function apiUrlOf(address: ServerAddress): string {
  const defaultPort = address.url.startsWith('https:') ? 443 : 80;
  return `${address.url}${address.port === defaultPort ? '' : `:${address.port}`}${address.apiPath ?? ''}`;
}

/**
 * Whether a role is of another organization than the user's: vantage6's API
 * gives no user such a role (the database takes it), and says why in
 * `FOREIGN_ROLE_REFUSAL`.
 */
export function isForeignRole(role: RoleRef, userOrganization: string | null): boolean {
  return role.organization !== null && role.organization !== userOrganization;
}

export const FOREIGN_ROLE_REFUSAL = 'the API gives a user only roles of the user\'s own organization, or without organization';

/** A 4.x server's API URL at an address, as its algorithm stores reach it: the address's path, else `/api`. */
export function v4ApiUrlOf(address: ServerAddress): string {
  return apiUrlOf({ ...address, apiPath: address.apiPath ?? '/api' });
}

/** Whether a 4.x server takes a store's URL for one on its own machine, and links it only with `force`: it looks for these words anywhere in the URL. */
export function isLoopback(url: string): boolean {
  return url.includes('localhost') || url.includes('127.0.0.1');
}

/** One comparable string per role identity: `JSON.stringify([organization, name])`, built without the array (a hot path). */
export function roleRefKey(ref: RoleRef): string {
  return `[${ref.organization === null ? 'null' : JSON.stringify(ref.organization)},${JSON.stringify(ref.name)}]`;
}

/** How a role is shown, and a plan addresses it: its name, and its organization when it has one. */
export function roleLabel(ref: RoleRef): string {
  return ref.organization === null ? ref.name : `${ref.name} (${ref.organization})`;
}

export function nodeKey(node: Pick<Node, 'organization' | 'collaboration'>): string {
  return JSON.stringify([node.organization, node.collaboration]);
}

/**
 * The name vantage6's own import gives a node; on vantage6 5, whose node
 * names have no spaces (a node's Keycloak client is named after it), HQ's own
 * default with every run of spaces made a hyphen.
 */
export function defaultNodeName(organization: string, collaboration: string, keycloak = false): string {
  return keycloak ? `${organization}-${collaboration}-node`.replace(/\s+/g, '-') : `${organization} - ${collaboration} Node`;
}

export function sortedUnique<T extends string>(values: Iterable<T>): T[] {
  // The default order of strings is compareStrings' (UTF-16 code units), and much faster on long lists.
  return [...new Set(values)].sort();
}

/** Locale-independent ordering, so plans are the same on every machine. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function sortRoleRefs(refs: Iterable<RoleRef>): RoleRef[] {
  const list = [...refs];
  // Most users have one role: no sorting needed.
  if (list.length === 1) return [{ name: (list[0] as RoleRef).name, organization: (list[0] as RoleRef).organization }];
  const byKey = new Map<string, RoleRef>();
  for (const ref of list) byKey.set(roleRefKey(ref), { name: ref.name, organization: ref.organization });
  return [...byKey.entries()].sort(([a], [b]) => compareStrings(a, b)).map(([, ref]) => ref);
}
