import type { Generated } from 'kysely';
import type { EntityKind } from '../federation.js';

/**
 * Kysely types for the vantage6 server schema (reference/vantage6-4.15, as 4.13 and 4.14, the
 * newest; older releases lack some tables and columns, see FEATURES in
 * catalog/vantage6-versions.ts). Every column but `id` is nullable there, so every column is `| null` here.
 * `user` and `node` share their id with `authenticatable` (joined-table
 * inheritance), so their ids are never generated.
 */

/** Booleans as each engine returns them: PostgreSQL `boolean`, SQLite 0/1. */
export type DbBoolean = boolean | number;

type Nullable<T> = T | null;

export interface AuthenticatableTable {
  id: Generated<number>;
  type: Nullable<string>;
  ip: Nullable<string>;
  last_seen: Nullable<string | Date>;
  status: Nullable<string>;
}

export interface UserTable {
  id: number;
  username: Nullable<string>;
  password: Nullable<string>;
  firstname: Nullable<string>;
  lastname: Nullable<string>;
  email: Nullable<string>;
  organization_id: Nullable<number>;
  failed_login_attempts: Nullable<number>;
  last_login_attempt: Nullable<string | Date>;
  otp_secret: Nullable<string>;
  last_email_failed_login_sent: Nullable<string | Date>;
  last_email_recover_password_sent: Nullable<string | Date>;
}

export interface NodeTable {
  id: number;
  name: Nullable<string>;
  api_key: Nullable<string>;
  collaboration_id: Nullable<number>;
  organization_id: Nullable<number>;
}

export interface OrganizationTable {
  id: Generated<number>;
  name: Nullable<string>;
  domain: Nullable<string>;
  address1: Nullable<string>;
  address2: Nullable<string>;
  zipcode: Nullable<string>;
  country: Nullable<string>;
  _public_key: Nullable<Uint8Array>;
}

export interface CollaborationTable {
  id: Generated<number>;
  name: Nullable<string>;
  encrypted: Nullable<DbBoolean>;
}

export interface MemberTable {
  organization_id: Nullable<number>;
  collaboration_id: Nullable<number>;
}

export interface StudyTable {
  id: Generated<number>;
  name: Nullable<string>;
  collaboration_id: Nullable<number>;
}

export interface StudyMemberTable {
  organization_id: Nullable<number>;
  study_id: Nullable<number>;
}

export interface RoleTable {
  id: Generated<number>;
  name: Nullable<string>;
  description: Nullable<string>;
  organization_id: Nullable<number>;
  is_default_role: Nullable<DbBoolean>;
}

export interface RuleTable {
  id: Generated<number>;
  name: Nullable<string>;
  /** Enum member NAME: VIEW, EDIT, CREATE, DELETE, SEND, RECEIVE. */
  operation: Nullable<string>;
  /** Enum member NAME: OWN, ORGANIZATION, COLLABORATION, GLOBAL. */
  scope: Nullable<string>;
  description: Nullable<string>;
}

export interface RoleRuleAssociationTable {
  role_id: Nullable<number>;
  rule_id: Nullable<number>;
}

export interface PermissionTable {
  role_id: Nullable<number>;
  user_id: Nullable<number>;
}

export interface UserPermissionTable {
  rule_id: Nullable<number>;
  user_id: Nullable<number>;
}

export interface TaskTable {
  id: Generated<number>;
  collaboration_id: Nullable<number>;
  study_id: Nullable<number>;
  init_org_id: Nullable<number>;
  init_user_id: Nullable<number>;
  algorithm_store_id: Nullable<number>;
}

export interface NodeConfigTable {
  id: Generated<number>;
  node_id: Nullable<number>;
  key: Nullable<string>;
  value: Nullable<string>;
}

export interface AlgorithmStoreTable {
  id: Generated<number>;
  name: Nullable<string>;
  url: Nullable<string>;
  collaboration_id: Nullable<number>;
}

export interface RunTable {
  id: Generated<number>;
  task_id: Nullable<number>;
  organization_id: Nullable<number>;
}

/** The tables fedctl reads or writes, by their names in the database. */
export interface Vantage6Database {
  authenticatable: AuthenticatableTable;
  user: UserTable;
  node: NodeTable;
  organization: OrganizationTable;
  collaboration: CollaborationTable;
  Member: MemberTable;
  study: StudyTable;
  StudyMember: StudyMemberTable;
  role: RoleTable;
  rule: RuleTable;
  role_rule_association: RoleRuleAssociationTable;
  Permission: PermissionTable;
  UserPermission: UserPermissionTable;
  task: TaskTable;
  run: RunTable;
  nodeconfig: NodeConfigTable;
  algorithmstore: AlgorithmStoreTable;
}

/**
 * What the server's API stores for an optional text field it was not given
 * (or given empty), by table and column, the same in every 4.x release
 * (measured on 4.0.3 to 4.15.2): `POST /organization` stores `''` for an
 * omitted domain, address1, zipcode and country but NULL for address2 (its
 * code reads the key `"address2" ""`); `POST /user` needs first and last name,
 * which clients send as `''` when empty; `POST /role` stores NULL for an
 * omitted description. fedctl writes the same, and reads either form as unset.
 */
export const UNSET_FORMS = {
  organization: { domain: '', address1: '', address2: null, zipcode: '', country: '' },
  user: { firstname: '', lastname: '' },
  role: { description: null },
} as const satisfies Readonly<Record<string, Readonly<Record<string, '' | null>>>>;

/** Fields of a row as the server stores them: an unset optional text field in the table's form of unset. */
export function storedRow<R extends Readonly<Record<string, string | null | undefined>>>(table: keyof typeof UNSET_FORMS, row: R): R {
  const forms: Readonly<Record<string, '' | null>> = UNSET_FORMS[table];
  const stored: Record<string, string | null | undefined> = { ...row };
  for (const [column, value] of Object.entries(row)) if (value === null && column in forms) stored[column] = forms[column];
  return stored as R;
}

/** A field as the model has it: unset is null, whichever form the database holds. */
export function readForm(value: string | null): string | null {
  return value === '' ? null : value;
}

/** fedctl's own table: the history of its applies (`history/apply-history.ts`), never the server's. */
export const HISTORY_TABLE = 'fedctl_history';

/** Tables whose ids fedctl allocates when it inserts rows. */
export type IdTable = 'authenticatable' | 'organization' | 'collaboration' | 'study' | 'role' | 'algorithmstore';

/**
 * The tables and columns fedctl reads or writes in every vantage6 4.x
 * database; the parts that only some releases have are `FEATURES` of
 * `catalog/vantage6-versions.ts`. Columns fedctl does not use are never
 * required, so a database of any release qualifies.
 */
export const REQUIRED_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  authenticatable: ['id', 'type', 'status'],
  user: ['id', 'username', 'password', 'firstname', 'lastname', 'email', 'organization_id', 'failed_login_attempts'],
  node: ['id', 'name', 'api_key', 'collaboration_id', 'organization_id'],
  organization: ['id', 'name', 'domain', 'address1', 'address2', 'zipcode', 'country', '_public_key'],
  collaboration: ['id', 'name', 'encrypted'],
  Member: ['organization_id', 'collaboration_id'],
  role: ['id', 'name', 'description', 'organization_id'],
  rule: ['id', 'name', 'operation', 'scope'],
  role_rule_association: ['role_id', 'rule_id'],
  Permission: ['role_id', 'user_id'],
  UserPermission: ['rule_id', 'user_id'],
  task: ['id', 'collaboration_id', 'init_org_id', 'init_user_id'],
  run: ['task_id', 'organization_id'],
  nodeconfig: ['node_id'],
};

/** A change that inserts rows into a table: creating an entity of a kind, or adding links to one (members, rules, roles). */
export interface TableWriter {
  readonly kind: EntityKind;
  readonly on: 'create' | 'link';
}

const create = (kind: EntityKind): TableWriter => ({ kind, on: 'create' });
const link = (kind: EntityKind): TableWriter => ({ kind, on: 'link' });

/**
 * The tables fedctl inserts rows into, the columns its INSERTs name, and the
 * changes that insert them. Any other column of these tables must take NULL
 * or have a default, or the INSERT fails: `fedctl_history` is fedctl's own.
 */
export const INSERTED: Readonly<Record<string, { readonly columns: readonly string[]; readonly by: readonly TableWriter[] }>> = {
  organization: { columns: ['id', 'name', 'domain', 'address1', 'address2', 'zipcode', 'country', '_public_key'], by: [create('organization')] },
  collaboration: { columns: ['id', 'name', 'encrypted'], by: [create('collaboration')] },
  Member: { columns: ['organization_id', 'collaboration_id'], by: [create('collaboration'), link('collaboration')] },
  authenticatable: { columns: ['id', 'type', 'status'], by: [create('node'), create('user')] },
  node: { columns: ['id', 'name', 'api_key', 'collaboration_id', 'organization_id'], by: [create('node')] },
  study: { columns: ['id', 'name', 'collaboration_id'], by: [create('study')] },
  StudyMember: { columns: ['organization_id', 'study_id'], by: [create('study'), link('study')] },
  role: { columns: ['id', 'name', 'description', 'organization_id', 'is_default_role'], by: [create('role')] },
  role_rule_association: { columns: ['role_id', 'rule_id'], by: [create('role'), link('role')] },
  user: { columns: ['id', 'username', 'password', 'firstname', 'lastname', 'email', 'organization_id', 'failed_login_attempts'], by: [create('user')] },
  Permission: { columns: ['role_id', 'user_id'], by: [create('user'), link('user')] },
  UserPermission: { columns: ['rule_id', 'user_id'], by: [create('user'), link('user')] },
  algorithmstore: { columns: ['id', 'name', 'url', 'collaboration_id'], by: [link('algorithm_store')] },
};
