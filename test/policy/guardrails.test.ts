import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { formatDiagnostic } from '../../src/diagnostic.js';
import { loadConfig } from '../../src/config/load-config.js';
import { validateConfig } from '../../src/config/validate-config.js';
import type { Guardrail } from '../../src/federation.js';
import type { PlanTarget } from '../../src/plan/compute-plan.js';
import { planRefusals } from '../../src/plan/plan.js';
import { assessedPlan, desiredOf, liveOf, type SmallFederation } from '../helpers/small-federations.js';

const DATABASE: PlanTarget = { engine: 'sqlite', display: 'sqlite:///test.sqlite', initialize: false };
const dir = mkdtempSync(path.join(os.tmpdir(), 'fedctl-guardrails-'));
let counter = 0;

async function validate(text: string): Promise<{ lines: string[]; valid: boolean }> {
  const file = path.join(dir, `case-${++counter}.yaml`);
  writeFileSync(file, text);
  const result = validateConfig(await loadConfig([file]), {});
  return { lines: result.diagnostics.map(formatDiagnostic), valid: result.desired !== null };
}

const CONFIG = `version: 1
organizations:
  - name: "Zorg & Co!"
  - name: MUMC
roles:
  - name: Root-ish   # a custom role with a global rule
    rules:
      - resource: user
        scope: global
        operation: [create, delete]
users:
  - username: anna
    organization: "Zorg & Co!"
    roles: [Root-ish]
  - username: bram
    organization: MUMC
    rules:
      - resource: task
        scope: global
        operation: delete
  - username: "lotte.obrien"
    organization: MUMC
    roles: [Researcher]
`;

describe('guardrails in validate', () => {
  it('accepts a config that keeps its guardrails', async () => {
    const result = await validate(`${CONFIG}policy:
  guardrails:
    - name: no global scope
      rules: { scope: global }
      only: { users: [bram], roles: [Root-ish] }
    - name: few task creators
      rules: { resource: task, operation: create }
      at_most: 1
`);
    assert.deepEqual(result.lines, []);
    assert.ok(result.valid);
  });

  it('names the user, the guardrail, the rule and how it is held, at the user\'s line', async () => {
    const result = await validate(`${CONFIG}policy:
  guardrails:
    - name: no global scope
      rules: { scope: global }
      only: { roles: [Root-ish] }
`);
    assert.equal(result.valid, false);
    assert.equal(result.lines.length, 1);
    assert.match(result.lines[0] ?? '', /case-\d+\.yaml:15:5 users\[1\]: breaks guardrail "no global scope": holds task: delete \(global\) through own rule/);
    assert.match(result.lines[0] ?? '', /only role "Root-ish" may \(guardrail at .*case-\d+\.yaml:26:7\)/);
  });

  it('counts holders, through built-in roles too, against at_most', async () => {
    const result = await validate(`${CONFIG}policy:
  guardrails:
    - name: one task creator
      rules: { resource: task, operation: create }
      at_most: 0
`);
    assert.equal(result.valid, false);
    assert.match(result.lines.join('\n'), /26:7 policy\.guardrails\[0\]: breaks guardrail "one task creator": 1 user holds a rule of task: create \(any scope\), at most 0 may: "lotte\.obrien" \(take the rules from some of them, or raise at_most\)/);
  });

  it('refuses guardrails that limit nothing or are declared twice', async () => {
    const result = await validate(`${CONFIG}policy:
  guardrails:
    - name: empty
      rules: {}
      at_most: 3
    - name: idle
      rules: { resource: task }
    - name: twice
      rules: { resource: task }
      at_most: 9
    - name: twice
      rules: { resource: run }
      at_most: 9
`);
    assert.equal(result.valid, false);
    assert.deepEqual(result.lines.map((line) => line.replace(/^\S*?case-\d+\.yaml/, '').replace(/\(already declared at \S*?case-\d+\.yaml/, '(already declared at ')), [
      ':27:14 policy.guardrails[0].rules: rules: {} matches every rule (name the resource, scope or operation of the rules the guardrail is about)',
      ':29:7 policy.guardrails[1]: guardrail "idle" limits nothing (add only: (who may hold its rules), at_most: (how many users may) or require: [two_factor] (what they must have))',
      ':34:13 policy.guardrails[3].name: duplicate guardrail "twice" (already declared at :31:13)',
    ]);
  });

  it('warns, without failing, about users and roles the config does not have, with what was meant', async () => {
    const result = await validate(`${CONFIG}policy:
  guardrails:
    - name: few
      rules: { resource: role, operation: delete }
      only: { users: [bramm, bram], roles: [Resercher] }
`);
    assert.equal(result.valid, true, result.lines.join('\n'));
    assert.equal(result.lines.length, 2);
    assert.match(result.lines[0] ?? '', /:28:23 .*warning.*"bramm" is not a user of the config.*did you mean "bram"/);
    assert.match(result.lines[1] ?? '', /"Resercher".*did you mean "Researcher"/);
  });

  it('rejects a misspelled scope with its location, by the schema', async () => {
    const result = await validate(`${CONFIG}policy:
  guardrails:
    - name: typo
      rules: { scope: globl }
      at_most: 1
`);
    assert.equal(result.valid, false);
    assert.match(result.lines.join('\n'), /case-\d+\.yaml:27:23 policy\.guardrails\[0\]\.rules\.scope: must be one of .*\(did you mean "global"\?\)/);
  });
});

const BASE: SmallFederation = {
  organizations: ['A', 'B'],
  collaborations: { C: ['A', 'B'] },
  roles: [{ name: 'Helpdesk', organization: 'A', rules: ['user:ORGANIZATION:EDIT'] }],
  users: [
    { username: 'a1', organization: 'A', roles: [{ name: 'Helpdesk', organization: 'A' }] },
    { username: 'a2', organization: 'A' },
    { username: 'b1', organization: 'B', rules: ['task:GLOBAL:VIEW'] },
  ],
};

const NO_GLOBAL: Guardrail = { name: 'no global scope', stores: false, rules: { scopes: ['GLOBAL'] }, only: { users: [], roles: [] } };
const USER_MANAGERS: Guardrail = { name: 'two user managers', stores: false, rules: { resources: ['user'], operations: ['CREATE', 'EDIT', 'DELETE'], scopes: ['ORGANIZATION', 'COLLABORATION', 'GLOBAL'] }, atMost: 2 };

function plan(after: SmallFederation, policy: readonly Guardrail[]) {
  return assessedPlan(desiredOf({ ...after, policy }), liveOf(BASE), DATABASE);
}

describe('guardrails in a plan', () => {
  it('a plan that keeps them has no violations, even where the database already broke one', () => {
    // b1's global rule is there before the plan and stays: not this plan's doing.
    const result = plan({ ...BASE, users: [...BASE.users, { username: 'a3', organization: 'A' }] }, [NO_GLOBAL, USER_MANAGERS]);
    assert.equal(result.violations, undefined);
    assert.deepEqual(planRefusals(result, false), []);
  });

  it('a rule newly held against `only` is a violation naming the users, the rule and the change, and the plan is refused', () => {
    const result = plan({ ...BASE, roles: [{ name: 'Helpdesk', organization: 'A', rules: ['user:ORGANIZATION:EDIT', 'user:GLOBAL:VIEW'] }] }, [NO_GLOBAL]);
    assert.deepEqual(result.violations, [{
      guardrail: 'no global scope', users: ['a1'],
      breach: 'would hold user: view (global) through role "Helpdesk (A)"; only nobody may',
      causes: ['role "Helpdesk (A)": rules + user: view (global)'],
    }]);
    assert.match(planRefusals(result, false).join('\n'), /breaks guardrail "no global scope"/);
  });

  it('more holders than at_most is a violation by the users the plan adds', () => {
    const result = plan({
      ...BASE,
      users: BASE.users.map((u) => (u.username === 'a1' ? u : { ...u, roles: [{ name: 'Helpdesk', organization: 'A' }] })),
    }, [USER_MANAGERS]);
    assert.equal(result.violations?.length, 1);
    assert.deepEqual(result.violations?.[0]?.users, ['a2', 'b1']);
    assert.match(result.violations?.[0]?.breach ?? '', /making 3 users who do; at most 2 may/);
  });

  it('a user named in `only` may hold the rule', () => {
    const result = plan({ ...BASE, users: BASE.users.map((u) => (u.username === 'a2' ? { ...u, rules: ['node:GLOBAL:VIEW'] as const } : u)) },
      [{ ...NO_GLOBAL, only: { users: ['a2'], roles: [] } }]);
    assert.ok(result.access);
    assert.equal(result.violations, undefined);
  });
});

describe('guardrails requiring two-factor authentication (vantage6 5)', () => {
  const TWO_FACTOR: Guardrail = { name: 'global needs a second factor', stores: false, rules: { scopes: ['GLOBAL'] }, require: ['two_factor'] };
  const HQ: PlanTarget = { engine: 'api', display: 'https://v6.example.org/hq', initialize: false };
  /** What Keycloak says: b1, holding a global rule already, has no second factor; nobody else does either. */
  const live = { ...liveOf(BASE), users: liveOf(BASE).users.map((u) => ({ ...u, twoFactor: false })) };
  const planOf = (after: SmallFederation) => assessedPlan(desiredOf({ ...after, policy: [TWO_FACTOR] }), live, HQ);

  it('refuses a plan giving a matching rule to a user without it, and takes one whose config requires it of them', () => {
    const gaining = { ...BASE, users: BASE.users.map((u) => (u.username === 'a2' ? { ...u, rules: ['node:GLOBAL:VIEW'] as const } : u)) };
    assert.deepEqual(planOf(gaining).violations, [{
      guardrail: 'global needs a second factor', users: ['a2'],
      breach: 'would hold a rule of any resource: any operation (global) without two-factor authentication; add configure_totp to their required_actions',
      causes: ['their rules + node: view (global)'],
    }]);
    // b1's breach is the live state's, which the plan leaves as it is: not this plan's.
    const required = planOf({ ...gaining, users: gaining.users.map((u) => (u.username === 'a2' ? { ...u, requiredActions: ['configure_totp'] as const } : u)) });
    assert.equal(required.violations, undefined);
    const a2 = required.changes.find((c) => c.address === 'a2');
    assert.deepEqual(a2?.action === 'update' ? a2.fields.find((f) => f.field === 'required_actions') : null, { field: 'required_actions', added: ['configure_totp'], removed: [] });
  });

  it('counts a new user as without it unless the config requires it of them, and one who has it as having it', () => {
    const newcomer = (extra: object) => ({ ...BASE, users: [...BASE.users, { username: 'نور', organization: 'A', rules: ['task:GLOBAL:VIEW'] as const, ...extra }] });
    assert.deepEqual(planOf(newcomer({})).violations?.map((v) => v.users), [['نور']]);
    assert.equal(planOf(newcomer({ requiredActions: ['configure_totp'] })).violations, undefined);
    const configured = { ...live, users: live.users.map((u) => (u.username === 'a2' ? { ...u, twoFactor: true } : u)) };
    const plan = assessedPlan(desiredOf({ ...BASE, users: BASE.users.map((u) => (u.username === 'a2' ? { ...u, rules: ['node:GLOBAL:VIEW'] as const } : u)), policy: [TWO_FACTOR] }), configured, HQ);
    assert.equal(plan.violations, undefined);
  });

  it('is an error at its line for a 4.x server, which keeps no user\'s second factor; taken for vantage6 5', async () => {
    const policy = 'policy:\n  guardrails:\n    - name: second factor\n      rules: { scope: global }\n      require: [two_factor]\n';
    const old = await validate(`vantage6: "4.15"\n${CONFIG}${policy}`);
    assert.equal(old.valid, false);
    assert.deepEqual(old.lines.map((l) => l.replace(/^.*?:(\d+:\d+) /, '$1 ')), [
      '29:16 policy.guardrails[0].require: vantage6 4.15 keeps no user\'s two-factor authentication for fedctl to check: vantage6 5 keeps it in Keycloak (a 4.x server requires it of every user with two_factor_auth: true in its configuration; remove require: here)',
    ]);
    const hq = await validate(`vantage6: "5.0"\n${CONFIG}${policy}`);
    assert.deepEqual(hq.lines, []);
  });
});
