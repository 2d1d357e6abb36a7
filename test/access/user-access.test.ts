import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RuleKey } from '../../src/catalog/rule-catalog.js';
import type { AccessModel } from '../../src/access/access-model.js';
import { FederationAccess, reachTargets } from '../../src/access/user-access.js';

/**
 * Four organizations: A and B share "X", B and C share "Y", D shares
 * nothing. Names as users write them, so that quoting shows.
 */
const A = 'Charité & "Berlin"';
const B = 'Maastricht UMC+';
const C = '東京 🏥';
const D = 'مستشفى';

function model(users: AccessModel['users'], roles: AccessModel['roles'] = []): AccessModel {
  return {
    organizations: [A, B, C, D].map((name) => ({ name })),
    collaborations: [{ name: 'X', members: [A, B] }, { name: 'Y', members: [B, C] }],
    nodes: [
      { name: 'a-x', organization: A, collaboration: 'X' },
      { name: 'b-x', organization: B, collaboration: 'X' },
      { name: 'b-y', organization: B, collaboration: 'Y' },
      { name: 'c-y', organization: C, collaboration: 'Y' },
    ],
    roles,
    users,
  };
}

const user = (username: string, organization: string | null, rules: RuleKey[], roles: { name: string; organization: string | null }[] = []) =>
  ({ username, organization, rules, roles });

describe('effective access', () => {
  it('resolves each scope as the server does: collaboration scope reaches the collaborations of the user\'s organization and their members', () => {
    const access = new FederationAccess(model([user('b', B, ['task:COLLABORATION:CREATE', 'node:ORGANIZATION:VIEW', 'event:GLOBAL:SEND', 'user:OWN:EDIT'])]));
    const byKey = new Map(access.permissionsOf('b').map((p) => [`${p.resource}:${p.operation}`, reachTargets(p.reach)]));
    assert.deepEqual(byKey.get('task:CREATE'), ['collaboration "X"', 'collaboration "Y"', `organization ${JSON.stringify(A)}`, `organization "${B}"`, `organization "${C}"`]);
    assert.deepEqual(byKey.get('node:VIEW'), [`organization "${B}"`]);
    assert.deepEqual(byKey.get('event:SEND'), ['everything']);
    assert.deepEqual(byKey.get('user:EDIT'), ['their own']);
    assert.equal(byKey.size, 4);
  });

  it('an organization in no collaboration reaches only itself at collaboration scope', () => {
    const access = new FederationAccess(model([user('d', D, ['task:COLLABORATION:VIEW'])]));
    assert.deepEqual(access.permissionsOf('d').map((p) => reachTargets(p.reach)), [['organization "مستشفى"']]);
  });

  it('keeps the widest scope of a resource and operation, and says which roles give it', () => {
    const roles = [
      { name: 'Wide', organization: A, rules: ['task:COLLABORATION:CREATE'] as RuleKey[] },
      { name: 'Also wide', organization: null, rules: ['task:COLLABORATION:CREATE', 'task:ORGANIZATION:VIEW'] as RuleKey[] },
      { name: 'Narrow', organization: A, rules: ['task:ORGANIZATION:CREATE'] as RuleKey[] },
    ];
    const access = new FederationAccess(model([user('a', A, ['task:ORGANIZATION:CREATE'], [
      { name: 'Narrow', organization: A }, { name: 'Wide', organization: A }, { name: 'Also wide', organization: null },
    ])], roles));
    const create = access.permissionsOf('a').find((p) => p.resource === 'task' && p.operation === 'CREATE');
    assert.equal(create?.reach.scope, 'COLLABORATION');
    assert.deepEqual(create?.via, ['Also wide', `Wide (${A})`]);
    assert.deepEqual(access.rulesOf('a'), ['task:COLLABORATION:CREATE', 'task:ORGANIZATION:CREATE', 'task:ORGANIZATION:VIEW']);
    const holding = access.holdings('a').get('task:ORGANIZATION:CREATE');
    assert.equal(holding?.own, true);
    assert.deepEqual(holding?.roles, [{ name: 'Narrow', organization: A }]);
  });

  it('a role the model does not have gives nothing, and an unknown user has no access', () => {
    const access = new FederationAccess(model([user('a', A, [], [{ name: 'Gone', organization: null }])]));
    assert.deepEqual(access.permissionsOf('a'), []);
    assert.deepEqual(access.permissionsOf('nobody'), []);
    assert.equal(access.listable('nobody', 'organization'), null);
  });

  it('users alike share one profile; a different organization makes another', () => {
    const access = new FederationAccess(model([
      user('a1', A, ['task:COLLABORATION:VIEW']), user('a2', A, ['task:COLLABORATION:VIEW']), user('c1', C, ['task:COLLABORATION:VIEW']),
    ]));
    assert.equal(access.profile('a1'), access.profile('a2'));
    assert.notEqual(access.profile('a1'), access.profile('c1'));
  });
});

describe('what a user can list', () => {
  it('organizations: global all, collaboration scope the shared ones, organization scope their own, nothing without a rule', () => {
    const access = new FederationAccess(model([
      user('g', A, ['organization:GLOBAL:VIEW']), user('c', A, ['organization:COLLABORATION:VIEW']),
      user('o', A, ['organization:ORGANIZATION:VIEW']), user('n', A, []),
    ]));
    assert.deepEqual(access.listable('g', 'organization'), [A, B, C, D].sort());
    assert.deepEqual(access.listable('c', 'organization'), [A, B].sort());
    assert.deepEqual(access.listable('o', 'organization'), [A]);
    assert.equal(access.listable('n', 'organization'), null);
  });

  it('collaborations have no collaboration scope: organization scope lists those of the user\'s organization', () => {
    const access = new FederationAccess(model([user('b', B, ['collaboration:ORGANIZATION:VIEW']), user('bc', B, ['collaboration:COLLABORATION:VIEW'])]));
    assert.deepEqual(access.listable('b', 'collaboration'), ['X', 'Y']);
    assert.equal(access.listable('bc', 'collaboration'), null);
  });

  it('nodes: of the shared collaborations at collaboration scope, of the organization at organization scope', () => {
    const access = new FederationAccess(model([user('a', A, ['node:COLLABORATION:VIEW']), user('c', C, ['node:ORGANIZATION:VIEW'])]));
    assert.deepEqual(access.listable('a', 'node'), ['a-x', 'b-x']);
    assert.deepEqual(access.listable('c', 'node'), ['c-y']);
  });

  it('users: of the organizations reached', () => {
    const access = new FederationAccess(model([
      user('a', A, ['user:COLLABORATION:VIEW']), user('b', B, []), user('c', C, []), user('d', D, ['user:ORGANIZATION:VIEW']),
    ]));
    assert.deepEqual(access.listable('a', 'user'), ['a', 'b']);
    assert.deepEqual(access.listable('d', 'user'), ['d']);
    assert.equal(access.listable('b', 'user'), null);
  });

  it('roles: always their own; from organization scope on, roles without organization and those of the organizations reached', () => {
    const roles = [
      { name: 'Mine', organization: A, rules: [] }, { name: 'Theirs', organization: B, rules: [] },
      { name: 'Far', organization: C, rules: [] }, { name: 'Shared', organization: null, rules: [] },
    ];
    const access = new FederationAccess(model([
      user('none', A, [], [{ name: 'Mine', organization: A }]),
      user('org', A, ['role:ORGANIZATION:VIEW']),
      user('collab', A, ['role:COLLABORATION:VIEW']),
    ], roles));
    assert.deepEqual(access.listable('none', 'role'), [`Mine (${A})`]);
    assert.deepEqual(access.listable('org', 'role'), [`Mine (${A})`, 'Shared'].sort());
    assert.deepEqual(access.listable('collab', 'role'), [`Mine (${A})`, 'Shared', `Theirs (${B})`].sort());
  });
});
