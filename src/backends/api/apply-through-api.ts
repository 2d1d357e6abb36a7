import { generatePassword } from '../../apply/prepare-secrets.js';
import { KEYCLOAK_USER_FIELDS, usesKeycloak } from '../../catalog/vantage6-versions.js';
import { FedctlError, isFedctlError, messageOf } from '../../errors.js';
import { SERVER_KINDS, isLoopback, v4ApiUrlOf, roleRefKey, type AlgorithmStore, type EntityKind, type RoleRef, type ServerKind } from '../../federation.js';
import {
  assertApplicable, isServerChange, type Change, type CreateChange, type DeleteChange, type Plan, type ServerChange, type UpdateChange,
} from '../../plan/plan.js';
import type { MadeSecrets, NodeSecretEntry, SecretsContent, UserSecretEntry } from '../../secrets/secrets-store.js';
import type { LiveAlgorithmStore, LiveState } from '../../state/live-state.js';
import { storeRowChanges } from '../../state/store-rows.js';
import type { ApplyOptions, ApplyResult, ResolvePlan } from '../backend.js';
import type { Vantage6Api } from './vantage6-api.js';

type CreateOf<K extends EntityKind> = Extract<CreateChange, { kind: K }>;
type UpdateOf<K extends EntityKind> = Extract<UpdateChange, { kind: K }>;

/** The REST resource of each kind. */
const RESOURCE: Readonly<Record<ServerKind, string>> = {
  organization: 'organization', collaboration: 'collaboration', node: 'node', study: 'study', role: 'role', user: 'user', algorithm_store: 'algorithmstore',
};

/** Fields as the API takes them: what the config leaves out is not sent on create, and sent empty to clear it on update. */
function present(fields: Readonly<Record<string, string | null>>): Record<string, string> {
  return Object.fromEntries(Object.entries(fields).flatMap(([key, value]) => (value === null ? [] : [[key, value]])));
}

function changedScalars(change: UpdateChange): Map<string, string | boolean | null> {
  return new Map(change.fields.flatMap((field) => ('after' in field ? [[field.field, field.after] as const] : [])));
}

const added = (change: UpdateChange, field: string): readonly string[] =>
  change.fields.flatMap((f) => ('added' in f && f.field === field ? f.added : []));
const removed = (change: UpdateChange, field: string): readonly string[] =>
  change.fields.flatMap((f) => ('removed' in f && f.field === field ? f.removed : []));
const setChanged = (change: UpdateChange, field: string): boolean => change.fields.some((f) => 'added' in f && f.field === field);

/** Creates and updates by kind: users before nodes, whose files name the users their policies allow by the ids the server gives them. */
const CREATE_ORDER: readonly ServerKind[] = ['organization', 'collaboration', 'study', 'role', 'user', 'node', 'algorithm_store'];

/**
 * Make the server match a plan through its 4.x REST API: no transaction, so
 * calls in dependency order (creates and updates by kind, then deletes the
 * other way round), each one a plan made afresh would repeat; the first
 * failure stops the apply and says what was done and what was not. A key the
 * server makes is recorded before the next call; a generated password before
 * the call that sets it.
 */
export async function applyThroughApi(api: Vantage6Api, reviewed: Plan, resolve: ResolvePlan, live: LiveState, options: ApplyOptions): Promise<ApplyResult> {
  assertApplicable(reviewed, options.allowDestroy);
  await options.secrets.check();
  const plan = resolve(live);
  if (plan !== reviewed) assertApplicable(plan, options.allowDestroy);
  const missing = plan.changes.flatMap((change) => (change.action === 'create' && change.kind === 'user' && change.after.password?.from === 'env'
    && !options.env[change.after.password.variable] ? [`${change.after.password.variable} (password of ${change.after.username})`] : []));
  if (missing.length > 0) {
    throw new FedctlError('APPLY_FAILED', `environment variables not set: ${missing.join(', ')}`,
      'set them to the initial passwords of the users being created; nothing was changed');
  }
  // A note of a key whose node does not exist belongs to a call that failed or never came: nothing to record.
  const existing = new Set(live.nodes.map((node) => node.name));
  await options.secrets.pending.remove((await options.secrets.pending.list()).map((key) => key.name).filter((name) => !existing.has(name)));
  const writer = new ApiWriter(api, live, plan, options);
  // Links to stores that serve only collaborations there already go first: the server asks the store at once, and a store that does not answer or refuses the server stops the apply before anything else is changed.
  const created = new Set(plan.changes.flatMap((c) => (c.kind === 'collaboration' && c.action === 'create' ? [c.after.name] : [])));
  const early = (c: Change): boolean => c.kind === 'algorithm_store' && c.action !== 'delete' && !c.after.collaborations.some((name) => created.has(name));
  // The stores' own users and roles are not the server's: they are made after, by the stores' component.
  const changes = plan.changes.filter(isServerChange);
  const order = [
    ...changes.filter(early),
    ...CREATE_ORDER.flatMap((kind) => changes.filter((c) => c.kind === kind && c.action !== 'delete' && !early(c))),
    ...[...SERVER_KINDS].reverse().flatMap((kind) => changes.filter((c) => c.kind === kind && c.action === 'delete')),
  ];
  let done = 0;
  for (const change of order) {
    try {
      options.signal?.throwIfAborted();
      await writer.make(change);
    } catch (error) {
      const what = `${change.action} ${change.kind} ${JSON.stringify(change.address)}`;
      const made = done === 0 ? 'nothing was changed' : `${done} of ${order.length} changes were made before it, the other ${order.length - done} were not`;
      const cause = isFedctlError(error) && error.code === 'INTERRUPTED' ? 'interrupted' : messageOf(error);
      throw new FedctlError(isFedctlError(error) && error.code === 'INTERRUPTED' ? 'INTERRUPTED' : 'APPLY_STOPPED',
        `apply stopped at ${what}: ${cause}; ${made}`, 'every key the server made is recorded; run fedctl plan to see what is left', { cause: error });
    }
    done++;
  }
  return { plan, initialized: false, secrets: writer.made(), recordId: null };
}

/** Ids by identity, from the live state and from what the calls create. */
class ApiWriter {
  private readonly organization: Map<string, number>;
  private readonly collaboration: Map<string, number>;
  private readonly role: Map<string, number>;
  private readonly rule: Map<string, number>;
  private readonly encrypted: Map<string, boolean>;
  private readonly userIds: Map<string, number>;
  private readonly nodes: Record<string, NodeSecretEntry> = {};
  private readonly users: Record<string, UserSecretEntry> = {};

  /** vantage6 5: users' details live in Keycloak, out of HQ's API. */
  private readonly keycloak: boolean;

  /** The store links of the live state, by URL. */
  private readonly stores: ReadonlyMap<string, LiveAlgorithmStore>;

  /** The server's API as its stores reach it; null: the server's own setting. */
  private readonly serverUrl: string | null;

  constructor(private readonly api: Vantage6Api, live: LiveState, plan: Plan, private readonly options: ApplyOptions) {
    this.keycloak = usesKeycloak(live.server.versions.to);
    this.stores = new Map(live.algorithmStores.map((store) => [store.url, store]));
    const address = options.serverAddress;
    this.serverUrl = address === null ? null : v4ApiUrlOf(address);
    this.organization = new Map(live.organizations.map((o) => [o.name, o.id]));
    this.collaboration = new Map(live.collaborations.map((c) => [c.name, c.id]));
    this.rule = new Map(live.rules.map((r) => [r.key, r.id]));
    // Custom roles first, so that a built-in role wins when both have the same identity.
    this.role = new Map([...live.roles].sort((a, b) => Number(a.isDefault) - Number(b.isDefault) || b.id - a.id).map((r) => [roleRefKey(r), r.id]));
    this.encrypted = new Map(live.collaborations.map((c) => [c.name, c.encrypted]));
    this.userIds = new Map(live.users.map((u) => [u.username, u.id]));
    for (const change of plan.changes) {
      if (change.kind === 'collaboration' && change.action !== 'delete') this.encrypted.set(change.after.name, change.after.encrypted);
    }
  }

  /** What the apply recorded, for the summary. */
  made(): MadeSecrets | null {
    return Object.keys(this.nodes).length + Object.keys(this.users).length === 0 ? null : this.secrets({ nodes: this.nodes, users: this.users });
  }

  async make(change: ServerChange): Promise<void> {
    if (change.action === 'delete') return this.remove(change);
    switch (change.kind) {
      case 'organization': return change.action === 'create' ? this.createOrganization(change) : this.updateOrganization(change);
      case 'collaboration': return change.action === 'create' ? this.createCollaboration(change) : this.updateCollaboration(change);
      case 'node': return change.action === 'create' ? this.createNode(change) : this.updateNode(change);
      case 'study': return change.action === 'create' ? this.createStudy(change) : this.updateStudy(change);
      case 'role': return change.action === 'create' ? this.createRole(change) : this.updateRole(change);
      case 'user': return change.action === 'create' ? this.createUser(change) : this.updateUser(change);
      case 'algorithm_store': return change.action === 'create' ? this.createStore(change) : this.updateStore(change);
      default: return unreachable(change);
    }
  }

  private id(map: Map<string, number>, key: string, what: string): number {
    const found = map.get(key);
    if (found === undefined) throw new FedctlError('APPLY_FAILED', `internal error: no id for ${what}`);
    return found;
  }

  private orgId = (name: string): number => this.id(this.organization, name, `organization ${name}`);
  private ruleIds = (keys: readonly string[]): number[] => keys.map((key) => this.id(this.rule, key, `rule ${key}`));
  private roleIds = (refs: readonly RoleRef[]): number[] => refs.map((ref) => this.id(this.role, roleRefKey(ref), `role ${ref.name}`));

  private secrets(content: SecretsContent): MadeSecrets {
    return { content, collaborationEncrypted: Object.fromEntries(this.encrypted), database: this.api.url, keycloak: this.keycloak, userIds: Object.fromEntries(this.userIds) };
  }

  private async createOrganization({ after }: CreateOf<'organization'>): Promise<void> {
    const { name, domain, address1, address2, zipcode, country } = after;
    const created = await this.api.write<{ id: number }>('POST', 'organization', { name, ...present({ domain, address1, address2, zipcode, country }) });
    this.organization.set(name, created.id);
  }

  private async updateOrganization(change: UpdateOf<'organization'>): Promise<void> {
    const fields = Object.fromEntries([...changedScalars(change)].map(([field, value]) => [field, value ?? '']));
    await this.api.write('PATCH', `organization/${change.id}`, fields);
    this.organization.set(change.after.name, change.id);
  }

  private async createCollaboration({ after }: CreateOf<'collaboration'>): Promise<void> {
    const created = await this.api.write<{ id: number }>('POST', 'collaboration', {
      name: after.name, encrypted: after.encrypted, organization_ids: after.members.map(this.orgId),
    });
    this.collaboration.set(after.name, created.id);
  }

  private async updateCollaboration(change: UpdateOf<'collaboration'>): Promise<void> {
    const scalars = Object.fromEntries(changedScalars(change));
    if (Object.keys(scalars).length > 0) await this.api.write('PATCH', `collaboration/${change.id}`, scalars);
    this.collaboration.set(change.after.name, change.id);
    for (const org of added(change, 'members')) await this.api.write('POST', `collaboration/${change.id}/organization`, { id: this.orgId(org) });
    for (const org of removed(change, 'members')) await this.api.write('DELETE', `collaboration/${change.id}/organization`, { id: this.orgId(org) });
  }

  /** Noted before the call, recorded after it: the server makes the key and gives it once. */
  private async withNewKey(node: { name: string; organization: string; collaboration: string }, call: () => Promise<{ api_key?: unknown }>): Promise<void> {
    await this.options.secrets.pending.add([{ ...node, since: new Date().toISOString() }]);
    const answer = await call();
    if (typeof answer.api_key !== 'string') throw new FedctlError('APPLY_FAILED', `${this.api.url} gave no key for node ${node.name}`);
    const entry: NodeSecretEntry = { organization: node.organization, collaboration: node.collaboration, api_key: answer.api_key, created_at: new Date().toISOString() };
    await this.options.secrets.save(this.secrets({ nodes: { [node.name]: entry }, users: {} }));
    this.nodes[node.name] = entry;
  }

  private async createNode({ after }: CreateOf<'node'>): Promise<void> {
    await this.withNewKey(after, () => this.api.write('POST', 'node', {
      name: after.name, organization_id: this.orgId(after.organization),
      collaboration_id: this.id(this.collaboration, after.collaboration, `collaboration ${after.collaboration}`),
    }));
  }

  private async updateNode(change: UpdateOf<'node'>): Promise<void> {
    const name = changedScalars(change).get('name');
    if (typeof name === 'string') await this.api.write('PATCH', `node/${change.id}`, { name });
    if (change.fields.some((field) => 'secret' in field)) {
      await this.withNewKey(change.after, () => this.api.write('POST', 'recover/node', { id: change.id }));
    }
  }

  private async createStudy({ after }: CreateOf<'study'>): Promise<void> {
    await this.api.write('POST', 'study', {
      name: after.name, collaboration_id: this.id(this.collaboration, after.collaboration, `collaboration ${after.collaboration}`),
      organization_ids: after.organizations.map(this.orgId),
    });
  }

  private async updateStudy(change: UpdateOf<'study'>): Promise<void> {
    const name = changedScalars(change).get('name');
    await this.api.write('PATCH', `study/${change.id}`, {
      ...(typeof name === 'string' ? { name } : {}),
      ...(setChanged(change, 'organizations') ? { organization_ids: change.after.organizations.map(this.orgId) } : {}),
    });
  }

  private async createRole({ after }: CreateOf<'role'>): Promise<void> {
    const created = await this.api.write<{ id: number }>('POST', 'role', {
      name: after.name, rules: this.ruleIds(after.rules), ...present({ description: after.description }),
      ...(after.organization === null ? {} : { organization_id: this.orgId(after.organization) }),
    });
    this.role.set(roleRefKey(after), created.id);
  }

  /** The whole list of rules: before 4.10 the API does not save a rule removed on its own (DELETE /role/ID/rule/RULE). */
  private async updateRole(change: UpdateOf<'role'>): Promise<void> {
    const scalars = Object.fromEntries([...changedScalars(change)].map(([field, value]) => [field, value ?? '']));
    await this.api.write('PATCH', `role/${change.id}`, { ...scalars, ...(setChanged(change, 'rules') ? { rules: this.ruleIds(change.after.rules) } : {}) });
    this.role.set(roleRefKey(change.after), change.id);
  }

  /**
   * A generated password is recorded before the call that sets it: if the
   * call fails, the next apply makes another. An invited user's, and that of
   * one who signs in through an identity provider, is given to HQ, which
   * requires one, and to nobody else: the invitation (the Keycloak
   * component, for the other) removes it.
   */
  private async createUser({ after }: CreateOf<'user'>): Promise<void> {
    let password: string;
    if (after.password?.from === 'env') {
      password = this.options.env[after.password.variable] as string;
    } else {
      password = generatePassword();
      if (after.password?.from !== 'invite' && after.signIn === undefined) {
        const entry = { password, created_at: new Date().toISOString() };
        await this.options.secrets.save(this.secrets({ nodes: {}, users: { [after.username]: entry } }));
        this.users[after.username] = entry;
      }
    }
    const created = await this.api.write<{ id: number }>('POST', 'user', {
      username: after.username, password,
      // 4.x needs both names, empty when there are none; vantage6 5 takes none of these (validation refuses them there).
      ...(this.keycloak ? {} : { email: after.email, firstname: after.firstname ?? '', lastname: after.lastname ?? '' }),
      organization_id: this.orgId(after.organization as string), roles: this.roleIds(after.roles), rules: this.ruleIds(after.rules),
    });
    this.userIds.set(after.username, created.id);
  }

  /** HQ keeps no names, e-mail, enabled or sign-ins (Keycloak does, and the Keycloak component writes them): a change of only those is no call here. */
  private async updateUser(change: UpdateOf<'user'>): Promise<void> {
    const elsewhere = new Set<string>(this.keycloak ? [...KEYCLOAK_USER_FIELDS, 'sign_in'] : []);
    const scalars = Object.fromEntries([...changedScalars(change)].flatMap(([field, value]) => (elsewhere.has(field) ? [] : [[field, value ?? '']])));
    const body = {
      ...scalars,
      ...(setChanged(change, 'roles') ? { roles: this.roleIds(change.after.roles) } : {}),
      ...(setChanged(change, 'rules') ? { rules: this.ruleIds(change.after.rules) } : {}),
    };
    if (Object.keys(body).length > 0) await this.api.write('PATCH', `user/${change.id}`, body);
    this.userIds.set(change.after.username, change.id);
  }

  /**
   * Link a store as the server's UI does: one row per collaboration, or one
   * for every collaboration. A 4.x server whitelists itself at the store,
   * at the address the config's `server:` gives (else its own setting); a
   * store on this machine needs `force`. HQ takes the API's path apart.
   */
  private async link(store: AlgorithmStore, collaboration: string | null): Promise<void> {
    const hq = this.keycloak;
    const url = new URL(store.url);
    await this.api.write('POST', 'algorithmstore', {
      name: store.name,
      ...(hq ? { algorithm_store_url: url.origin, api_path: url.pathname } : { algorithm_store_url: store.url, ...this.whitelisting(store) }),
      ...(collaboration === null ? {} : { collaboration_id: this.id(this.collaboration, collaboration, `collaboration ${collaboration}`) }),
    });
  }

  /** What a 4.x server needs to whitelist itself at a store: where the store reaches the server, and `force` for a store on this machine. */
  private whitelisting(store: AlgorithmStore): { server_url?: string; force?: true } {
    return { ...(this.serverUrl === null ? {} : { server_url: this.serverUrl }), ...(isLoopback(store.url) ? { force: true } : {}) };
  }

  private async createStore({ after }: CreateOf<'algorithm_store'>): Promise<void> {
    for (const collaboration of after.everyCollaboration ? [null] : after.collaborations) await this.link(after, collaboration);
  }

  /**
   * The API deletes a store's rows only all at once (and the server's
   * whitelisting with them): rows are moved to the collaborations that come
   * (PATCH), the rest linked anew; only when collaborations go and none come
   * in their place is the store unlinked and linked again, which the next
   * apply finishes if it stops in between.
   */
  private async updateStore(change: UpdateOf<'algorithm_store'>): Promise<void> {
    const { after } = change;
    const store = this.stores.get(after.url);
    if (store === undefined) throw new FedctlError('APPLY_FAILED', `internal error: no rows of algorithm store ${after.url}`);
    if (after.name !== store.name) for (const row of store.rows) await this.api.write('PATCH', `algorithmstore/${row.id}`, { name: after.name });
    if (after.everyCollaboration === store.everyCollaboration && !setChanged(change, 'collaborations')) return;
    // A link to every collaboration replaces the store's other rows.
    if (after.everyCollaboration) return this.link(after, null);
    const { moves, adds, removes } = storeRowChanges(store.rows, after.collaborations);
    if (removes.length > 0) {
      await this.unlink(store.id);
      for (const collaboration of after.collaborations) await this.link(after, collaboration);
      return;
    }
    for (const { id, to } of moves) {
      await this.api.write('PATCH', `algorithmstore/${id}`, { collaboration_id: to === null ? null : this.id(this.collaboration, to, `collaboration ${to}`) });
    }
    for (const collaboration of adds) await this.link(after, collaboration);
  }

  /** Unlink a store (every row of its URL): a 4.x server takes back its whitelisting at the store, and needs to know where the store reaches it. */
  private async unlink(id: number): Promise<void> {
    await this.api.write('DELETE', `algorithmstore/${id}${this.keycloak || this.serverUrl === null ? '' : `?server_url=${encodeURIComponent(this.serverUrl)}`}`);
  }

  private async remove(change: Extract<ServerChange, DeleteChange>): Promise<void> {
    if (change.kind === 'algorithm_store') return this.unlink(change.id);
    await this.api.write('DELETE', `${RESOURCE[change.kind]}/${change.id}`);
    if (change.kind === 'node') await this.options.secrets.pending.remove([change.address]);
  }
}

function unreachable(value: never): never {
  throw new FedctlError('APPLY_FAILED', `internal error: unhandled change ${JSON.stringify(value)}`);
}
