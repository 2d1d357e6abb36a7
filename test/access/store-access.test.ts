import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { formatDiagnostic } from '../../src/diagnostic.js';
import { loadConfig } from '../../src/config/load-config.js';
import { validateConfig } from '../../src/config/validate-config.js';
import type { DesiredState } from '../../src/federation.js';
import type { PlanTarget } from '../../src/plan/compute-plan.js';
import { planRefusals, type AccessChangeGroup } from '../../src/plan/plan.js';
import { storeCatalog } from '../../src/catalog/store-catalog.js';
import { freshState } from '../../src/state/fresh-state.js';
import type { LiveState } from '../../src/state/live-state.js';
import { assessedPlan } from '../helpers/small-federations.js';
import { runCli } from '../helpers/run-cli.js';

const API: PlanTarget = { engine: 'api', display: 'https://v6.example.org/api', initialize: false };
const STORE = 'https://store.example.org/api';
const OTHER = 'https://أدوات.example.org/api';
const dir = mkdtempSync(path.join(os.tmpdir(), 'fedctl-store-access-'));
let counter = 0;

/** Users of every script; a store whose roles and users the config manages, and one whose users only. */
const CONFIG = `vantage6: "4.15"
organizations:
  - name: "Zorg & Co!"
  - name: 病院 "東"
collaborations:
  - name: "Trial #1 🧪"
    members: [{organization: "Zorg & Co!", node: false}, {organization: 病院 "東", node: false}]
  - name: Other
    members: [{organization: 病院 "東", node: false}]
users:
  - username: anna
    organization: "Zorg & Co!"
  - username: "lotte.obrien"
    organization: 病院 "東"
algorithm_stores:
  - url: ${STORE}
    name: Community "store" & co
    collaborations: ["Trial #1 🧪"]
    roles:
      - name: Approver   # reviews, and nothing else
        rules: [{resource: review, operation: [edit, view]}]
    users:
      - username: anna
        roles: [Reviewer]
      - username: "lotte.obrien"
        roles: [Approver, Developer]
  - url: ${OTHER}
    name: مخزن
    collaborations: all
    users:
      - username: "lotte.obrien"
        roles: [Reviewer]
      - username: dana   # known only at the store
        roles: [Store Manager]
`;

function write(text: string): string {
  const file = path.join(dir, `case-${++counter}.yaml`);
  writeFileSync(file, text);
  return file;
}

async function validate(text: string): Promise<{ lines: string[]; desired: DesiredState | null }> {
  const result = validateConfig(await loadConfig([write(text)]), {});
  return { lines: result.diagnostics.map(formatDiagnostic), desired: result.desired };
}

describe('fedctl access at the algorithm stores', () => {
  it('shows what a user may do at each store, through which store roles', async () => {
    const result = await runCli(['access', write(CONFIG), '--user', "lotte.obrien", '--json'], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    const [report] = (JSON.parse(result.stdout) as { users: { roles: string[]; permissions: { resource: string; operation: string; scope: string; on: string[]; via: string[] }[] }[] }).users;
    const stores = report?.permissions.filter((p) => p.scope === 'store') ?? [];
    assert.deepEqual(stores.filter((p) => p.resource === 'store.review'), [
      { resource: 'store.review', operation: 'edit', scope: 'store', on: ['store "Community \\"store\\" & co"'], via: ['Approver'] },
      { resource: 'store.review', operation: 'view', scope: 'store', on: ['store "Community \\"store\\" & co"'], via: ['Approver', 'Developer'] },
      { resource: 'store.review', operation: 'edit', scope: 'store', on: ['store "مخزن"'], via: ['Reviewer'] },
      { resource: 'store.review', operation: 'view', scope: 'store', on: ['store "مخزن"'], via: ['Reviewer'] },
    ]);
    assert.ok(stores.some((p) => p.resource === 'store.algorithm' && p.operation === 'create'), 'a Developer publishes algorithms');
    assert.ok(report?.roles.includes('Approver at store "Community \\"store\\" & co"'));
  });

  it('answers who can approve what a collaboration can run: the reviewers at the stores linked to it', async () => {
    const config = write(CONFIG);
    const linked = await runCli(['access', config, '--who-can', 'store.review:edit', '--on', 'Trial #1 🧪', '--json'], { cwd: dir });
    assert.equal(linked.code, 0, linked.stderr);
    const holders = (JSON.parse(linked.stdout) as { users: { username: string; on: string[] }[] }).users;
    assert.deepEqual(holders.map((h) => [h.username, h.on]), [
      ['anna', ['store "Community \\"store\\" & co"']],
      ["lotte.obrien", ['store "Community \\"store\\" & co"', 'store "مخزن"']],
    ]);
    const other = await runCli(['access', config, '--who-can', 'store.review:edit', '--on', 'Other', '--no-color'], { cwd: dir });
    assert.match(other.stdout, /^1 user can edit store\.review on "Other"\./);
    assert.match(other.stdout, /lotte\.obrien .* Reviewer +store "مخزن"/);
    const both = await runCli(['access', config, '--who-can', 'store.review:edit', '--no-color'], { cwd: dir });
    assert.match(both.stdout, /lotte\.obrien .* Approver at store "Community \\"store\\" & co", Reviewer at store "مخزن"/);
    const managers = await runCli(['access', config, '--who-can', 'store.user:create', '--json'], { cwd: dir });
    assert.deepEqual((JSON.parse(managers.stdout) as { users: { username: string; organization: string | null }[] }).users, [
      { username: 'dana', organization: null, scope: 'store', on: ['store "مخزن"'], via: ['Store Manager'] },
    ]);
  });

  it('counts as reviewers at a store only those its allowed_reviewers policy lists, when it lists any', async () => {
    const assigning = CONFIG.replace('roles: [Reviewer]\n      - username: "lotte.obrien"', 'roles: [Reviewer, Algorithm Manager]\n      - username: "lotte.obrien"');
    const listed = write(assigning.replace('    roles:\n      - name: Approver', '    policies: { allowed_reviewers: [anna], allowed_review_assigners: [] }\n    roles:\n      - name: Approver'));
    const who = await runCli(['access', listed, '--who-can', 'store.review:edit', '--on', 'Trial #1 🧪', '--json'], { cwd: dir });
    assert.equal(who.code, 0, who.stderr);
    assert.deepEqual((JSON.parse(who.stdout) as { users: { username: string; on: string[] }[] }).users.map((h) => [h.username, h.on]), [
      ['anna', ['store "Community \\"store\\" & co"']],
      ['lotte.obrien', ['store "مخزن"']],
    ]);
    // An empty list: no one of the server assigns reviews there, whatever their roles (anna's Algorithm Manager would).
    const assigners = async (file: string): Promise<unknown[]> =>
      (JSON.parse((await runCli(['access', file, '--who-can', 'store.review:create', '--on', 'Community "store" & co', '--json'], { cwd: dir })).stdout) as { users: { username: string }[] }).users.map((u) => u.username);
    assert.deepEqual(await assigners(write(assigning)), ['anna']);
    assert.deepEqual(await assigners(listed), []);
  });

  it('refuses questions about stores that do not exist, with the closest', async () => {
    const config = write(CONFIG);
    const store = await runCli(['access', config, '--who-can', 'store.review:edit', '--on', 'Community'], { cwd: dir });
    assert.equal(store.code, 1);
    assert.match(store.stderr, /there is no algorithm store or collaboration "Community"/);
    assert.match(store.stderr, /did you mean "Community \\"store\\" & co"\?/);
    const resource = await runCli(['access', config, '--who-can', 'store.reviews:edit'], { cwd: dir });
    assert.equal(resource.code, 1);
    assert.match(resource.stderr, /did you mean "store\.review"\?/);
    const operation = await runCli(['access', config, '--who-can', 'store.review:send'], { cwd: dir });
    assert.match(operation.stderr, /no rule lets anyone send store\.review/);
  });
});

/** The live state as an apply of CONFIG leaves it: the server's entities, the stores' built-in and own roles, and their users. */
function liveFrom(desired: DesiredState): LiveState {
  let id = 0;
  const builtIn = storeCatalog('4.15').defaultRoles;
  return {
    ...freshState(),
    organizations: desired.organizations.map((o) => ({ ...o, id: ++id })),
    collaborations: desired.collaborations.map((c) => ({ ...c, id: ++id })),
    users: desired.users.map(({ password: _, ...u }) => ({ ...u, id: ++id })),
    algorithmStores: desired.algorithmStores.map((st) => {
      const rows = (st.everyCollaboration ? [null] : st.collaborations).map((collaboration) => ({ id: ++id, collaboration }));
      return { ...st, id: rows[0]?.id ?? ++id, rows };
    }),
    storeRoles: [
      ...desired.managedStores.flatMap(({ url }) => builtIn.map((r) => ({ store: url, name: r.name, description: r.description, rules: r.rules, id: ++id, isDefault: true }))),
      ...desired.storeRoles.map((r) => ({ ...r, id: ++id, isDefault: false })),
    ],
    storeUsers: desired.storeUsers.map((u) => ({ ...u, id: ++id })),
  };
}

describe('a plan\'s access review at the algorithm stores', () => {
  const setUp = async (): Promise<{ before: DesiredState; live: LiveState }> => {
    const before = (await validate(CONFIG)).desired;
    assert.ok(before);
    return { before, live: liveFrom(before) };
  };

  it('plans no access change when the stores hold what the config says', async () => {
    const { before, live } = await setUp();
    const plan = assessedPlan(before, live, API);
    assert.deepEqual(plan.changes, []);
    assert.equal(plan.access, undefined);
  });

  it('says who gains review and store management, at which store, and why', async () => {
    const { live } = await setUp();
    const after = (await validate(CONFIG
      .replace('roles: [Reviewer]\n      - username: "lotte.obrien"', 'roles: [Reviewer, Store Manager]\n      - username: "lotte.obrien"')
      .replace('rules: [{resource: review, operation: [edit, view]}]', 'rules: [{resource: review, operation: view}]'))).desired;
    assert.ok(after);
    const plan = assessedPlan(after, live, API);
    const groups = plan.access?.groups ?? [];
    const anna = groups.find((g) => g.users.includes('anna')) as AccessChangeGroup;
    assert.equal(anna.notable, true, 'managing a store\'s users and roles stands out');
    assert.deepEqual(anna.gains.map((g) => `${g.resource}:${g.operation} ${g.on.join()}`), [
      'store.role:create store "Community \\"store\\" & co"', 'store.role:delete store "Community \\"store\\" & co"', 'store.role:edit store "Community \\"store\\" & co"',
      'store.user:create store "Community \\"store\\" & co"', 'store.user:delete store "Community \\"store\\" & co"', 'store.user:edit store "Community \\"store\\" & co"',
    ]);
    assert.deepEqual(anna.causes, ['their store roles at "Community \\"store\\" & co" + "Store Manager"']);
    const obrien = groups.find((g) => g.users.includes("lotte.obrien")) as AccessChangeGroup;
    assert.deepEqual(obrien.losses, [{ resource: 'store.review', operation: 'edit', scope: 'store', on: ['store "Community \\"store\\" & co"'] }]);
    assert.deepEqual(obrien.gains, []);
    assert.deepEqual(obrien.causes, ['store role "Approver" at "Community \\"store\\" & co": rules - "review:edit"']);
  });

  it('refuses a plan that gives more users review than a guardrail allows, counting those the config leaves alone', async () => {
    const { live } = await setUp();
    // A reviewer made in the store's UI, whom the config does not prune.
    const eve = { store: OTHER, username: 'eve', roles: ['Reviewer'], id: 9999 };
    const guarded = `${CONFIG}policy:
  guardrails:
    - name: few reviewers
      rules: {resource: store.review, operation: edit}
      at_most: 3
`;
    const after = (await validate(guarded.replace('- username: dana   # known only at the store\n        roles: [Store Manager]', '- username: dana\n        roles: [Reviewer]'))).desired;
    assert.ok(after);
    const plan = assessedPlan(after, { ...live, storeUsers: [...live.storeUsers, eve] }, API);
    assert.deepEqual(plan.violations?.map((v) => [v.guardrail, v.users, v.causes]), [
      ['few reviewers', ['dana'], ['their store roles at "مخزن" + "Reviewer", - "Store Manager"']],
    ]);
    assert.match(plan.violations?.[0]?.breach ?? '', /making 4 users who do; at most 3 may/);
    assert.equal(planRefusals(plan, false).length, 1);
  });
});

describe('guardrails on store roles in validate', () => {
  const guard = (guardrails: string): string => `${CONFIG}policy:\n  guardrails:\n${guardrails}`;

  it('finds users holding a store rule outside the allowed store roles, at their lines', async () => {
    const { lines, desired } = await validate(guard(`    - name: only approvers approve
      rules: {resource: store.review, operation: edit}
      only: {roles: [Approver]}
`));
    assert.equal(desired, null);
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.match(lines[0] ?? '', /case-\d+\.yaml:11:5 users\[0\]: breaks guardrail "only approvers approve": holds store\.review: edit at store "Community \\"store\\" & co" through store role "Reviewer" \(only store role "Approver" may/);
    assert.match(lines[1] ?? '', /users\[1\]: .*store\.review: edit at store "مخزن" through store role "Reviewer"/);
  });

  it('counts the users holding a store rule at any store', async () => {
    const { lines } = await validate(guard(`    - name: one reviewer
      rules: {resource: store.review, operation: edit}
      at_most: 1
`));
    assert.deepEqual(lines.map((l) => l.replace(/^\S+ /, '')), [
      'policy.guardrails[0]: breaks guardrail "one reviewer": 2 users hold a rule of store.review: edit at a store, at most 1 may: "anna", "lotte.obrien" (take the rules from some of them, or raise at_most)',
    ]);
    const fine = await validate(guard(`    - name: two reviewers
      rules: {resource: store.review, operation: edit}
      at_most: 2
`));
    assert.deepEqual(fine.lines, []);
  });

  it('refuses a guardrail mixing the server\'s rules and the stores\', or giving store rules a scope', async () => {
    const mixed = await validate(guard(`    - name: mixed
      rules: {resource: [store.review, task]}
      at_most: 1
`));
    assert.match(mixed.lines.join('\n'), /rules\.resource: a guardrail is about the server's rules or the stores', not both/);
    const scoped = await validate(guard(`    - name: scoped
      rules: {resource: store.review, scope: global}
      at_most: 1
`));
    assert.match(scoped.lines.join('\n'), /rules\.scope: a store's rules have no scope/);
    const unknown = await validate(guard(`    - name: typo
      rules: {resource: store.review}
      only: {roles: [Aprover]}
`));
    assert.match(unknown.lines.join('\n'), /warning: policy\.guardrails\[0\]\.only\.roles\[0\]: no store role of the config is named "Aprover" \(did you mean "Approver"\?\)/);
  });
});
