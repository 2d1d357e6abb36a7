import { readFileSync } from 'node:fs';
import { packageFile } from '../package-files.js';

/** A store's rule: a resource and an operation (`review:edit`); a store's rules have no scope. */
export type StoreRuleKey = string;

/** The algorithm store releases whose own first start made `reference/algorithm-store-X/`. */
export type StoreRelease = '4.15' | '5.0';

/** What a store release makes at its first start: its rules, and its built-in roles with theirs. */
export interface StoreCatalog {
  readonly release: StoreRelease;
  /** In the store's order. */
  readonly rules: readonly { readonly resource: string; readonly operation: string; readonly description: string }[];
  readonly defaultRoles: readonly { readonly name: string; readonly description: string; readonly rules: readonly StoreRuleKey[] }[];
}

const catalogs = new Map<StoreRelease, StoreCatalog>();

/**
 * The store release a server's line links to: a 4.x server whitelists itself
 * at 4.x stores (4.15's catalogue), vantage6 5's HQ shares its Keycloak with
 * 5.x stores (5.0's).
 */
export function storeReleaseFor(keycloak: boolean): StoreRelease {
  return keycloak ? '5.0' : '4.15';
}

/**
 * Whether a store of the line deletes a server's users, with their store
 * roles, when the server unlinks it: a 4.x store keeps its users per server it
 * whitelisted, and forgets the server with them; a 5.x store's users are
 * Keycloak's, whoever links it.
 */
export function unlinkDeletesStoreUsers(keycloak: boolean): boolean {
  return !keycloak;
}

/**
 * Whether a server of the line whitelists itself at a store it links: a
 * 4.x server does (with `force` for a store on its own machine, which a
 * store otherwise refuses); HQ shares its Keycloak with the store instead.
 */
export function whitelistsAtStore(keycloak: boolean): boolean {
  return !keycloak;
}

/**
 * How fedctl's access reports and guardrails spell a store's resources
 * (`store.review`): apart from the server's, whose `role` and `user` would
 * otherwise read the same.
 */
export const STORE_RESOURCE_PREFIX = 'store.';

export function storeRuleKey(resource: string, operation: string): StoreRuleKey {
  return `${resource}:${operation}`;
}

/** The rules and built-in roles of a carried store release, read once from `reference/`. */
export function storeCatalog(release: StoreRelease): StoreCatalog {
  const cached = catalogs.get(release);
  if (cached) return cached;
  const read = <T>(name: string): T => JSON.parse(readFileSync(packageFile(`reference/algorithm-store-${release}/${name}`), 'utf8')) as T;
  const rules = read<{ name: string; operation: string; description: string }[]>('rules.json')
    .map(({ name, operation, description }) => ({ resource: name, operation, description }));
  const catalog: StoreCatalog = { release, rules, defaultRoles: read<StoreCatalog['defaultRoles']>('default_roles.json') };
  catalogs.set(release, catalog);
  return catalog;
}

/**
 * The policies each store release's configuration takes, with the values it
 * allows (a set of words, or any value of the schema's type).
 */
export const STORE_POLICIES: Readonly<Record<StoreRelease, Readonly<Record<string, readonly string[] | null>>>> = {
  '4.15': {
    algorithm_view: ['public', 'whitelisted', 'private'], allowed_servers: null, allow_localhost: null,
    min_reviewers: null, min_reviewing_organizations: null, assign_review_own_algorithm: null, allowed_reviewers: null, allowed_review_assigners: null,
  },
  '5.0': {
    algorithm_view: ['public', 'authenticated', 'private'], min_reviewers: null, min_reviewing_organizations: null, assign_review_own_algorithm: null,
    allowed_reviewers: null, allowed_review_assigners: null,
  },
};

/**
 * The policies that name users, and the store rule each narrows: a user
 * holds it only when listed (when the policy lists anyone). A 4.x store
 * names each user with their server (`username|server URL`); a 5.x store by
 * username alone.
 */
export const USER_LIST_POLICIES: Readonly<Record<string, StoreRuleKey>> = {
  allowed_reviewers: 'review:edit', allowed_review_assigners: 'review:create',
};

/** vantage6 5's Helm chart spells the store's policies in camel case (`store.policies.minReviewers`). */
export const HELM_POLICY_NAMES: Readonly<Record<string, string>> = {
  algorithm_view: 'algorithmView', min_reviewers: 'minReviewers', min_reviewing_organizations: 'minReviewingOrganizations',
  assign_review_own_algorithm: 'assignReviewOwnAlgorithm', allowed_reviewers: 'allowedReviewers', allowed_review_assigners: 'allowedReviewAssigners',
};
