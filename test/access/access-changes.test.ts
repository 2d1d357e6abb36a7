import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NO_PRUNING } from '../../src/federation.js';
import type { PlanTarget } from '../../src/plan/compute-plan.js';
import { DEFAULT_PLAN_OPTIONS } from '../../src/plan/plan-options.js';
import { planForOutput } from '../../src/plan/plan.js';
import { renderPlanText } from '../../src/render/render-plan-text.js';
import { assessedPlan, desiredOf, liveOf, type SmallFederation } from '../helpers/small-federations.js';

const DATABASE: PlanTarget = { engine: 'sqlite', display: 'sqlite:///test.sqlite', initialize: false };

const CHARITE = 'Charité "Berlin" & Co';
const OSLO = 'Oslo universitetssykehus';
const TOKYO = '東京大学 🏥';

/** Three hospitals: Charité and Oslo in "Colorectal", Oslo and Tokyo in "Lung!". */
const BASE: SmallFederation = {
  organizations: [CHARITE, OSLO, TOKYO],
  collaborations: { Colorectal: [CHARITE, OSLO], 'Lung!': [OSLO, TOKYO] },
  roles: [{ name: 'Analyst', organization: CHARITE, rules: ['task:COLLABORATION:VIEW'] }],
  users: [
    { username: 'anna', organization: CHARITE, roles: [{ name: 'Analyst', organization: CHARITE }] },
    { username: 'bram', organization: CHARITE, roles: [{ name: 'Analyst', organization: CHARITE }] },
    { username: 'ole', organization: OSLO, rules: ['task:COLLABORATION:VIEW'] },
    { username: 'kenji', organization: TOKYO, rules: ['task:COLLABORATION:VIEW'] },
  ],
};

function planFrom(before: SmallFederation, after: SmallFederation) {
  return assessedPlan(desiredOf(after), liveOf(before), DATABASE);
}

const org = (name: string) => `organization ${JSON.stringify(name)}`;

describe('the access a plan changes', () => {
  it('is absent when no one\'s access changes', () => {
    const plan = planFrom(BASE, { ...BASE, users: BASE.users.map((u) => ({ ...u, email: `${u.username}@example.org` })) });
    assert.equal(plan.summary.change, 4);
    assert.equal(plan.access, undefined);
    assert.equal(assessedPlan(desiredOf(BASE), liveOf(BASE), DATABASE).access, undefined);
  });

  it('a new member widens every collaboration-scoped rule of the users of every member, in both directions', () => {
    const plan = planFrom(BASE, { ...BASE, collaborations: { Colorectal: [CHARITE, OSLO, TOKYO], 'Lung!': [OSLO, TOKYO] } });
    const cause = `collaboration "Colorectal": members + ${JSON.stringify(TOKYO)}`;
    const byUsers = new Map(plan.access?.groups.map((g) => [g.users.join(','), g]));
    // Charité's analysts now reach Tokyo through Colorectal; Tokyo's user reaches Colorectal and Charité.
    assert.deepEqual(byUsers.get('anna,bram')?.gains, [{ resource: 'task', operation: 'view', scope: 'collaboration', on: [org(TOKYO)] }]);
    assert.deepEqual(byUsers.get('anna,bram')?.causes, [cause]);
    assert.deepEqual(byUsers.get('kenji')?.gains, [{ resource: 'task', operation: 'view', scope: 'collaboration', on: ['collaboration "Colorectal"', org(CHARITE)] }]);
    // Oslo already reached Tokyo through "Lung!": its user gains nothing.
    assert.equal(byUsers.has('ole'), false);
    assert.equal(plan.access?.users, 3);
    assert.equal(byUsers.get('anna,bram')?.organizations, 1);
  });

  it('a rule added to a role reaches everyone holding it, as one group with the role change as cause', () => {
    const plan = planFrom(BASE, { ...BASE, roles: [{ name: 'Analyst', organization: CHARITE, rules: ['task:COLLABORATION:VIEW', 'task:COLLABORATION:CREATE'] }] });
    assert.equal(plan.access?.groups.length, 1);
    const [group] = plan.access?.groups ?? [];
    assert.deepEqual(group?.users, ['anna', 'bram']);
    assert.deepEqual(group?.gains.map((g) => `${g.resource}:${g.operation}:${g.scope}`), ['task:create:collaboration']);
    assert.deepEqual(group?.causes, [`role ${JSON.stringify(`Analyst (${CHARITE})`)}: rules + task: create (collaboration)`]);
    assert.equal(group?.notable, false);
  });

  it('marks global scope and managing others\' users as notable and lists them first', () => {
    const plan = planFrom(BASE, {
      ...BASE,
      users: BASE.users.map((u) => (u.username === 'ole' ? { ...u, rules: ['task:COLLABORATION:VIEW', 'user:ORGANIZATION:CREATE'] as const }
        : u.username === 'kenji' ? { ...u, rules: ['task:COLLABORATION:VIEW', 'user:OWN:EDIT'] as const } : u)),
      roles: [{ name: 'Analyst', organization: CHARITE, rules: ['task:COLLABORATION:VIEW', 'run:COLLABORATION:VIEW'] }],
    });
    const groups = plan.access?.groups ?? [];
    assert.deepEqual(groups.map((g) => [g.users.join(','), g.notable]), [['ole', true], ['anna,bram', false], ['kenji', false]]);
    assert.deepEqual(groups[0]?.causes, ['their rules + user: create (organization)']);
  });

  it('a narrower scope is a loss of what the wider reached, and a wider one a gain', () => {
    const plan = planFrom(BASE, { ...BASE, users: BASE.users.map((u) => (u.username === 'ole' ? { ...u, rules: ['task:ORGANIZATION:VIEW'] as const } : u)) });
    const [group] = plan.access?.groups ?? [];
    assert.deepEqual(group?.gains, []);
    assert.deepEqual(group?.losses, [{ resource: 'task', operation: 'view', scope: 'collaboration', on: ['collaboration "Colorectal"', 'collaboration "Lung!"', org(CHARITE), org(TOKYO)] }]);
    const wider = planFrom(BASE, { ...BASE, users: BASE.users.map((u) => (u.username === 'ole' ? { ...u, rules: ['task:GLOBAL:VIEW'] as const } : u)) });
    assert.deepEqual(wider.access?.groups[0]?.gains, [{ resource: 'task', operation: 'view', scope: 'global', on: ['everything'] }]);
    assert.deepEqual(wider.access?.groups[0]?.losses, []);
  });

  it('created and deleted users gain and lose everything, because they are created or deleted', () => {
    const plan = assessedPlan(
      desiredOf({ ...BASE, users: [...BASE.users.filter((u) => u.username !== 'kenji'), { username: 'new', organization: TOKYO, rules: ['task:COLLABORATION:VIEW'] }] }),
      liveOf(BASE), DATABASE, { ...DEFAULT_PLAN_OPTIONS, prune: { ...NO_PRUNING, user: true } },
    );
    const byUsers = new Map(plan.access?.groups.map((g) => [g.users.join(','), g]));
    assert.deepEqual(byUsers.get('new')?.causes, ['they are created']);
    assert.deepEqual(byUsers.get('kenji')?.causes, ['they are deleted']);
    assert.deepEqual(byUsers.get('kenji')?.losses.map((l) => l.on), [['collaboration "Lung!"', org(OSLO), org(TOKYO)]]);
  });

  it('renaming an organization or a collaboration changes no one\'s access', () => {
    const renamed: SmallFederation = {
      ...BASE,
      organizations: [CHARITE, 'OUS', TOKYO],
      collaborations: { Colorectal: [CHARITE, 'OUS'], 'Lung cancer': ['OUS', TOKYO] },
      users: BASE.users.map((u) => (u.organization === OSLO ? { ...u, organization: 'OUS' } : u)),
    };
    const desired = { ...desiredOf(renamed), previousNames: { organization: { OUS: [OSLO] }, collaboration: { 'Lung cancer': ['Lung!'] } } };
    const plan = assessedPlan(desired, liveOf(BASE), DATABASE);
    assert.ok(plan.changes.some((c) => c.action === 'update' && c.kind === 'organization'), JSON.stringify(plan.changes));
    assert.equal(plan.access, undefined);
  });

  it('lists the first 100 groups in JSON and saved plans unless --show-access, and counts the rest', () => {
    const orgs = Array.from({ length: 130 }, (_, i) => `Zorg & Co №${i} 🏥`);
    const plan = assessedPlan(desiredOf({ organizations: orgs, users: orgs.map((o, i) => ({ username: `u${i}`, organization: o, rules: ['task:ORGANIZATION:VIEW'] })) }), liveOf({ organizations: orgs, users: [] }), DATABASE);
    assert.equal(plan.access?.groups.length, 130);
    const listed = planForOutput(plan, false);
    assert.equal(listed.access?.groups.length, 100);
    assert.equal(listed.access?.unlistedGroups, 30);
    assert.equal(listed.access?.users, 130);
    assert.equal(planForOutput(plan, true), plan);
    assert.match(renderPlanText(listed, { color: false, showUnmanaged: false }), /\.\.\. and 120 more group\(s\) of users/);
  });
});
