import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withKeycloakFields } from '../../src/components/keycloak/keycloak-users.js';
import { profileLimits, type KeycloakUserProfile, type RealmSettings } from '../../src/components/keycloak/user-profile.js';
import { idna2003Ascii, idnaFormsDiffer } from '../../src/email-domain.js';
import { computePlan } from '../../src/plan/compute-plan.js';
import { freshState } from '../../src/state/fresh-state.js';
import { refusesValue } from '../../src/state/value-test.js';
import { desiredOf } from '../helpers/small-federations.js';

/** The user profile a Keycloak 26 realm has by default (HQ's adds only organization_id, without validators). */
const DEFAULT_PROFILE: KeycloakUserProfile = {
  attributes: [
    { name: 'username', validations: { length: { min: 3, max: 255 }, 'username-prohibited-characters': {}, 'up-username-not-idn-homograph': {} } },
    { name: 'email', validations: { email: {}, length: { max: 255 } } },
    { name: 'firstName', validations: { length: { max: 255 }, 'person-name-prohibited-characters': {} } },
    { name: 'lastName', validations: { length: { max: 255 }, 'person-name-prohibited-characters': {} } },
    { name: 'organization_id' },
  ],
};
const REALM: RealmSettings = { realm: 'vantage6', registrationEmailAsUsername: false, utf8LocalParts: null };

/** Whether the default profile refuses `value` as the field, as the plan checks it. */
function refused(field: string, value: string, realm: RealmSettings = REALM): boolean {
  return profileLimits(DEFAULT_PROFILE, realm)
    .filter((limit) => limit.refusedValue?.field === field && limit.change === 'create')
    .some((limit) => limit.refusedValue?.tests.some((test) => refusesValue(test, value)));
}

describe('what Keycloak\'s user profile refuses', () => {
  it('person names: the characters Keycloak forbids, and no others of any script', () => {
    for (const name of ['Ng (Jr.) & Söhne', 'a<b', 'x"y', 'semi;colon', '100%', 'back\\slash', 'new\nline', 'tab\u0007bell', 'line\u2028sep']) {
      assert.ok(refused('lastname', name), name);
    }
    for (const name of ["O'Brien-Ñúñez", '李', 'العلي 🧪', 'Σωκράτης', 'עברית', 'हर्ष', 'สมชาย', 'Jr. Söhne', 'a'.repeat(255)]) {
      assert.ok(!refused('lastname', name), name);
    }
    assert.ok(refused('firstname', 'a'.repeat(256)), 'longer than 255');
    assert.ok(!refused('firstname', ` ${'a'.repeat(255)} `), 'counted after Java\'s trim');
  });

  it('e-mail addresses as Keycloak checks them: IDNA 2003 domains, ASCII local parts unless the realm says UTF-8', () => {
    for (const email of ['harsh+v6@उदाहरण.परीक्षा', 'somchai@ตัวอย่าง.ไทย', 'Mixed.Case+v6@Bücher.Example', 'li.wei+ops@例え.テスト', 'a@[127.0.0.1]']) {
      assert.ok(!refused('email', email), email);
    }
    for (const email of ['no-at-sign', 'a@b.', 'a..b@example.org', `${'x'.repeat(65)}@example.org`, 'a@🧪.example', 'zoë@example.org']) {
      assert.ok(refused('email', email), email);
    }
    assert.ok(!refused('email', 'zoë@example.org', { ...REALM, utf8LocalParts: true }), 'a realm whose mail server takes UTF-8');
  });

  it('usernames: no spaces or punctuation Keycloak forbids, Latin and common characters only, unless e-mail is the username', () => {
    for (const username of ['ab', 'has space', 'colon:x', 'жанна', 'a`b']) assert.ok(refused('username', username), username);
    for (const username of ['anna.devries', 'bram_jansen-2', 'zoë.obrien']) assert.ok(!refused('username', username), username);
    assert.ok(!refused('username', 'has space', { ...REALM, registrationEmailAsUsername: true }), 'the username checks are off');
  });

  it('refuses in the plan, naming the value and Keycloak\'s reason, before anything is done', () => {
    const live = { ...freshState(), server: { ...freshState().server, limits: profileLimits(DEFAULT_PROFILE, REALM) } };
    const config = desiredOf({ organizations: ['O'], users: [{ username: 'ng.jr', organization: 'O', roles: [] }] });
    const desired = { ...config, users: config.users.map((user) => ({ ...user, lastname: 'Ng (Jr.) & Söhne' })) };
    const plan = computePlan(desired, live, { engine: 'api', display: 'https://v6.example.org/hq', initialize: false });
    assert.deepEqual(plan.blocked.map((b) => [b.action, b.kind, b.address]), [['create', 'user', 'ng.jr']]);
    assert.match(plan.blocked[0]?.reason ?? '', /^lastname "Ng \(Jr\.\) & Söhne": error-person-name-invalid-character: .*realm vantage6/);
  });
});

describe('what Keycloak keeps in another form', () => {
  it('an e-mail address Keycloak keeps in lower case is the config\'s: no change after an apply', () => {
    const fresh = freshState();
    const live = {
      ...fresh,
      organizations: [...fresh.organizations, { id: 2, name: 'O', domain: null, address1: null, address2: null, zipcode: null, country: null }],
      users: [{ id: 2, username: 'mixed.case', organization: 'O', firstname: null, lastname: null, email: null, enabled: true, roles: [], rules: [] }],
    };
    const desired = desiredOf({ organizations: ['O'], users: [{ username: 'mixed.case', organization: 'O', roles: [], email: 'Mixed.Case+v6@Bücher.Example' }] });
    const account = { id: 'k', username: 'mixed.case', email: 'mixed.case+v6@bücher.example', enabled: true };
    const read = withKeycloakFields(live, [account], desired.users);
    assert.equal(read.users[0]?.email, 'Mixed.Case+v6@Bücher.Example');
    const other = withKeycloakFields(live, [{ ...account, email: 'someone.else@bücher.example' }], desired.users);
    assert.equal(other.users[0]?.email, 'someone.else@bücher.example', 'another address is drift');
  });

  it('domains IDNA 2003 reads as another domain than IDNA 2008', () => {
    assert.equal(idna2003Ascii('straße.example'), 'strasse.example');
    assert.ok(idnaFormsDiffer('ολυμπος.example'));
    assert.ok(!idnaFormsDiffer('bücher.example'));
    assert.ok(!idnaFormsDiffer('उदाहरण.परीक्षा'));
  });
});
