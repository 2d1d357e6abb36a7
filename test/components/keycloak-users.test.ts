import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FederationAccess } from '../../src/access/user-access.js';
import { keepsKeycloakFields, keptUsersOf, keycloakWrites, mayAwaitInvitation, withKeycloakFields } from '../../src/components/keycloak/keycloak-users.js';
import { computePlan } from '../../src/plan/compute-plan.js';
import { DEFAULT_PLAN_OPTIONS } from '../../src/plan/plan-options.js';
import { freshState } from '../../src/state/fresh-state.js';
import type { LiveState } from '../../src/state/live-state.js';
import { desiredOf } from '../helpers/small-federations.js';

const HQ = { engine: 'api' as const, display: 'https://v6.example.org/hq', initialize: false };

/** HQ's users as its API gives them: no names, no e-mail, no state (Keycloak keeps those). */
function hqLive(): LiveState {
  const fresh = freshState();
  const user = (id: number, username: string) => ({
    id, username, organization: 'Zorg & Co!', firstname: null, lastname: null, email: null, enabled: true, roles: [{ name: 'Researcher', organization: null }], rules: [],
  });
  return {
    ...fresh,
    organizations: [...fresh.organizations, { id: 2, name: 'Zorg & Co!', domain: null, address1: null, address2: null, zipcode: null, country: null }],
    users: [user(2, 'Zoe.OBrien'), user(3, 'li.wei'), user(4, 'mohammed')],
  };
}

/** Keycloak's accounts of those users (usernames in lower case, as Keycloak writes them). */
const ACCOUNTS = [
  { id: 'a', username: 'zoe.obrien', firstName: 'Zoë', lastName: 'Changed', email: 'zoe+v6@bücher.example', enabled: true },
  { id: 'b', username: 'li.wei', firstName: '李', lastName: '伟', email: 'li.wei+ops@例え.テスト', enabled: false },
  { id: 'c', username: 'mohammed', firstName: 'Mo', lastName: 'Own', email: 'mo@example.org', enabled: true },
];

const CONFIG = desiredOf({
  organizations: ['Zorg & Co!'],
  users: [
    { username: 'Zoe.OBrien', organization: 'Zorg & Co!', roles: ['Researcher'], email: 'zoe+v6@bücher.example' },
    { username: 'li.wei', organization: 'Zorg & Co!', roles: ['Researcher'] },
    { username: 'mohammed', organization: 'Zorg & Co!', roles: ['Researcher'] },
  ],
});
const desired = {
  ...CONFIG,
  users: CONFIG.users.map((u) => (u.username === 'Zoe.OBrien' ? { ...u, firstname: 'Zoë', lastname: "O'Brien-Ñúñez" } : u)),
};

describe('what Keycloak keeps of vantage6 5\'s users', () => {
  it('is engaged only by a config that keeps names, e-mail or a disabled user there', () => {
    assert.equal(keepsKeycloakFields(CONFIG.users.map((u) => ({ ...u, email: null }))), false);
    assert.equal(keepsKeycloakFields(desired.users), true);
    assert.equal(keepsKeycloakFields([{ username: 'x', firstname: null, lastname: null, email: null, enabled: false }]), true);
    assert.equal(keepsKeycloakFields([{ username: 'x', firstname: null, lastname: null, email: null, enabled: true, requiredActions: ['configure_totp'] }]), true);
  });

  it('reads into HQ\'s users the fields the config keeps, whatever the case of the username; those it leaves out stay the users\' own', () => {
    const live = withKeycloakFields(hqLive(), ACCOUNTS, desired.users);
    assert.deepEqual(live.users.map((u) => [u.username, u.firstname, u.lastname, u.email, u.enabled]), [
      ['Zoe.OBrien', 'Zoë', 'Changed', 'zoe+v6@bücher.example', true],
      ['li.wei', null, null, null, false],
      ['mohammed', null, null, null, true],
    ]);
    const plan = computePlan(desired, live, HQ);
    assert.deepEqual(plan.changes.map((c) => [c.address, c.action === 'update' ? c.fields : null]), [
      ['Zoe.OBrien', [{ field: 'lastname', before: 'Changed', after: "O'Brien-Ñúñez" }]],
      ['li.wei', [{ field: 'enabled', before: false, after: true }]],
    ]);
    assert.deepEqual([...keycloakWrites(plan.changes)], [['Zoe.OBrien', { fields: { lastName: "O'Brien-Ñúñez" }, invite: false }], ['li.wei', { fields: { enabled: true }, invite: false }]]);
  });

  it('adopts every field on export (no config), and writes a created user\'s names, e-mail and state, not the fields left out', () => {
    const adopted = withKeycloakFields(hqLive(), ACCOUNTS, null);
    assert.deepEqual(adopted.users.find((u) => u.username === 'mohammed'), { ...hqLive().users[2], firstname: 'Mo', lastname: 'Own', email: 'mo@example.org', twoFactor: false });
    const created = computePlan({ ...desired, users: [{ ...desired.users[1]!, username: 'new.one', lastname: 'العلي', enabled: false, requiredActions: ['configure_totp', 'verify_email'] }] }, hqLive(), HQ);
    assert.deepEqual([...keycloakWrites(created.changes)], [['new.one', { fields: { lastName: 'العلي', enabled: false, requiredActions: ['CONFIGURE_TOTP', 'VERIFY_EMAIL'] }, invite: false }]]);
  });

  it('invites a created user after writing their e-mail, and an invited user whose invitation an apply never sent, once', () => {
    const invite = { from: 'invite' as const };
    const inviting = { ...desired, users: desired.users.map((u) => (u.username === 'mohammed' ? { ...u, email: 'mo+نور@例え.テスト', password: invite } : u)) };
    assert.equal(keepsKeycloakFields([{ username: 'x', firstname: null, lastname: null, email: null, enabled: true, password: invite }]), true);
    assert.deepEqual(keptUsersOf(inviting.users).find((u) => u.username === 'mohammed')?.password, invite);
    assert.equal(keptUsersOf(desired.users).some((u) => 'password' in u), false);
    const created = computePlan({ ...inviting, users: [{ ...inviting.users[2]!, username: 'new.one' }] }, hqLive(), HQ);
    assert.deepEqual([...keycloakWrites(created.changes)], [['new.one', { fields: { email: 'mo+نور@例え.テスト' }, invite: true }]]);

    // Only accounts that still must set a password are asked whether they have HQ's: the rest cost no call.
    const accounts = ACCOUNTS.map((a) => (a.id === 'c' ? { ...a, email: 'mo+نور@例え.テスト', requiredActions: ['UPDATE_PASSWORD'] } : a));
    assert.deepEqual(mayAwaitInvitation(accounts, inviting.users).map((a) => a.id), ['c']);
    assert.deepEqual(mayAwaitInvitation(accounts, desired.users), []);
    const owed = computePlan(inviting, withKeycloakFields(hqLive(), accounts, inviting.users, new Set(['mohammed'])), HQ);
    const mohammed = owed.changes.find((c) => c.address === 'mohammed');
    assert.deepEqual(mohammed?.action === 'update' ? mohammed.fields : null, [{ field: 'invitation', secret: 'send' }]);
    assert.deepEqual(keycloakWrites(owed.changes).get('mohammed'), { fields: {}, invite: true });
    // Sent (HQ's password gone) or accepted: nothing to do, unless a new password is asked for, which is a new invitation.
    const sent = computePlan(inviting, withKeycloakFields(hqLive(), accounts, inviting.users), HQ);
    assert.equal(sent.changes.some((c) => c.address === 'mohammed'), false);
    const reset = computePlan(inviting, withKeycloakFields(hqLive(), accounts, inviting.users), HQ, { ...DEFAULT_PLAN_OPTIONS, resetPasswords: ['mohammed'] });
    const resetting = reset.changes.find((c) => c.address === 'mohammed');
    assert.deepEqual(resetting?.action === 'update' ? resetting.fields : null, [{ field: 'invitation', secret: 'resend' }]);
    assert.deepEqual(keycloakWrites(reset.changes).get('mohammed'), { fields: {}, invite: true });
  });

  it('counts a disabled user as able to do nothing, whatever their roles', () => {
    const live = withKeycloakFields(hqLive(), ACCOUNTS, desired.users);
    const access = new FederationAccess({ ...live, roles: [{ name: 'Researcher', organization: null, rules: ['task:ORGANIZATION:CREATE'] }] });
    assert.deepEqual(access.permissionsOf('li.wei'), []);
    assert.equal(access.permissionsOf('mohammed').length, 1);
  });
});
