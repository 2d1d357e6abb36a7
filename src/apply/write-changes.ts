import type { Insertable } from 'kysely';
import { FedctlError } from '../errors.js';
import { ENTITY_KINDS, nodeKey, roleRefKey, type EntityKind, type RoleRef } from '../federation.js';
import type { DatabaseAdapter, Vantage6Db } from '../db/database-adapter.js';
import type { Vantage6Database } from '../db/vantage6-tables.js';
import type { Change, CreateChange, DeleteChange, UpdateChange } from '../plan/plan.js';
import type { LiveState } from '../state/live-state.js';
import type { PreparedSecrets } from './prepare-secrets.js';

/** Rows per INSERT: well under SQLite's 32,766 bound parameters for our widest table. */
const BATCH_SIZE = 500;

type CreateOf<K extends EntityKind> = Extract<CreateChange, { kind: K }>;
type UpdateOf<K extends EntityKind> = Extract<UpdateChange, { kind: K }>;

function added(before: readonly string[], after: readonly string[]): string[] {
  const was = new Set(before);
  return after.filter((item) => !was.has(item));
}

function removed(before: readonly string[], after: readonly string[]): string[] {
  return added(after, before);
}

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

  constructor(
    private readonly adapter: DatabaseAdapter,
    private readonly trx: Vantage6Db,
    live: LiveState,
    private readonly secrets: PreparedSecrets,
  ) {
    this.ids = new IdIndex(live);
  }

  async write(changes: readonly Change[]): Promise<void> {
    for (const kind of ENTITY_KINDS) {
      const creates = changes.filter((c): c is CreateChange => c.action === 'create' && c.kind === kind);
      const updates = changes.filter((c): c is UpdateChange => c.action === 'update' && c.kind === kind);
      await this.createAll(kind, creates);
      for (const update of updates) await this.update(update);
    }
    // Deletes last, dependants first: users and roles before the organizations they belong to.
    for (const kind of [...ENTITY_KINDS].reverse()) {
      const ids = changes.filter((c): c is DeleteChange => c.action === 'delete' && c.kind === kind).map((c) => c.id);
      if (ids.length > 0) await this.deleteAll(kind, ids);
    }
  }

  /** Set-based deletes of the rows and their links; exhaustive over kinds. */
  private async deleteAll(kind: EntityKind, ids: readonly number[]): Promise<void> {
    const trx = this.trx;
    for (let i = 0; i < ids.length; i += BATCH_SIZE) {
      const batch = ids.slice(i, i + BATCH_SIZE);
      switch (kind) {
        case 'user':
          await trx.deleteFrom('Permission').where('user_id', 'in', batch).execute();
          await trx.deleteFrom('UserPermission').where('user_id', 'in', batch).execute();
          await trx.deleteFrom('user').where('id', 'in', batch).execute();
          await trx.deleteFrom('authenticatable').where('id', 'in', batch).execute();
          break;
        case 'role':
          await trx.deleteFrom('role_rule_association').where('role_id', 'in', batch).execute();
          await trx.deleteFrom('Permission').where('role_id', 'in', batch).execute();
          await trx.deleteFrom('role').where('id', 'in', batch).execute();
          break;
        case 'study':
          await trx.deleteFrom('StudyMember').where('study_id', 'in', batch).execute();
          await trx.deleteFrom('study').where('id', 'in', batch).execute();
          break;
        case 'node':
          // What the node reported about itself goes with it.
          await trx.deleteFrom('nodeconfig').where('node_id', 'in', batch).execute();
          await trx.deleteFrom('node').where('id', 'in', batch).execute();
          await trx.deleteFrom('authenticatable').where('id', 'in', batch).execute();
          break;
        case 'collaboration':
          await trx.deleteFrom('Member').where('collaboration_id', 'in', batch).execute();
          await trx.deleteFrom('collaboration').where('id', 'in', batch).execute();
          break;
        case 'organization':
          await trx.deleteFrom('Member').where('organization_id', 'in', batch).execute();
          await trx.deleteFrom('StudyMember').where('organization_id', 'in', batch).execute();
          await trx.deleteFrom('organization').where('id', 'in', batch).execute();
          break;
        default:
          unreachable(kind);
      }
    }
  }

  private async insert<T extends keyof Vantage6Database>(table: T, rows: readonly Insertable<Vantage6Database[T]>[]): Promise<void> {
    for (let i = 0; i < rows.length; i += BATCH_SIZE) {
      // Kysely cannot relate a generic table name to its row type; the rows are typed by the caller.
      await this.trx.insertInto(table).values(rows.slice(i, i + BATCH_SIZE) as never).execute();
    }
  }

  /** Exhaustive over kinds: a new kind does not compile until it is written. */
  private async createAll(kind: EntityKind, creates: readonly CreateChange[]): Promise<void> {
    if (creates.length === 0) return;
    switch (kind) {
      case 'organization': return this.createOrganizations(creates as CreateOf<'organization'>[]);
      case 'collaboration': return this.createCollaborations(creates as CreateOf<'collaboration'>[]);
      case 'node': return this.createNodes(creates as CreateOf<'node'>[]);
      case 'study': return this.createStudies(creates as CreateOf<'study'>[]);
      case 'role': return this.createRoles(creates as CreateOf<'role'>[]);
      case 'user': return this.createUsers(creates as CreateOf<'user'>[]);
      default: return unreachable(kind);
    }
  }

  private async update(change: UpdateChange): Promise<void> {
    switch (change.kind) {
      case 'organization': return this.updateOrganization(change);
      case 'collaboration': return this.updateCollaboration(change);
      case 'node': return this.updateNode(change);
      case 'study': return this.updateStudy(change);
      case 'role': return this.updateRole(change);
      case 'user': return this.updateUser(change);
      default: return unreachable(change);
    }
  }

  private async createOrganizations(creates: CreateOf<'organization'>[]): Promise<void> {
    const ids = await this.adapter.allocateIds(this.trx, 'organization', creates.length);
    await this.insert('organization', creates.map(({ after }, i) => {
      this.ids.organization.set(after.name, ids[i] as number);
      return { id: ids[i] as number, name: after.name, domain: after.domain, address1: after.address1, address2: after.address2, zipcode: after.zipcode, country: after.country };
    }));
  }

  private async updateOrganization({ id, before, after }: UpdateOf<'organization'>): Promise<void> {
    const changed = changedFields(before, after, ['name', 'domain', 'address1', 'address2', 'zipcode', 'country']);
    if (Object.keys(changed).length > 0) await this.trx.updateTable('organization').set(changed).where('id', '=', id).execute();
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

  private async updateCollaboration({ id, before, after }: UpdateOf<'collaboration'>): Promise<void> {
    const changed: { name?: string; encrypted?: boolean | number } = changedFields(before, after, ['name']);
    if (before.encrypted !== after.encrypted) changed.encrypted = this.adapter.toBoolean(after.encrypted);
    if (Object.keys(changed).length > 0) await this.trx.updateTable('collaboration').set(changed).where('id', '=', id).execute();
    this.ids.collaboration.set(after.name, id);
    const gone = removed(before.members, after.members).map((org) => this.ids.get('organization', org));
    if (gone.length > 0) {
      await this.trx.deleteFrom('Member').where('collaboration_id', '=', id).where('organization_id', 'in', gone).execute();
    }
    await this.insert('Member', added(before.members, after.members).map((org) => ({
      organization_id: this.ids.get('organization', org), collaboration_id: id,
    })));
  }

  private async createNodes(creates: CreateOf<'node'>[]): Promise<void> {
    const ids = await this.adapter.allocateIds(this.trx, 'authenticatable', creates.length);
    // Joined-table inheritance: the authenticatable row first, then the node row with the same id.
    await this.insert('authenticatable', ids.map((id) => ({ id, type: 'node', status: 'offline' })));
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

  private async updateNode({ id, before, after, fields }: UpdateOf<'node'>): Promise<void> {
    const changed: { name?: string; api_key?: string } = changedFields(before, after, ['name']);
    if (fields.some((field) => 'secret' in field)) changed.api_key = this.secretHash(this.secrets.nodeKeyHashes, nodeKey(after), `node ${after.name}`);
    if (Object.keys(changed).length > 0) await this.trx.updateTable('node').set(changed).where('id', '=', id).execute();
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

  private async updateStudy({ id, before, after }: UpdateOf<'study'>): Promise<void> {
    const changed: { name?: string; collaboration_id?: number } = changedFields(before, after, ['name']);
    if (before.collaboration !== after.collaboration) changed.collaboration_id = this.ids.get('collaboration', after.collaboration);
    if (Object.keys(changed).length > 0) await this.trx.updateTable('study').set(changed).where('id', '=', id).execute();
    const gone = removed(before.organizations, after.organizations).map((org) => this.ids.get('organization', org));
    if (gone.length > 0) {
      await this.trx.deleteFrom('StudyMember').where('study_id', '=', id).where('organization_id', 'in', gone).execute();
    }
    await this.insert('StudyMember', added(before.organizations, after.organizations).map((org) => ({
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
        description: after.description,
        organization_id: after.organization === null ? null : this.ids.get('organization', after.organization),
        is_default_role: this.adapter.toBoolean(false),
      };
    }));
    await this.insert('role_rule_association', creates.flatMap(({ after }, i) =>
      this.ids.ruleIds(after.rules).map((ruleId) => ({ role_id: ids[i] as number, rule_id: ruleId }))));
  }

  private async updateRole({ id, before, after }: UpdateOf<'role'>): Promise<void> {
    const changed = changedFields(before, after, ['name', 'description']);
    if (Object.keys(changed).length > 0) await this.trx.updateTable('role').set(changed).where('id', '=', id).execute();
    this.ids.role.set(roleRefKey(after), id);
    const gone = this.ids.ruleIds(removed(before.rules, after.rules));
    if (gone.length > 0) {
      await this.trx.deleteFrom('role_rule_association').where('role_id', '=', id).where('rule_id', 'in', gone).execute();
    }
    await this.insert('role_rule_association', this.ids.ruleIds(added(before.rules, after.rules)).map((ruleId) => ({ role_id: id, rule_id: ruleId })));
  }

  private async createUsers(creates: CreateOf<'user'>[]): Promise<void> {
    const ids = await this.adapter.allocateIds(this.trx, 'authenticatable', creates.length);
    await this.insert('authenticatable', ids.map((id) => ({ id, type: 'user' })));
    await this.insert('user', creates.map(({ after }, i) => ({
      id: ids[i] as number,
      username: after.username,
      password: this.secrets.passwordHashes.get(after.username) ?? null,
      firstname: after.firstname,
      lastname: after.lastname,
      email: after.email,
      organization_id: after.organization === null ? null : this.ids.get('organization', after.organization),
      failed_login_attempts: 0,
    })));
    await this.insert('Permission', creates.flatMap(({ after }, i) =>
      this.ids.roleIds(after.roles).map((roleId) => ({ role_id: roleId, user_id: ids[i] as number }))));
    await this.insert('UserPermission', creates.flatMap(({ after }, i) =>
      this.ids.ruleIds(after.rules).map((ruleId) => ({ rule_id: ruleId, user_id: ids[i] as number }))));
  }

  private async updateUser({ id, before, after, fields }: UpdateOf<'user'>): Promise<void> {
    const changed: { username?: string; firstname?: string | null; lastname?: string | null; email?: string | null; organization_id?: number | null; password?: string } =
      changedFields(before, after, ['username', 'firstname', 'lastname', 'email']);
    if (before.organization !== after.organization) {
      changed.organization_id = after.organization === null ? null : this.ids.get('organization', after.organization);
    }
    if (fields.some((field) => 'secret' in field)) changed.password = this.secretHash(this.secrets.passwordHashes, after.username, `user ${after.username}`);
    if (Object.keys(changed).length > 0) await this.trx.updateTable('user').set(changed).where('id', '=', id).execute();

    const beforeRoles = before.roles.map(roleRefKey);
    const afterRoles = after.roles.map(roleRefKey);
    const goneRoles = removed(beforeRoles, afterRoles).map((key) => this.ids.get('role', key));
    if (goneRoles.length > 0) {
      await this.trx.deleteFrom('Permission').where('user_id', '=', id).where('role_id', 'in', goneRoles).execute();
    }
    await this.insert('Permission', added(beforeRoles, afterRoles).map((key) => ({ role_id: this.ids.get('role', key), user_id: id })));

    const goneRules = this.ids.ruleIds(removed(before.rules, after.rules));
    if (goneRules.length > 0) {
      await this.trx.deleteFrom('UserPermission').where('user_id', '=', id).where('rule_id', 'in', goneRules).execute();
    }
    await this.insert('UserPermission', this.ids.ruleIds(added(before.rules, after.rules)).map((ruleId) => ({ rule_id: ruleId, user_id: id })));
  }
}

/** The named fields whose value differs between before and after, as a partial row. */
function changedFields<T extends object, F extends keyof T & string>(before: T, after: T, fields: readonly F[]): Partial<Pick<T, F>> {
  const changed: Partial<Pick<T, F>> = {};
  for (const field of fields) if (before[field] !== after[field]) changed[field] = after[field];
  return changed;
}

function unreachable(value: never): never {
  throw new FedctlError('APPLY_FAILED', `internal error: unhandled change ${JSON.stringify(value)}`);
}
