import { sql } from 'kysely';
import { knownRuleKeys } from '../../catalog/reference-catalog.js';
import { DEFAULT_ROLE_NAMES, ruleKey, type Operation, type RuleKey, type Scope } from '../../catalog/rule-catalog.js';
import { NEWEST_MINOR, formatMinor, versionRangeOf } from '../../catalog/vantage6-versions.js';
import { readForm } from '../../db/vantage6-tables.js';
import { compareStrings, sortRoleRefs, sortedUnique, type EntityKind, type RoleRef } from '../../federation.js';
import type { DatabaseAdapter, Vantage6Db } from '../../db/database-adapter.js';
import { inspectSchema, requireVantage6, type Vantage6Schema } from '../../db/inspect-schema.js';
import { hasHistory, listApplies } from '../../history/apply-history.js';
import { STORE_LINK_LIMITS, freshState } from '../../state/fresh-state.js';
import { groupStoreRows } from '../../state/store-rows.js';
import { ROOT_OWNED, type LiveRole, type LiveState } from '../../state/live-state.js';
import type { LoadedLiveState } from '../backend.js';

/** Group link-table rows by their first column; duplicates collapse, as links are sets. */
function groupLinks(rows: readonly { owner: number | null; target: number | null }[]): Map<number, Set<number>> {
  const groups = new Map<number, Set<number>>();
  for (const { owner, target } of rows) {
    if (owner === null || target === null) continue;
    const set = groups.get(owner) ?? new Set<number>();
    set.add(target);
    groups.set(owner, set);
  }
  return groups;
}

function present<T>(value: T | undefined | null): value is T {
  return value !== undefined && value !== null;
}

/**
 * What tasks and runs refer to, so that a prune never
 * orphans them: one query, over the columns this database has.
 */
function inUseQuery(schema: Vantage6Schema) {
  const { taskStudies } = schema.features;
  return sql<{ kind: EntityKind; id: number }>`
    select 'collaboration' as kind, collaboration_id as id from task where collaboration_id is not null
    ${taskStudies ? sql`union select 'study', study_id from task where study_id is not null` : sql``}
    union select 'organization', init_org_id from task where init_org_id is not null
    union select 'organization', organization_id from run where organization_id is not null
    union select 'user', init_user_id from task where init_user_id is not null
    union select 'node', n.id from node n
      join run r on r.organization_id = n.organization_id
      join task t on t.id = r.task_id and t.collaboration_id = n.collaboration_id`;
}

/** Rules of the database's catalogue that no release fedctl knows has, sorted. */
function unknownRules(keys: Iterable<RuleKey>): RuleKey[] {
  const known = knownRuleKeys();
  return [...new Set(keys)].filter((key) => !known.has(key)).sort(compareStrings);
}

/**
 * Read the whole administrative state in a fixed number of queries (one per
 * table, one for runtime references), whatever the size of the federation,
 * and join in memory. Tables of features the database lacks (studies before
 * 4.3) read as empty.
 */
export async function readState(db: Vantage6Db, schema: Vantage6Schema): Promise<LiveState> {
  const { features } = schema;
  const [rules, organizations, collaborations, members, nodes, studies, studyMembers, roles, roleRules, users, permissions, userRules, storeRows, inUse] =
    await Promise.all([
      db.selectFrom('rule').select(['id', 'name', 'scope', 'operation']).orderBy('id').execute(),
      db.selectFrom('organization').select(['id', 'name', 'domain', 'address1', 'address2', 'zipcode', 'country']).orderBy('id').execute(),
      db.selectFrom('collaboration').select(['id', 'name', 'encrypted']).orderBy('id').execute(),
      db.selectFrom('Member').select(['collaboration_id as owner', 'organization_id as target']).execute(),
      db.selectFrom('node').select(['id', 'name', 'organization_id', 'collaboration_id']).orderBy('id').execute(),
      features.studies ? db.selectFrom('study').select(['id', 'name', 'collaboration_id']).orderBy('id').execute() : [],
      features.studies ? db.selectFrom('StudyMember').select(['study_id as owner', 'organization_id as target']).execute() : [],
      db.selectFrom('role').select(['id', 'name', 'description', 'organization_id'])
        .$if(features.defaultRoleFlag, (query) => query.select('is_default_role')).orderBy('id').execute(),
      db.selectFrom('role_rule_association').select(['role_id as owner', 'rule_id as target']).execute(),
      db.selectFrom('user').select(['id', 'username', 'firstname', 'lastname', 'email', 'organization_id']).orderBy('id').execute(),
      db.selectFrom('Permission').select(['user_id as owner', 'role_id as target']).execute(),
      db.selectFrom('UserPermission').select(['user_id as owner', 'rule_id as target']).execute(),
      features.algorithmStores ? db.selectFrom('algorithmstore').select(['id', 'name', 'url', 'collaboration_id']).orderBy('id').execute() : [],
      inUseQuery(schema).execute(db),
    ]);

  const ruleKeyById = new Map<number, string>();
  for (const rule of rules) {
    if (rule.name === null || rule.scope === null || rule.operation === null) continue;
    ruleKeyById.set(rule.id, ruleKey({ resource: rule.name, scope: rule.scope as Scope, operation: rule.operation as Operation }));
  }
  const orgName = new Map<number, string>();
  for (const org of organizations) if (org.name !== null) orgName.set(org.id, org.name);
  const collabName = new Map<number, string>();
  for (const collab of collaborations) if (collab.name !== null) collabName.set(collab.id, collab.name);
  const nameOf = (map: Map<number, string>, id: number | null): string | null => (id === null ? null : map.get(id) ?? null);
  const namesOf = (map: Map<number, string>, ids: Iterable<number> | undefined): string[] =>
    sortedUnique([...(ids ?? [])].map((id) => map.get(id)).filter(present));

  const memberLinks = groupLinks(members);
  const studyLinks = groupLinks(studyMembers);
  const roleRuleLinks = groupLinks(roleRules);
  const permissionLinks = groupLinks(permissions);
  const userRuleLinks = groupLinks(userRules);

  const liveRoles: LiveRole[] = roles.flatMap((role) => (role.name === null ? [] : [{
    id: role.id,
    name: role.name,
    organization: nameOf(orgName, role.organization_id),
    description: readForm(role.description),
    rules: namesOf(ruleKeyById, roleRuleLinks.get(role.id)),
    // Before 4.3 there is no flag, and a server that upgrades such a database adds it as NULL:
    // then the built-in roles are the ones with their names and no organization.
    isDefault: role.is_default_role === null || role.is_default_role === undefined
      ? role.organization_id === null && DEFAULT_ROLE_NAMES.has(role.name)
      : Boolean(role.is_default_role),
  }]));
  const roleRefById = new Map<number, RoleRef>(liveRoles.map((role) => [role.id, { name: role.name, organization: role.organization }]));

  return {
    server: {
      versions: versionRangeOf(schema.columns, new Set(ruleKeyById.values())),
      features,
      unknown: { tables: schema.novelties.tables, columns: schema.novelties.columns, rules: unknownRules(ruleKeyById.values()) },
      limits: [...STORE_LINK_LIMITS, ...schema.novelties.unfillable.flatMap(({ column, by }) => by.map(({ kind, on }) => ({
        kind, change: on,
        reason: `the database requires ${column} (NOT NULL without a default), which fedctl does not fill${
          schema.novelties.columns.includes(column) ? `: no vantage6 release up to ${formatMinor(NEWEST_MINOR)} has it` : ''}`,
      })))],
      grantable: null,
      owned: ROOT_OWNED,
    },
    rules: [...ruleKeyById].map(([id, key]) => ({ id, key })),
    organizations: organizations.flatMap((org) => (org.name === null ? [] : [{
      id: org.id,
      name: org.name,
      domain: readForm(org.domain),
      address1: readForm(org.address1),
      address2: readForm(org.address2),
      zipcode: readForm(org.zipcode),
      country: readForm(org.country),
    }])),
    collaborations: collaborations.flatMap((collab) => (collab.name === null ? [] : [{
      id: collab.id,
      name: collab.name,
      // NULL is what the server's model default (true) would have written had it been there.
      encrypted: collab.encrypted === null ? true : Boolean(collab.encrypted),
      members: namesOf(orgName, memberLinks.get(collab.id)),
    }])),
    nodes: nodes.flatMap((node) => (node.name === null ? [] : [{
      id: node.id,
      name: node.name,
      organization: nameOf(orgName, node.organization_id),
      collaboration: nameOf(collabName, node.collaboration_id),
    }])),
    studies: studies.flatMap((study) => {
      const collaboration = nameOf(collabName, study.collaboration_id);
      if (study.name === null || collaboration === null) return [];
      return [{ id: study.id, name: study.name, collaboration, organizations: namesOf(orgName, studyLinks.get(study.id)) }];
    }),
    roles: liveRoles,
    users: users.flatMap((user) => (user.username === null ? [] : [{
      id: user.id,
      username: user.username,
      organization: nameOf(orgName, user.organization_id),
      firstname: readForm(user.firstname),
      lastname: readForm(user.lastname),
      email: user.email,
      enabled: true,
      roles: sortRoleRefs([...(permissionLinks.get(user.id) ?? [])].map((id) => roleRefById.get(id)).filter(present)),
      rules: namesOf(ruleKeyById, userRuleLinks.get(user.id)),
    }])),
    algorithmStores: groupStoreRows(storeRows.map((row) => ({
      id: row.id, name: row.name, url: row.url, every: row.collaboration_id === null, collaboration: nameOf(collabName, row.collaboration_id),
    }))),
    storeRoles: [],
    storeUsers: [],
    storePolicies: [],
    inUse: inUse.rows.map((row) => ({ kind: row.kind, id: Number(row.id) }))
      .sort((a, b) => compareStrings(a.kind, b.kind) || a.id - b.id),
  };
}

/**
 * Read the live state and the last recorded apply in one snapshot, after
 * checking that the database is vantage6's (of any 4.x release). An empty SQLite database (the embedded
 * default before its first apply) reads as the state `fedctl init` would create.
 */
export async function loadLiveState(adapter: DatabaseAdapter): Promise<LoadedLiveState> {
  const status = await inspectSchema(adapter);
  if (status.kind === 'empty' && adapter.engine === 'sqlite') return absentLiveState();
  const schema = requireVantage6(status, adapter.target.display);
  return adapter.readSnapshot(async (db) => {
    const [live, last] = await Promise.all([readState(db, schema), hasHistory(schema.columns) ? listApplies(db, 1) : []]);
    return { live, initialize: false, lastApply: last[0] ?? null };
  });
}

/** For a database that does not exist yet: plan must not create it. */
export function absentLiveState(): LoadedLiveState {
  return { live: freshState(), initialize: true, lastApply: null };
}
