import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NO_PRUNING, NO_SECRETS_SETTINGS, type DesiredState, type IdentityProvider } from '../../src/federation.js';
import { HQ_MINOR } from '../../src/catalog/vantage6-versions.js';
import { DEFAULT_PLAN_OPTIONS } from '../../src/plan/plan-options.js';
import { computePlan, type PlanTarget } from '../../src/plan/compute-plan.js';
import { freshState } from '../../src/state/fresh-state.js';
import type { LiveState } from '../../src/state/live-state.js';
import { apiLimits } from '../../src/backends/api/read-api-state.js';

const DATABASE: PlanTarget = { engine: 'sqlite', display: 'sqlite:///test.sqlite', initialize: false };

const EMPTY: DesiredState = { organizations: [], collaborations: [], nodes: [], studies: [], roles: [], users: [], algorithmStores: [], storeRoles: [], storeUsers: [], managedStores: [], storePolicies: [], identityProviders: [], previousNames: {}, prune: NO_PRUNING, secrets: NO_SECRETS_SETTINGS, history: true, api: null, policy: [] };

const org = (name: string) => ({ name, domain: null, address1: null, address2: null, zipcode: null, country: null });

/** A live state: the fresh catalogue plus the given rows. */
function live(extra: Partial<LiveState>): LiveState {
  const base = freshState();
  return { ...base, ...extra, roles: [...base.roles, ...(extra.roles ?? [])] };
}

describe('computePlan', () => {
  it('is empty when the database matches, and lists what it does not manage', () => {
    const desired: DesiredState = { ...EMPTY, organizations: [org('A')] };
    const plan = computePlan(desired, live({ organizations: [{ ...org('A'), id: 1 }, { ...org('root'), id: 2 }] }), DATABASE);
    assert.deepEqual(plan.changes, []);
    assert.deepEqual(plan.summary, { add: 0, change: 0, destroy: 0 });
    assert.deepEqual(plan.unmanaged, [{ kind: 'organization', address: 'root', serverOwned: true }]);
  });

  it('creates what is missing, in dependency order', () => {
    const desired: DesiredState = {
      ...EMPTY,
      organizations: [org('B'), org('A')],
      collaborations: [{ name: 'C', encrypted: true, members: ['A', 'B'] }],
      nodes: [{ organization: 'A', collaboration: 'C', name: 'A - C Node' }],
      studies: [{ name: 'S', collaboration: 'C', organizations: ['A'] }],
      roles: [{ name: 'R', organization: 'A', description: null, rules: ['node:ORGANIZATION:VIEW'] }],
      users: [{ username: 'u1', organization: 'A', firstname: null, lastname: null, email: null, enabled: true, roles: [{ name: 'Viewer', organization: null }], rules: [], password: { from: 'generate' } }],
    };
    const plan = computePlan(desired, freshState(), DATABASE);
    assert.deepEqual(plan.changes.map((c) => `${c.action} ${c.kind} ${c.address}`), [
      'create organization A', 'create organization B', 'create collaboration C', 'create node A - C Node',
      'create study S', 'create role R (A)', 'create user u1',
    ]);
    assert.deepEqual(plan.summary, { add: 7, change: 0, destroy: 0 });
    assert.deepEqual(JSON.parse(JSON.stringify(plan)), plan);
  });

  it('compares links as sets and reports field-level changes', () => {
    const desired: DesiredState = {
      ...EMPTY,
      organizations: [{ ...org('A'), country: 'NL' }, org('B'), org('C')],
      collaborations: [{ name: 'X', encrypted: false, members: ['A', 'C'] }],
      users: [{ username: 'u', organization: 'A', firstname: 'Ann', lastname: null, email: 'a@x', enabled: true, roles: [{ name: 'Researcher', organization: null }], rules: ['event:GLOBAL:SEND'], password: null }],
    };
    const state = live({
      organizations: [{ ...org('A'), id: 1, country: 'BE' }, { ...org('B'), id: 2 }, { ...org('C'), id: 3 }],
      collaborations: [{ id: 1, name: 'X', encrypted: true, members: ['A', 'B'] }],
      users: [{ id: 9, username: 'u', organization: 'A', firstname: 'Ann', lastname: null, email: 'a@x', enabled: true, roles: [{ name: 'Viewer', organization: null }], rules: ['event:GLOBAL:SEND'] }],
    });
    const plan = computePlan(desired, state, DATABASE);
    assert.deepEqual(plan.changes.map((c) => c.action === 'update' ? [c.kind, c.id, c.fields] : []), [
      ['organization', 1, [{ field: 'country', before: 'BE', after: 'NL' }]],
      ['collaboration', 1, [{ field: 'encrypted', before: true, after: false }, { field: 'members', added: ['C'], removed: ['B'] }]],
      ['user', 9, [{ field: 'roles', added: ['Researcher'], removed: ['Viewer'] }]],
    ]);
    assert.deepEqual(plan.summary, { add: 0, change: 3, destroy: 0 });
  });

  it('never compares passwords and never touches built-in roles', () => {
    const desired: DesiredState = {
      ...EMPTY,
      organizations: [org('A')],
      users: [{ username: 'u', organization: 'A', firstname: null, lastname: null, email: null, enabled: true, roles: [{ name: 'Root', organization: null }], rules: [], password: { from: 'env', variable: 'PW' } }],
    };
    const base = freshState();
    // A server that rewrote a built-in role's rules: not fedctl's business.
    const state: LiveState = {
      ...base,
      roles: base.roles.map((r) => (r.name === 'Viewer' ? { ...r, rules: [] } : r)),
      organizations: [{ ...org('A'), id: 1 }],
      users: [{ id: 2, username: 'u', organization: 'A', firstname: null, lastname: null, email: null, enabled: true, roles: [{ name: 'Root', organization: null }], rules: [] }],
    };
    const plan = computePlan(desired, state, DATABASE);
    assert.deepEqual(plan.changes, []);
    assert.deepEqual(plan.unmanaged, []);
  });

  it('manages the oldest of duplicate nodes and reports the others as unmanaged', () => {
    const desired: DesiredState = {
      ...EMPTY,
      organizations: [org('A')],
      collaborations: [{ name: 'C', encrypted: true, members: ['A'] }],
      nodes: [{ organization: 'A', collaboration: 'C', name: 'n' }],
    };
    const state = live({
      organizations: [{ ...org('A'), id: 1 }],
      collaborations: [{ id: 1, name: 'C', encrypted: true, members: ['A'] }],
      nodes: [{ id: 7, name: 'n-copy', organization: 'A', collaboration: 'C' }, { id: 5, name: 'n', organization: 'A', collaboration: 'C' }],
    });
    const plan = computePlan(desired, state, DATABASE);
    assert.deepEqual(plan.changes, []);
    assert.deepEqual(plan.unmanaged, [{ kind: 'node', address: 'n-copy' }]);
  });

  it('refuses a config that needs rules the database lacks, or a node name taken by another node', () => {
    const base = freshState();
    const desired: DesiredState = { ...EMPTY, roles: [{ name: 'R', organization: null, description: null, rules: ['node:GLOBAL:VIEW'] }] };
    assert.throws(() => computePlan(desired, { ...base, rules: base.rules.filter((r) => r.key !== 'node:GLOBAL:VIEW') }, DATABASE),
      /rule node:GLOBAL:VIEW is not in the database's rule catalogue/);
    const nodes: DesiredState = {
      ...EMPTY,
      organizations: [org('A')],
      collaborations: [{ name: 'C', encrypted: true, members: ['A'] }],
      nodes: [{ organization: 'A', collaboration: 'C', name: 'taken' }],
    };
    assert.throws(() => computePlan(nodes, live({ nodes: [{ id: 3, name: 'taken', organization: 'B', collaboration: 'D' }] }), DATABASE),
      /node name "taken" is taken by another node \(id 3\)/);
  });

  it('refuses the changes a backend states it cannot make, and grants of rules fedctl\'s account does not hold, with their reasons', () => {
    const user = (username: string, organization: string, extra: Partial<DesiredState['users'][number]> = {}): DesiredState['users'][number] => ({
      username, organization, firstname: null, lastname: null, email: `${username}@x.org`, enabled: true, roles: [], rules: [], password: { from: 'generate' }, ...extra,
    });
    const desired: DesiredState = {
      ...EMPTY,
      organizations: [org('A'), org('B')],
      roles: [{ name: 'Global', organization: null, description: null, rules: ['node:GLOBAL:VIEW'] }, { name: 'Local', organization: 'B', description: null, rules: ['node:ORGANIZATION:VIEW'] }],
      users: [
        user('ok', 'A'),
        user('no-mail', 'A', { email: null }),
        user('foreign', 'A', { roles: [{ name: 'Local', organization: 'B' }] }),
        user('too-much', 'A', { roles: [{ name: 'Root', organization: null }] }),
        user('moved', 'B'),
      ],
    };
    const base = live({
      organizations: [{ ...org('A'), id: 1 }, { ...org('B'), id: 2 }],
      users: [{ id: 10, username: 'moved', organization: 'A', firstname: null, lastname: null, email: 'moved@x.org', enabled: true, roles: [], rules: [] }],
    });
    const limited: LiveState = {
      ...base,
      server: {
        ...base.server,
        grantable: ['node:GLOBAL:VIEW', 'node:ORGANIZATION:VIEW'],
        limits: [
          { kind: 'user', change: 'create', lacking: 'email', reason: 'needs e-mail' },
          { kind: 'user', change: 'create', foreignRoles: true, reason: 'own roles only' },
          { kind: 'user', change: { field: 'organization' }, reason: 'cannot move' },
          { kind: 'role', change: 'create', lacking: 'organization', reason: 'needs an organization' },
        ],
      },
    };
    const plan = computePlan(desired, limited, DATABASE);
    assert.deepEqual(plan.blocked.map((b) => `${b.action} ${b.kind} ${b.address}: ${b.reason}`), [
      'create role Global: needs an organization',
      'create user foreign: own roles only: role "Local" of "B" is not of the user\'s organization "A"',
      'update user moved: cannot move',
      'create user no-mail: needs e-mail',
      'create user too-much: fedctl\'s account does not hold collaboration: delete (collaboration), collaboration: edit (collaboration), '
        + 'collaboration: create (global), collaboration: delete (global), collaboration: edit (global) and 79 more, '
        + 'and vantage6 lets an account grant only the rules it holds',
    ]);
    assert.deepEqual(plan.changes.map((c) => `${c.action} ${c.kind} ${c.address}`), ['create role Local (B)', 'create user ok']);
    // Without limits and with any grant allowed, the same desired state plans all of it.
    assert.equal(computePlan(desired, base, DATABASE).blocked.length, 0);
  });

  it('through the API, refuses the names the API refuses: over 128 characters as Python counts them, or digits of any script', () => {
    // A name the API takes, whose node's default name it does not.
    const long = `${'Universitätsklinikum '.repeat(5)}Kiel`;
    const desired: DesiredState = {
      ...EMPTY,
      // 128 emoji are 256 UTF-16 units and still a name the API takes; 129 are not.
      organizations: [org('🧬'.repeat(128)), org('🧬'.repeat(129)), org('2024'), org('١٢٣'), org('A'), org(long)],
      collaborations: [{ name: 'Colorectal Cancer Survival', encrypted: true, members: ['A', long] }],
      nodes: [
        { organization: 'A', collaboration: 'Colorectal Cancer Survival', name: 'A - Colorectal Cancer Survival Node' },
        { organization: long, collaboration: 'Colorectal Cancer Survival', name: `${long} - Colorectal Cancer Survival Node` },
      ],
    };
    const api: LiveState = { ...freshState(), server: { ...freshState().server, limits: apiLimits(15, 'root') } };
    const plan = computePlan(desired, api, DATABASE);
    assert.deepEqual(plan.blocked.map((b) => `${b.action} ${b.kind} ${b.address.slice(0, 12)}`), [
      'create organization 2024', 'create organization ١٢٣', `create organization ${'🧬'.repeat(6)}`, `create node ${long.slice(0, 12)}`,
    ]);
    assert.match(plan.blocked[3]?.reason ?? '', /refuses a name of more than 128 characters, or of digits only: give a shorter one \(for a node named by default, set node\.name\)/);
    // The database takes them all.
    assert.equal(computePlan(desired, freshState(), DATABASE).blocked.length, 0);
  });
});

describe('computePlan: algorithm store links', () => {
  const STORE = 'https://store.example.org/api';
  const collabs = ['Trial & Error', 'صحة القلب', '研究'].map((name, i) => ({ id: i + 1, name, encrypted: true, members: [] }));
  const desiredCollabs = collabs.map(({ name }) => ({ name, encrypted: true, members: [] }));
  const store = (collaborations: string[] | 'all', name = 'Community 🧪') => ({
    url: STORE, name, everyCollaboration: collaborations === 'all', collaborations: collaborations === 'all' ? [] : [...collaborations].sort(),
  });
  const liveStore = (rows: (string | null)[], name = 'Community 🧪') => ({
    ...store(rows.includes(null) ? 'all' : rows as string[], name), id: 10, rows: rows.map((collaboration, i) => ({ id: 10 + i, collaboration })),
  });
  const through = (limits: LiveState['server']['limits'], extra: Partial<LiveState>): LiveState => {
    const state = live({ collaborations: collabs, ...extra });
    return { ...state, server: { ...state.server, limits } };
  };

  it('links, relinks and renames as field changes of the store, in the config\'s names of collaborations', () => {
    const desired: DesiredState = { ...EMPTY, collaborations: desiredCollabs, algorithmStores: [store(['صحة القلب', '研究'], 'Gemeenschap')] };
    const none = computePlan(desired, through([], {}), DATABASE);
    assert.deepEqual(none.changes.map((c) => [c.action, c.kind, c.address]), [['create', 'algorithm_store', STORE]]);
    const plan = computePlan(desired, through([], { algorithmStores: [liveStore(['Trial & Error', 'صحة القلب'])] }), DATABASE);
    assert.deepEqual(plan.changes.map((c) => (c.action === 'update' ? c.fields : null)), [[
      { field: 'name', before: 'Community 🧪', after: 'Gemeenschap' },
      { field: 'collaborations', added: ['研究'], removed: ['Trial & Error'] },
    ]]);
    const every = computePlan({ ...desired, algorithmStores: [store('all')] }, through([], { algorithmStores: [liveStore(['Trial & Error'])] }), DATABASE);
    assert.deepEqual(every.changes.map((c) => (c.action === 'update' ? c.fields : null)), [[{ field: 'everyCollaboration', before: false, after: true }]]);
    // A renamed collaboration is the same collaboration to the store.
    const renamed: DesiredState = {
      ...EMPTY, collaborations: [{ name: 'Trial & Success', encrypted: true, members: [] }], algorithmStores: [store(['Trial & Success'])],
      previousNames: { collaboration: { 'Trial & Success': ['Trial & Error'] } },
    };
    const afterRename = computePlan(renamed, through([], { collaborations: [collabs[0] as LiveState['collaborations'][number]], algorithmStores: [liveStore(['Trial & Error'])] }), DATABASE);
    assert.deepEqual(afterRename.changes.map((c) => [c.kind, c.action]), [['collaboration', 'update']]);
  });

  it('leaves a store out of the config alone unless pruned, and unlinks it before the collaborations it served are deleted', () => {
    const state = through([], { algorithmStores: [liveStore(['Trial & Error'])] });
    const kept = computePlan({ ...EMPTY, collaborations: desiredCollabs }, state, DATABASE);
    assert.deepEqual(kept.unmanaged, [{ kind: 'algorithm_store', address: STORE }]);
    // Pruning the collaboration alone would leave the store serving a collaboration that is gone.
    const collabOnly = computePlan({ ...EMPTY, collaborations: desiredCollabs.slice(1) }, state, DATABASE, { prune: { ...NO_PRUNING, collaboration: true }, rotateNodeKeys: [], resetPasswords: [], targets: null });
    assert.match(collabOnly.blocked[0]?.reason ?? '', /algorithm store https:\/\/store\.example\.org\/api still serves it/);
    const both = computePlan({ ...EMPTY, collaborations: desiredCollabs.slice(1) }, state, DATABASE,
      { prune: { ...NO_PRUNING, collaboration: true, algorithm_store: true }, rotateNodeKeys: [], resetPasswords: [], targets: null });
    assert.deepEqual(both.blocked, []);
    assert.deepEqual(both.changes.map((c) => `${c.action} ${c.kind}`), ['delete algorithm_store', 'delete collaboration']);
  });

  it('refuses, in a database, linking and unlinking (the server calls the store), and allows the rest', () => {
    const database = freshState().server.limits;
    const linking = computePlan({ ...EMPTY, collaborations: desiredCollabs, algorithmStores: [store(['研究'])] }, through(database, {}), DATABASE);
    assert.deepEqual(linking.changes.map((c) => c.kind), []);
    assert.match(linking.blocked[0]?.reason ?? '', /^linking a store makes the server whitelist itself at the store, which the server's database cannot do/);
    const moving = computePlan({ ...EMPTY, collaborations: desiredCollabs, algorithmStores: [store('all', 'Other')] }, through(database, { algorithmStores: [liveStore(['研究'])] }), DATABASE);
    assert.deepEqual([moving.changes.length, moving.blocked], [1, []]);
  });
});

describe('computePlan: a store\'s own roles and users', () => {
  const STORE = 'https://store.example.org/api';
  const managed: DesiredState['managedStores'] = [{ url: STORE, users: true, roles: true, policies: false }];
  const approver = { store: STORE, name: 'Approver ✓', description: 'Approves & publishes', rules: ['review:edit', 'review:view'] };
  const stores = (extra: Partial<LiveState>): LiveState => live({
    storeRoles: [{ store: STORE, id: 1, name: 'Reviewer', description: 'Review', rules: ['review:view'], isDefault: true }], ...extra,
  });

  it('creates and updates roles and users by store and name; built-in roles are only referenced', () => {
    const desired: DesiredState = { ...EMPTY, managedStores: managed, storeRoles: [approver], storeUsers: [{ store: STORE, username: 'anna', roles: ['Approver ✓', 'Reviewer'] }] };
    const created = computePlan(desired, stores({}), DATABASE);
    assert.deepEqual(created.changes.map((c) => `${c.action} ${c.kind} ${c.address}`), [
      `create store_role Approver ✓ (${STORE})`, `create store_user anna (${STORE})`,
    ]);
    const drifted = computePlan(desired, stores({
      storeRoles: [{ store: STORE, id: 1, name: 'Reviewer', description: 'Review', rules: ['review:view'], isDefault: true }, { ...approver, id: 2, rules: ['review:view'], isDefault: false }],
      storeUsers: [{ store: STORE, id: 5, username: 'anna', roles: ['Approver ✓'] }],
    }), DATABASE);
    assert.deepEqual(drifted.changes.map((c) => (c.action === 'update' ? [c.kind, c.fields] : null)), [
      ['store_role', [{ field: 'rules', added: ['review:edit'], removed: [] }]],
      ['store_user', [{ field: 'roles', added: ['Reviewer'], removed: [] }]],
    ]);
  });

  it('prunes users and roles of a managed store only when asked, never fedctl\'s own account nor a built-in role', () => {
    const state = stores({
      storeRoles: [{ store: STORE, id: 1, name: 'Reviewer', description: null, rules: [], isDefault: true }, { ...approver, id: 2, isDefault: false }],
      storeUsers: [{ store: STORE, id: 5, username: 'omar', roles: [] }, { store: STORE, id: 6, username: 'root', roles: ['Root'], account: true }],
    });
    const desired: DesiredState = { ...EMPTY, managedStores: managed };
    const kept = computePlan(desired, state, DATABASE);
    assert.deepEqual(kept.unmanaged.map((u) => [u.kind, u.address, u.account ?? false]), [
      ['store_role', `Approver ✓ (${STORE})`, false], ['store_user', `omar (${STORE})`, false], ['store_user', `root (${STORE})`, true],
    ]);
    const pruned = computePlan(desired, state, DATABASE, { prune: { ...NO_PRUNING, store_role: true, store_user: true }, rotateNodeKeys: [], resetPasswords: [], targets: null });
    assert.deepEqual(pruned.changes.map((c) => `${c.action} ${c.kind} ${c.address}`), [`delete store_user omar (${STORE})`, `delete store_role Approver ✓ (${STORE})`]);
    // A store whose users the config does not list: its users are not fedctl's to prune.
    const rolesOnly = computePlan({ ...desired, managedStores: [{ url: STORE, users: false, roles: true, policies: false }], storeRoles: [approver] }, state, DATABASE,
      { prune: { ...NO_PRUNING, store_user: true }, rotateNodeKeys: [], resetPasswords: [], targets: null });
    assert.deepEqual(rolesOnly.changes, []);
  });
});

describe('the plan\'s JSON of stores', () => {
  it('is valid against schemas/plan.schema.json, for links and for a store\'s roles and users', async () => {
    const { Ajv2020 } = await import('ajv/dist/2020.js');
    const { readFileSync } = await import('node:fs');
    const validate = new Ajv2020({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(new URL('../../schemas/plan.schema.json', import.meta.url), 'utf8')) as object);
    const STORE = 'https://store.example.org/api';
    const desired: DesiredState = {
      ...EMPTY, collaborations: [{ name: 'C', encrypted: true, members: [] }],
      algorithmStores: [{ url: STORE, name: 'S', everyCollaboration: false, collaborations: ['C'] }],
      managedStores: [{ url: STORE, users: true, roles: true, policies: false }],
      storeRoles: [{ store: STORE, name: 'Approver', description: null, rules: ['review:edit'] }],
      storeUsers: [{ store: STORE, username: 'anna', roles: ['Approver'] }],
    };
    const plan = computePlan(desired, live({
      storeUsers: [{ store: STORE, id: 3, username: 'anna', roles: [] }],
    }), DATABASE);
    // The link itself is refused in a database (blocked); the store's roles and users are planned.
    assert.deepEqual(plan.changes.map((c) => `${c.action} ${c.kind}`), ['create collaboration', 'create store_role', 'update store_user']);
    assert.deepEqual(plan.blocked.map((b) => `${b.action} ${b.kind}`), ['create algorithm_store']);
    assert.ok(validate(JSON.parse(JSON.stringify(plan))), JSON.stringify(validate.errors));
  });
});

describe('store policies', () => {
  const STORE = 'https://store.example.org/api';
  const desired: DesiredState = {
    ...EMPTY, managedStores: [{ url: STORE, users: false, roles: false, policies: true }],
    storePolicies: [{ store: STORE, policies: { algorithm_view: 'private', min_reviewers: 1, allowed_servers: ['https://v6.example.org/api'] } }],
  };

  it('differ where the store says otherwise, or does not say them', () => {
    const plan = computePlan(desired, live({ storePolicies: [{ store: STORE, policies: { algorithm_view: 'public', allowed_servers: ['https://v6.example.org/api'] } }] }), DATABASE);
    assert.deepEqual(plan.policyDrift, [
      { store: STORE, policy: 'algorithm_view', live: 'public', config: 'private' },
      { store: STORE, policy: 'min_reviewers', live: null, config: 1 },
    ]);
  });

  it('of a store that showed only its public ones (a 4.x store not linked yet) differ only where it showed them', () => {
    const plan = computePlan(desired, live({ storePolicies: [{ store: STORE, policies: { algorithm_view: 'public', allowed_servers: ['https://v6.example.org/api'] }, onlyPublic: true }] }), DATABASE);
    assert.deepEqual(plan.policyDrift, [{ store: STORE, policy: 'algorithm_view', live: 'public', config: 'private' }]);
  });
});

describe('identity providers and sign-ins (vantage6 5)', () => {
  const provider = (fields: Partial<IdentityProvider> = {}): IdentityProvider => ({
    alias: 'umc-entra', type: 'oidc', displayName: 'UMC & Co', metadata: 'https://login.example.org/.well-known/openid-configuration', clientId: 'v6',
    clientSecret: '${UMC_SECRET}', organizations: ['UMC'], required: false, fills: [], onLoginPage: true, enabled: true, drift: [], ...fields,
  });
  const user = { username: 'anna', organization: 'UMC', firstname: null, lastname: null, email: null, enabled: true, roles: [], rules: [] };
  const hq = (extra: Partial<LiveState>): LiveState => ({ ...live(extra), server: { ...freshState().server, limits: apiLimits(HQ_MINOR, 'fedctl') } });

  it('makes a provider and a user who signs in through it, whom HQ makes without a password from the config', () => {
    const desired: DesiredState = { ...EMPTY, organizations: [org('UMC')], identityProviders: [provider()], users: [{ ...user, password: null, signIn: { provider: 'umc-entra', subject: 'Ω-1' } }] };
    const plan = computePlan(desired, hq({ organizations: [{ ...org('UMC'), id: 1 }], identityProviders: [] }), DATABASE);
    assert.deepEqual(plan.blocked, []);
    assert.deepEqual(plan.changes.map((c) => `${c.action} ${c.kind} ${c.address}`), ['create user anna', 'create identity_provider umc-entra']);
  });

  it('plans a provider\'s fields, organizations (in the config\'s names after a rename) and drift; a relink and the password removed; prunes the rest', () => {
    const desired: DesiredState = {
      ...EMPTY, organizations: [org('UMC')], previousNames: { organization: { UMC: ['UMC old'] } },
      identityProviders: [provider()], users: [{ ...user, password: null, signIn: { provider: 'umc-entra', subject: 'Ω-2' } }],
      prune: { ...NO_PRUNING, identity_provider: true },
    };
    const state = hq({
      organizations: [{ ...org('UMC old'), id: 1 }],
      users: [{ ...user, organization: 'UMC old', id: 4, signIn: { provider: 'umc-entra', subject: 'Ω-1' }, holdsPassword: true }],
      identityProviders: [
        { ...provider({ onLoginPage: false, clientSecret: '(another secret)', organizations: ['UMC old'], drift: ['trustEmail="true" (should be "false")'] }), id: 1 },
        { ...provider({ alias: 'google' }), id: 2 },
      ],
    });
    const plan = computePlan(desired, state, DATABASE, { ...DEFAULT_PLAN_OPTIONS, prune: desired.prune });
    assert.deepEqual(plan.blocked, [], 'the password is removed in Keycloak, which the API\'s limits do not cover');
    const byAddress = new Map(plan.changes.map((c) => [`${c.action} ${c.address}`, c.action === 'update' ? c.fields : null]));
    assert.deepEqual(byAddress.get('update umc-entra'), [
      { field: 'clientSecret', before: '(another secret)', after: '${UMC_SECRET}' },
      { field: 'onLoginPage', before: false, after: true },
      { field: 'drift', added: [], removed: ['trustEmail="true" (should be "false")'] },
    ]);
    assert.deepEqual(byAddress.get('update anna'), [
      { field: 'sign_in', before: 'umc-entra: Ω-1', after: 'umc-entra: Ω-2' },
      { field: 'password', secret: 'remove' },
    ]);
    assert.ok(byAddress.has('delete google'));
  });

  it('leaves users and providers alone where Keycloak was not read', () => {
    const desired: DesiredState = { ...EMPTY, organizations: [org('UMC')], users: [{ ...user, password: null }] };
    assert.deepEqual(computePlan(desired, hq({ organizations: [{ ...org('UMC'), id: 1 }], users: [{ ...user, id: 4 }] }), DATABASE).changes, []);
  });
});
