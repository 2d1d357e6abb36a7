import { sql, type Insertable } from 'kysely';
import { FedctlError } from '../../errors.js';
import { SERVER_KINDS, nodeKey, roleRefKey, type EntityKind, type RoleRef, type ServerKind } from '../../federation.js';
import type { DatabaseAdapter, Vantage6Db } from '../../db/database-adapter.js';
import { storedRow, type Vantage6Database } from '../../db/vantage6-tables.js';
import { apiWritesOf, type SchemaFeatures } from '../../catalog/vantage6-versions.js';
import { isServerChange, type Change, type CreateChange, type ServerChange, type UpdateChange } from '../../plan/plan.js';
import type { LiveAlgorithmStore, LiveState } from '../../state/live-state.js';
import { storeRowChanges } from '../../state/store-rows.js';
import { BATCH_SIZE, BatchedWrites } from './batched-writes.js';
import type { PreparedSecrets } from '../../apply/prepare-secrets.js';


type CreateOf<K extends EntityKind> = Extract<CreateChange, { kind: K }>;
type UpdateOf<K extends EntityKind> = Extract<UpdateChange, { kind: K }>;

function added(before: readonly string[], after: readonly string[]): string[] {
  const was = new Set(before);
  return after.filter((item) => !was.has(item));
}

function removed(before: readonly string[], after: readonly string[]): string[] {
  return added(after, before);
}

/**
 * What deleting an entity removes, in order: the links that name it, its own
 * row, then (users and nodes) its authenticatable row. A record over every
 * kind, so a new kind cannot be forgotten. Tables of studies are skipped in
 * databases without them.
 */
const DELETES: Readonly<Record<Exclude<ServerKind, 'algorithm_store'>, readonly (readonly [keyof Vantage6Database, string])[]>> = {
  user: [['Permission', 'user_id'], ['UserPermission', 'user_id'], ['user', 'id'], ['authenticatable', 'id']],
  role: [['role_rule_association', 'role_id'], ['Permission', 'role_id'], ['role', 'id']],
  study: [['StudyMember', 'study_id'], ['study', 'id']],
  // What the node reported about itself goes with it.
  node: [['nodeconfig', 'node_id'], ['node', 'id'], ['authenticatable', 'id']],
  collaboration: [['Member', 'collaboration_id'], ['collaboration', 'id']],
  organization: [['Member', 'organization_id'], ['StudyMember', 'organization_id'], ['organization', 'id']],
};

const STUDY_TABLES: ReadonlySet<keyof Vantage6Database> = new Set(['study', 'StudyMember']);

/** Name → id of everything apply may refer to, filled with the ids of rows it creates. */
class IdIndex {
  readonly organization: Map<string, number>;
  readonly collaboration: Map<string, number>;
  readonly study: Map<string, number>;
  readonly role: Map<string, number>;
  readonly rule: Map<string, number>;

  constructor(live: LiveState) {
    this.organization = new Map(live.organizations.map((o) => [o.name, o.id]));
    this.collaboration = new Map(live.collaborations.map((c) => [c.name, c.id]));
    this.study = new Map(live.studies.map((s) => [s.name, s.id]));
    this.rule = new Map(live.rules.map((r) => [r.key, r.id]));
    // Custom roles first, so that a built-in role wins when both have the same identity.
    const roles = [...live.roles].sort((a, b) => Number(a.isDefault) - Number(b.isDefault) || b.id - a.id);
    this.role = new Map(roles.map((r) => [roleRefKey(r), r.id]));
  }

  get(map: 'organization' | 'collaboration' | 'study' | 'role' | 'rule', key: string): number {
    const id = this[map].get(key);
    if (id === undefined) throw new FedctlError('APPLY_FAILED', `internal error: no id for ${map} ${key}`);
    return id;
  }

  roleIds(refs: readonly RoleRef[]): number[] {
    return refs.map((ref) => this.get('role', roleRefKey(ref)));
  }

  ruleIds(keys: readonly string[]): number[] {
    return keys.map((key) => this.get('rule', key));
  }
}

/**
 * Turn a plan's changes into SQL, inside the caller's transaction: rows in
 * the order notes.md asks (organizations, collaborations and members, nodes,
 * studies, roles, users), inserts batched, every row as the vantage6 server
 * itself would write it.
 */
export class ChangeWriter {
  private readonly ids: IdIndex;

  private readonly features: SchemaFeatures;

  /** The rows of each linked store, by URL. */
  private readonly stores: ReadonlyMap<string, LiveAlgorithmStore>;

  constructor(
    private readonly adapter: DatabaseAdapter,
    private readonly trx: Vantage6Db,
    live: LiveState,
    private readonly secrets: PreparedSecrets,
  ) {
    this.ids = new IdIndex(live);
    this.stores = new Map(live.algorithmStores.map((store) => [store.url, store]));
    this.batch = new BatchedWrites(trx);
    this.features = live.server.features;
    this.nodeStatus = apiWritesOf(live.server.versions).newNodeStatus;
  }

  /** What the release's API gives a node it creates. */
  private readonly nodeStatus: 'offline' | null;

  private readonly batch: BatchedWrites;

  /** `checkpoint` runs between kinds and throws to stop (Ctrl-C); the caller rolls back. */
  async write(all: readonly Change[], checkpoint: () => void = () => undefined): Promise<void> {
    // The stores' own users and roles are not the server's: they are made after the commit, by the stores' component.
    const changes = all.filter(isServerChange);
    for (const kind of SERVER_KINDS) {
      checkpoint();
      const creates = changes.filter((c): c is Extract<ServerChange, CreateChange> => c.action === 'create' && c.kind === kind);
      const updates = changes.filter((c): c is Extract<ServerChange, UpdateChange> => c.action === 'update' && c.kind === kind);
      await this.createAll(kind, creates);
      // Ids of renamed entities are looked up under their new names by the kinds after this one.
      for (const update of updates) await this.update(update);
      await this.batch.flush();
    }
    // Deletes last, dependants first: users and roles before the organizations they belong to.
    for (const kind of [...SERVER_KINDS].reverse()) {
      checkpoint();
      const ids = changes.flatMap((c) => (c.action === 'delete' && c.kind === kind ? [c.id] : []));
      if (ids.length > 0) await this.deleteAll(kind, ids);
    }
  }

  /** Set-based deletes of the rows and their links, in the order DELETES gives. */
  private async deleteAll(kind: ServerKind, ids: readonly number[]): Promise<void> {
    // A plan never gets here with one (STORE_LINK_LIMITS): unlinking a store needs the server's call to the store.
    if (kind === 'algorithm_store') throw new FedctlError('APPLY_FAILED', 'internal error: a database cannot unlink an algorithm store');
    for (let i = 0; i < ids.length; i += BATCH_SIZE) {
      const batch = ids.slice(i, i + BATCH_SIZE);
      for (const [table, column] of DELETES[kind]) {
        if (!this.features.studies && STUDY_TABLES.has(table)) continue;
        await sql`delete from ${sql.table(table)} where ${sql.ref(column)} in (${sql.join(batch)})`.execute(this.trx);
      }
    }
  }

  private async insert<T extends keyof Vantage6Database>(table: T, rows: readonly Insertable<Vantage6Database[T]>[]): Promise<void> {
    for (let i = 0; i < rows.length; i += BATCH_SIZE) {
      // Kysely cannot relate a generic table name to its row type; the rows are typed by the caller.
      await this.trx.insertInto(table).values(rows.slice(i, i + BATCH_SIZE) as never).execute();
    }
  }

  /** Exhaustive over kinds: collects the update's writes into the batch (a store's few rows are written at once). */
  private update(change: Extract<ServerChange, UpdateChange>): void | Promise<void> {
    switch (change.kind) {
      case 'organization': return this.updateOrganization(change);
      case 'collaboration': return this.updateCollaboration(change);
      case 'node': return this.updateNode(change);
      case 'study': return this.updateStudy(change);
      case 'role': return this.updateRole(change);
      case 'user': return this.updateUser(change);
      case 'algorithm_store': return this.updateStore(change);
      default: return unreachable(change);
    }
  }

  /** Exhaustive over kinds: a new kind does not compile until it is written. */
  private async createAll(kind: ServerKind, creates: readonly CreateChange[]): Promise<void> {
    if (creates.length === 0) return;
    switch (kind) {
      case 'organization': return this.createOrganizations(creates as CreateOf<'organization'>[]);
      case 'collaboration': return this.createCollaborations(creates as CreateOf<'collaboration'>[]);
      case 'node': return this.createNodes(creates as CreateOf<'node'>[]);
      case 'study': return this.createStudies(creates as CreateOf<'study'>[]);
      case 'role': return this.createRoles(creates as CreateOf<'role'>[]);
      case 'user': return this.createUsers(creates as CreateOf<'user'>[]);
      // A plan never gets here with one (STORE_LINK_LIMITS): linking a store needs the server's call to the store.
      case 'algorithm_store': throw new FedctlError('APPLY_FAILED', 'internal error: a database cannot link an algorithm store');
      default: return unreachable(kind);
    }
  }


  private async createOrganizations(creates: CreateOf<'organization'>[]): Promise<void> {
    const ids = await this.adapter.allocateIds(this.trx, 'organization', creates.length);
    await this.insert('organization', creates.map(({ after }, i) => {
      this.ids.organization.set(after.name, ids[i] as number);
      const { name, domain, address1, address2, zipcode, country } = after;
      // The API stores an empty key until the organization's node uploads one.
      return { id: ids[i] as number, ...storedRow('organization', { name, domain, address1, address2, zipcode, country }), _public_key: new Uint8Array(0) };
    }));
  }

  private updateOrganization({ id, before, after }: UpdateOf<'organization'>): void {
    this.batch.update('organization', id, storedRow('organization', changedFields(before, after, ['name', 'domain', 'address1', 'address2', 'zipcode', 'country'])));
    // Later lookups (members, users, roles) use the new name.
    this.ids.organization.set(after.name, id);
  }

  private async createCollaborations(creates: CreateOf<'collaboration'>[]): Promise<void> {
    const ids = await this.adapter.allocateIds(this.trx, 'collaboration', creates.length);
    await this.insert('collaboration', creates.map(({ after }, i) => {
      this.ids.collaboration.set(after.name, ids[i] as number);
      return { id: ids[i] as number, name: after.name, encrypted: this.adapter.toBoolean(after.encrypted) };
    }));
    await this.insert('Member', creates.flatMap(({ after }) => after.members.map((org) => ({
      organization_id: this.ids.get('organization', org), collaboration_id: this.ids.get('collaboration', after.name),
    }))));
  }

  private updateCollaboration({ id, before, after }: UpdateOf<'collaboration'>): void {
    this.batch.update('collaboration', id, {
      ...changedFields(before, after, ['name']),
      encrypted: before.encrypted === after.encrypted ? undefined : this.adapter.toBoolean(after.encrypted),
    });
    this.ids.collaboration.set(after.name, id);
    this.batch.unlink('Member', 'collaboration_id', id, 'organization_id',
      removed(before.members, after.members).map((org) => this.ids.get('organization', org)));
    this.batch.link('Member', added(before.members, after.members).map((org) => ({
      organization_id: this.ids.get('organization', org), collaboration_id: id,
    })));
  }


  private async createNodes(creates: CreateOf<'node'>[]): Promise<void> {
    const ids = await this.adapter.allocateIds(this.trx, 'authenticatable', creates.length);
    // Joined-table inheritance: the authenticatable row first, then the node row with the same id.
    await this.insert('authenticatable', ids.map((id) => ({ id, type: 'node', status: this.nodeStatus })));
    await this.insert('node', creates.map(({ after }, i) => {
      return {
        id: ids[i] as number,
        name: after.name,
        api_key: this.secretHash(this.secrets.nodeKeyHashes, nodeKey(after), `node ${after.name}`),
        collaboration_id: this.ids.get('collaboration', after.collaboration),
        organization_id: this.ids.get('organization', after.organization),
      };
    }));
  }

  /**
   * A linked store's name and collaborations, row by row as the server's
   * PATCH and POST leave them: a row per collaboration (one without for every
   * one); rows kept where they serve on, moved to another collaboration
   * where one goes and another comes, the rest inserted or deleted (tasks
   * that named a deleted row then name none, as the server leaves them).
   */
  private async updateStore({ after }: UpdateOf<'algorithm_store'>): Promise<void> {
    const store = this.stores.get(after.url);
    if (store === undefined) throw new FedctlError('APPLY_FAILED', `internal error: no rows of algorithm store ${after.url}`);
    const { moves, adds, removes } = storeRowChanges(store.rows, after.everyCollaboration ? [null] : after.collaborations);
    const collaborationId = (name: string | null): number | null => (name === null ? null : this.ids.get('collaboration', name));
    if (after.name !== store.name) await this.trx.updateTable('algorithmstore').set({ name: after.name }).where('url', '=', after.url).execute();
    for (const { id, to } of moves) await this.trx.updateTable('algorithmstore').set({ collaboration_id: collaborationId(to) }).where('id', '=', id).execute();
    const ids = await this.adapter.allocateIds(this.trx, 'algorithmstore', adds.length);
    await this.insert('algorithmstore', adds.map((to, i) => ({ id: ids[i] as number, name: after.name, url: after.url, collaboration_id: collaborationId(to) })));
    if (removes.length === 0) return;
    if (this.features.taskStores) await this.trx.updateTable('task').set({ algorithm_store_id: null }).where('algorithm_store_id', 'in', removes).execute();
    await this.trx.deleteFrom('algorithmstore').where('id', 'in', removes).execute();
  }

  private updateNode({ id, before, after, fields }: UpdateOf<'node'>): void {
    this.batch.update('node', id, {
      ...changedFields(before, after, ['name']),
      api_key: fields.some((field) => 'secret' in field) ? this.secretHash(this.secrets.nodeKeyHashes, nodeKey(after), `node ${after.name}`) : undefined,
    });
  }


  private secretHash(hashes: ReadonlyMap<string, string>, key: string, what: string): string {
    const hash = hashes.get(key);
    if (hash === undefined) throw new FedctlError('APPLY_FAILED', `internal error: no secret prepared for ${what}`);
    return hash;
  }

  private async createStudies(creates: CreateOf<'study'>[]): Promise<void> {
    const ids = await this.adapter.allocateIds(this.trx, 'study', creates.length);
    await this.insert('study', creates.map(({ after }, i) => {
      this.ids.study.set(after.name, ids[i] as number);
      return { id: ids[i] as number, name: after.name, collaboration_id: this.ids.get('collaboration', after.collaboration) };
    }));
    await this.insert('StudyMember', creates.flatMap(({ after }) => after.organizations.map((org) => ({
      organization_id: this.ids.get('organization', org), study_id: this.ids.get('study', after.name),
    }))));
  }

  private updateStudy({ id, before, after }: UpdateOf<'study'>): void {
    this.batch.update('study', id, {
      ...changedFields(before, after, ['name']),
      collaboration_id: before.collaboration === after.collaboration ? undefined : this.ids.get('collaboration', after.collaboration),
    });
    this.batch.unlink('StudyMember', 'study_id', id, 'organization_id',
      removed(before.organizations, after.organizations).map((org) => this.ids.get('organization', org)));
    this.batch.link('StudyMember', added(before.organizations, after.organizations).map((org) => ({
      organization_id: this.ids.get('organization', org), study_id: id,
    })));
  }


  private async createRoles(creates: CreateOf<'role'>[]): Promise<void> {
    const ids = await this.adapter.allocateIds(this.trx, 'role', creates.length);
    await this.insert('role', creates.map(({ after }, i) => {
      this.ids.role.set(roleRefKey(after), ids[i] as number);
      return {
        id: ids[i] as number,
        name: after.name,
        description: storedRow('role', { description: after.description }).description,
        organization_id: after.organization === null ? null : this.ids.get('organization', after.organization),
        // As the API writes a role it creates; the column exists from 4.3 on.
        ...(this.features.defaultRoleFlag ? { is_default_role: this.adapter.toBoolean(false) } : {}),
      };
    }));
    await this.insert('role_rule_association', creates.flatMap(({ after }, i) =>
      this.ids.ruleIds(after.rules).map((ruleId) => ({ role_id: ids[i] as number, rule_id: ruleId }))));
  }

  private updateRole({ id, before, after }: UpdateOf<'role'>): void {
    this.batch.update('role', id, storedRow('role', changedFields(before, after, ['name', 'description'])));
    this.ids.role.set(roleRefKey(after), id);
    this.batch.unlink('role_rule_association', 'role_id', id, 'rule_id', this.ids.ruleIds(removed(before.rules, after.rules)));
    this.batch.link('role_rule_association', this.ids.ruleIds(added(before.rules, after.rules)).map((ruleId) => ({ role_id: id, rule_id: ruleId })));
  }


  private async createUsers(creates: CreateOf<'user'>[]): Promise<void> {
    const ids = await this.adapter.allocateIds(this.trx, 'authenticatable', creates.length);
    await this.insert('authenticatable', ids.map((id) => ({ id, type: 'user' })));
    await this.insert('user', creates.map(({ after }, i) => ({
      id: ids[i] as number,
      username: after.username,
      password: this.secrets.passwordHashes.get(after.username) ?? null,
      ...storedRow('user', { firstname: after.firstname, lastname: after.lastname }),
      email: after.email,
      organization_id: after.organization === null ? null : this.ids.get('organization', after.organization),
      failed_login_attempts: 0,
    })));
    await this.insert('Permission', creates.flatMap(({ after }, i) =>
      this.ids.roleIds(after.roles).map((roleId) => ({ role_id: roleId, user_id: ids[i] as number }))));
    await this.insert('UserPermission', creates.flatMap(({ after }, i) =>
      this.ids.ruleIds(after.rules).map((ruleId) => ({ rule_id: ruleId, user_id: ids[i] as number }))));
  }

  private updateUser({ id, before, after, fields }: UpdateOf<'user'>): void {
    const organizationChanged = before.organization !== after.organization;
    this.batch.update('user', id, {
      ...storedRow('user', changedFields(before, after, ['username', 'firstname', 'lastname', 'email'])),
      organization_id: !organizationChanged ? undefined : after.organization === null ? null : this.ids.get('organization', after.organization),
      password: fields.some((field) => 'secret' in field) ? this.secretHash(this.secrets.passwordHashes, after.username, `user ${after.username}`) : undefined,
    });
    const beforeRoles = before.roles.map(roleRefKey);
    const afterRoles = after.roles.map(roleRefKey);
    this.batch.unlink('Permission', 'user_id', id, 'role_id', removed(beforeRoles, afterRoles).map((key) => this.ids.get('role', key)));
    this.batch.link('Permission', added(beforeRoles, afterRoles).map((key) => ({ role_id: this.ids.get('role', key), user_id: id })));
    this.batch.unlink('UserPermission', 'user_id', id, 'rule_id', this.ids.ruleIds(removed(before.rules, after.rules)));
    this.batch.link('UserPermission', this.ids.ruleIds(added(before.rules, after.rules)).map((ruleId) => ({ rule_id: ruleId, user_id: id })));
  }

}

/** The named fields whose value differs between before and after, as a partial row. */
function changedFields<const F extends string>(
  before: Readonly<Record<F, string | null>>,
  after: Readonly<Record<F, string | null>>,
  fields: readonly F[],
): Partial<Record<F, string | null>> {
  const changed: Partial<Record<F, string | null>> = {};
  for (const field of fields) if (before[field] !== after[field]) changed[field] = after[field];
  return changed;
}

function unreachable(value: never): never {
  throw new FedctlError('APPLY_FAILED', `internal error: unhandled change ${JSON.stringify(value)}`);
}
