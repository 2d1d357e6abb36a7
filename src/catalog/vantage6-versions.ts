import type { RuleKey } from './rule-catalog.js';

/**
 * What fedctl knows about the vantage6 releases, in one place: which
 * release brought which table, column and rule, and which releases the
 * project carries reference data of. Everything else asks this module (or
 * the database's own catalogue) instead of comparing version numbers.
 *
 * A version is its place in the line of releases: 4.x is x (4.10 is 10), and
 * vantage6 5.0 (HQ, with Keycloak) follows 4.15 as 16.
 */
export type Minor = number;

export const OLDEST_MINOR: Minor = 0;
/** The newest 4.x: the newest release whose database fedctl writes. */
export const NEWEST_MINOR: Minor = 15;
/** vantage6 5.0: users' passwords and nodes' secrets live in Keycloak, so HQ is reached only through its API. */
export const HQ_MINOR: Minor = 16;

/** Releases whose own server made the reference data in `reference/vantage6-X/` (rules, roles; DDL and seed for 4.x). */
export const REFERENCE_RELEASES = ['4.0', '4.3', '4.6', '4.10', '4.13', '4.14', '4.15', '5.0'] as const;
export type ReferenceRelease = (typeof REFERENCE_RELEASES)[number];
/** The releases whose database `fedctl init` creates (their DDL and seed are carried). */
export const DATABASE_RELEASES = ['4.0', '4.3', '4.6', '4.10', '4.13', '4.14', '4.15'] as const satisfies readonly ReferenceRelease[];
export type DatabaseRelease = (typeof DATABASE_RELEASES)[number];
export const NEWEST_RELEASE: DatabaseRelease = '4.15';
/** The newest release of each line: every older release's rules are among theirs (test/db/known-schema.test.ts holds them to it). */
export const NEWEST_OF_EACH_LINE = [NEWEST_RELEASE, '5.0'] as const satisfies readonly ReferenceRelease[];

/** The releases a database can be from, judged by what it has: `from` and `to` inclusive. */
export interface VersionRange {
  readonly from: Minor;
  readonly to: Minor;
}

export function formatMinor(minor: Minor): string {
  return minor === HQ_MINOR ? '5.0' : `4.${minor}`;
}

/** Whether a release keeps users' credentials and nodes' secrets in Keycloak (vantage6 5). */
export function usesKeycloak(minor: Minor): boolean {
  return minor >= HQ_MINOR;
}

/** Node policies only 4.x nodes read: vantage6 5's nodes have no such key. */
export const NODE_POLICIES_OF_4X_ONLY: readonly string[] = ['allow_basics_algorithm'];

/**
 * The fields of a user that vantage6 5 keeps in the user's Keycloak account,
 * out of HQ's reach (HQ's API takes none of them): fedctl's Keycloak
 * component reads and writes them.
 */
export const KEYCLOAK_USER_FIELDS = ['firstname', 'lastname', 'email', 'enabled'] as const;
export type KeycloakUserField = (typeof KEYCLOAK_USER_FIELDS)[number];

/** `4.10 to 4.12`, or `4.2` when the range is one release. */
export function describeRange(range: VersionRange): string {
  return range.from === range.to ? formatMinor(range.from) : `${formatMinor(range.from)} to ${formatMinor(range.to)}`;
}

/** How a version is written: `4.8`, `4.8.3`, `5.0`, `5.0.3`. */
export const VERSION_SYNTAX = /^([45])\.(\d{1,2})(?:\.(\d+))?$/;

/** `"4.8"` (or `4.8.3`) → 8, `"5.0"` → 16; null for anything that is not a vantage6 release fedctl knows. */
export function parseVersion(text: string): Minor | null {
  return parseRelease(text)?.minor ?? null;
}

/** A release as a config or a flag names it: its minor, and its patch when given (`4.3.1`). */
export interface Release {
  readonly minor: Minor;
  readonly patch: number | null;
}

/** `"4.3.1"` → { minor: 3, patch: 1 }, `"4.3"` → { minor: 3, patch: null }; null for what fedctl does not know. */
export function parseRelease(text: string): Release | null {
  const match = VERSION_SYNTAX.exec(text.trim());
  if (!match) return null;
  const patch = match[3] === undefined ? null : Number(match[3]);
  if (match[1] === '5') return Number(match[2]) === 0 ? { minor: HQ_MINOR, patch } : null;
  const minor = Number(match[2]);
  if (minor < OLDEST_MINOR || minor > NEWEST_MINOR) return null;
  return { minor, patch };
}

/**
 * The release fedctl treats a server's own version (its API's `/version`,
 * `4.14.0`) as: the release itself, or for one newer than fedctl knows the
 * newest of its line (4.x as 4.15, 5.x as 5.0), whose plan then names what
 * fedctl does not know; null for another line.
 */
export function serverMinor(version: string): Minor | null {
  const release = parseRelease(version);
  if (release !== null) return release.minor;
  if (/^4\./.test(version)) return NEWEST_MINOR;
  if (/^5\./.test(version)) return HQ_MINOR;
  return null;
}

export function formatRelease(release: Release): string {
  return release.patch === null ? formatMinor(release.minor) : `${formatMinor(release.minor)}.${release.patch}`;
}

/**
 * The releases whose login refuses a username with a dot: 4.3.0 and 4.3.1
 * (`^[a-zA-Z][a-zA-Z0-9_-]+$`); 4.0 to 4.2 and 4.3.2 onwards accept it. A
 * database does not tell which 4.3 patch made it.
 */
export const DOTTED_LOGIN_REFUSED = { minor: 3, patches: [0, 1], fixedIn: '4.3.2' } as const;

/** Whether a server of these releases (a patch when known) may refuse the login of a username with a dot. */
export function mayRefuseDottedLogins(range: VersionRange, patch: number | null): boolean {
  const { minor, patches } = DOTTED_LOGIN_REFUSED;
  const onlyThisMinor = range.from === minor && range.to === minor;
  return range.from <= minor && minor <= range.to && (patch === null || !onlyThisMinor || (patches as readonly number[]).includes(patch));
}

export function minorOf(release: ReferenceRelease): Minor {
  return parseVersion(release) as Minor;
}

/** Parts of the schema fedctl uses only where the database has them. */
export interface SchemaFeatures {
  /** Tables `study` and `"StudyMember"` (4.3). */
  readonly studies: boolean;
  /** Column `role.is_default_role` (4.3): marks the built-in roles; before it they are known by name. */
  readonly defaultRoleFlag: boolean;
  /** Table `algorithmstore` (4.3): the server's links to algorithm stores, a row per collaboration served. */
  readonly algorithmStores: boolean;
  /** Column `task.study_id` (4.3): studies tasks run in are never pruned. */
  readonly taskStudies: boolean;
  /** Column `task.algorithm_store_id` (4.6): unlinking a store clears it, as the server does. */
  readonly taskStores: boolean;
}

export type Feature = keyof SchemaFeatures;

/** The tables and columns each feature brings, and the release that brought them. */
export const FEATURES: Readonly<Record<Feature, { readonly since: Minor; readonly columns: Readonly<Record<string, readonly string[]>> }>> = {
  studies: { since: 3, columns: { study: ['id', 'name', 'collaboration_id'], StudyMember: ['organization_id', 'study_id'] } },
  defaultRoleFlag: { since: 3, columns: { role: ['is_default_role'] } },
  algorithmStores: { since: 3, columns: { algorithmstore: ['id', 'name', 'url', 'collaboration_id'] } },
  taskStudies: { since: 3, columns: { task: ['study_id'] } },
  taskStores: { since: 6, columns: { task: ['algorithm_store_id'] } },
};

/** The features of a database a release's server made. */
export function featuresOfRelease(minor: Minor): SchemaFeatures {
  return Object.fromEntries(Object.entries(FEATURES).map(([feature, { since }]) => [feature, minor >= since])) as Record<Feature, boolean>;
}

/**
 * The carried release whose built-in roles (their rules) a release's server
 * writes: they changed in 4.3, 4.6, 4.8 and 4.14 (VERSIONS.md), and 4.8 to
 * 4.13 write 4.10's.
 */
export function defaultRolesReleaseOf(minor: Minor): ReferenceRelease {
  if (minor < 3) return '4.0';
  if (minor < 6) return '4.3';
  if (minor < 8) return '4.6';
  if (minor < 14) return '4.10';
  if (minor < HQ_MINOR) return NEWEST_RELEASE;
  return '5.0';
}

/**
 * What tells releases apart, each with the release that brought it. fedctl
 * uses none of these columns; a server adds them (and appends the rule) when
 * it upgrades a database in place, so they date a database without being
 * required.
 */
type Mark =
  | { readonly since: Minor; readonly table: string; readonly column: string }
  | { readonly since: Minor; readonly rule: RuleKey };

const MARKS: readonly Mark[] = [
  { since: 2, table: 'user', column: 'last_email_failed_login_sent' },
  { since: 3, table: 'user', column: 'last_email_recover_password_sent' },
  { since: 3, table: 'study', column: 'id' },
  { since: 6, table: 'task', column: 'algorithm_store_id' },
  { since: 8, rule: 'organization:GLOBAL:DELETE' },
  { since: 10, table: 'run', column: 'cleanup_at' },
  { since: 13, table: 'run', column: 'blob_storage_used' },
];

/**
 * The releases a database can be from, given its columns and rules: from the
 * newest mark it has to just before the oldest mark it lacks. Versions
 * between the releases the marks come from are assumed to look like the
 * release before them.
 */
export function versionRangeOf(columns: ReadonlyMap<string, ReadonlySet<string>>, rules: ReadonlySet<RuleKey>): VersionRange {
  return rangeOfMarks((mark) => ('rule' in mark ? rules.has(mark.rule) : columns.get(mark.table)?.has(mark.column) ?? false));
}

/** The range a database made by a release's own server shows. */
export function versionRangeOfRelease(minor: Minor): VersionRange {
  return rangeOfMarks((mark) => mark.since <= minor);
}

function rangeOfMarks(has: (mark: Mark) => boolean): VersionRange {
  const from = Math.max(OLDEST_MINOR, ...MARKS.filter(has).map((mark) => mark.since));
  const lacking = MARKS.filter((mark) => !has(mark)).map((mark) => mark.since - 1);
  // A mark missing below one present means a hand-altered database: the newest mark decides.
  return { from, to: Math.max(from, Math.min(NEWEST_MINOR, ...lacking)) };
}

/** What a release's API writes in rows fedctl writes too, where releases differ. */
export interface ApiWrites {
  /** `authenticatable.status` of a node `POST /node` creates: NULL until its first connection before 4.8, `'offline'` from 4.8. */
  readonly newNodeStatus: 'offline' | null;
}

/** What the API of the releases a database can be from writes (no range spans 4.8: it is a mark). */
export function apiWritesOf(range: VersionRange): ApiWrites {
  return { newNodeStatus: range.from >= 8 ? 'offline' : null };
}

/**
 * Every table and column a vantage6 server up to the newest release fedctl
 * knows makes (older releases have a subset, see `FEATURES` and `MARKS`).
 * Anything else in a database comes from a newer release, or from a hand.
 */
export const KNOWN_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  Member: ['organization_id', 'collaboration_id'],
  Permission: ['role_id', 'user_id'],
  StudyMember: ['organization_id', 'study_id'],
  UserPermission: ['rule_id', 'user_id'],
  algorithmport: ['id', 'port', 'run_id', 'label'],
  algorithmstore: ['id', 'name', 'url', 'collaboration_id'],
  authenticatable: ['id', 'type', 'ip', 'last_seen', 'status'],
  collaboration: ['id', 'name', 'encrypted'],
  node: ['id', 'name', 'api_key', 'collaboration_id', 'organization_id'],
  nodeconfig: ['id', 'node_id', 'key', 'value'],
  organization: ['id', 'name', 'domain', 'address1', 'address2', 'zipcode', 'country', '_public_key'],
  role: ['id', 'name', 'description', 'organization_id', 'is_default_role'],
  role_rule_association: ['role_id', 'rule_id'],
  rule: ['id', 'name', 'operation', 'scope', 'description'],
  run: ['id', 'input', 'task_id', 'organization_id', 'result', 'assigned_at', 'started_at', 'finished_at', 'status', 'log', 'cleanup_at', 'blob_storage_used'],
  study: ['id', 'name', 'collaboration_id'],
  task: ['id', 'name', 'description', 'image', 'collaboration_id', 'study_id', 'job_id', 'parent_id', 'init_org_id', 'init_user_id', 'created_at', 'algorithm_store_id'],
  taskdatabase: ['id', 'task_id', 'database', 'parameters'],
  user: ['id', 'username', 'password', 'firstname', 'lastname', 'email', 'organization_id', 'failed_login_attempts', 'last_login_attempt', 'otp_secret',
    'last_email_failed_login_sent', 'last_email_recover_password_sent'],
};

/**
 * The carried release whose rule catalogue a release has: the catalogue
 * changed in 4.3 (study rules) and 4.8 (deleting organizations), and is the
 * same (by name, scope and operation) in between.
 */
export function catalogueReleaseOf(minor: Minor): ReferenceRelease {
  if (minor < 3) return '4.0';
  if (minor < 8) return '4.3';
  if (minor < HQ_MINOR) return NEWEST_RELEASE;
  return '5.0';
}
