import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { formatDiagnostic, type Diagnostic } from '../../src/diagnostic.js';
import { loadConfig } from '../../src/config/load-config.js';
import { validateConfig } from '../../src/config/validate-config.js';
import { EXAMPLE_CONFIG } from '../helpers/fixtures.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'fedctl-validate-'));
let counter = 0;

/** Validate YAML text written to a file; returns the one-line messages. */
async function check(text: string, env: Record<string, string> = {}): Promise<{ lines: string[]; diagnostics: readonly Diagnostic[]; file: string; valid: boolean }> {
  const file = path.join(dir, `case-${++counter}.yaml`);
  writeFileSync(file, text);
  const result = validateConfig(await loadConfig([file]), env);
  return { lines: result.diagnostics.map(formatDiagnostic), diagnostics: result.diagnostics, file, valid: result.desired !== null };
}

const BASE = `version: 1
organizations:
  - name: IKNL
  - name: MUMC
collaborations:
  - name: Trial
    members:
      - organization: IKNL
      - organization: MUMC
`;

describe('validate', () => {
  it('accepts the example federation', async () => {
    const result = validateConfig(await loadConfig([EXAMPLE_CONFIG]), {});
    assert.deepEqual(result.diagnostics.map(formatDiagnostic), []);
    assert.ok(result.desired);
    assert.equal(result.desired.nodes.length, 5);
    assert.ok(result.desired.nodes.some((n) => n.name === 'IKNL - Colorectal Cancer Survival Node'));
    assert.ok(result.desired.nodes.some((n) => n.name === 'charite-crc-node'));
  });

  it('reports every problem of a user whose organization is unknown: a role no organization has, rules, a literal password', async () => {
    const { lines, file } = await check(`${BASE}roles:\n  - { name: Data Steward, organization: MUMC }\nusers:\n  - username: anna\n    organization: IKNLL\n`
      + '    roles: [Researchr, Data Steward]\n    rules: [{ resource: node, scope: own, operation: view }]\n    password: hunter2\n');
    assert.deepEqual(lines, [
      `${file}:14:19 users[0].organization: unknown organization "IKNLL" (did you mean "IKNL"?)`,
      `${file}:15:13 users[0].roles[0]: unknown role "Researchr" (did you mean "Researcher"?)`,
      `${file}:16:13 users[0].rules[0]: vantage6 4.15 has no rule to view node with scope own (node has: view/global, view/collaboration, `
        + 'view/organization, edit/global, edit/collaboration, edit/organization, create/global, create/collaboration, create/organization, '
        + 'delete/global, delete/collaboration, delete/organization)',
      `${file}:17:15 users[0].password: a password must not be written in the config (write \${ENV_VAR} to read it from the environment at apply time, or generate)`,
    ]);
  });

  it('reports every problem of a user whose username is not text, or is a duplicate: a misspelt role is not hidden by the schema error', async () => {
    const { lines, file } = await check(`${BASE}users:\n  - username: 12345\n    organization: IKNL\n    roles: [Reseacher]\n`
      + '  - username: anna\n    organization: IKNL\n  - username: anna\n    organization: MUMC\n    roles: [Data Stewrd]\n');
    assert.deepEqual(lines, [
      `${file}:11:15 users[0].username: must be string, not number 12345 (quote it, so that YAML reads it as text)`,
      `${file}:13:13 users[0].roles[0]: unknown role "Reseacher" (did you mean "Researcher"?)`,
      `${file}:16:15 users[2].username: duplicate username "anna" (already declared at ${file}:14:15)`,
      `${file}:18:13 users[2].roles[0]: unknown role "Data Stewrd" (declare it under roles, or use a built-in role)`,
    ]);
  });

  it('warns at the role when a config for the API gives a user a role of another organization, naming both', async () => {
    const config = `server: { url: "https://v6.example.org", manage: api }\n${BASE}roles:\n  - { name: Data Steward, organization: MUMC, rules: [] }\n`
      + 'users:\n  - { username: anna, organization: IKNL, email: a@iknl.nl, password: generate, roles: [{ name: Data Steward, organization: MUMC }] }\n';
    const { lines, file, valid } = await check(config);
    assert.ok(valid);
    assert.deepEqual(lines, [`${file}:14:89 warning: users[0].roles[0]: the API gives a user only roles of the user's own organization, or without organization: `
      + 'role "Data Steward" is of organization "MUMC", the user of "IKNL" (a plan through the server\'s API (server: manage: api) refuses this; '
      + 'give a role of the user\'s organization, or apply through the database)']);
    // Through the database, where such a role can be given, there is nothing to say.
    assert.deepEqual((await check(config.replace('manage: api', 'api_path: /api'))).lines, []);
  });

  it('warns, at the username, of a dot that vantage6 4.3.0 and 4.3.1 refuse at login, when the release may be one of them', async () => {
    const users = `users:\n  - { username: anna.devries, organization: IKNL, email: a@iknl.nl }\n  - { username: bram_jansen, organization: IKNL, email: b@iknl.nl }\n`;
    for (const release of ['4.3', '4.3.0', '4.3.1']) {
      const { lines, file, valid } = await check(`vantage6: "${release}"\n${BASE}${users}`);
      assert.ok(valid);
      assert.deepEqual(lines, [`${file}:12:17 warning: users[0].username: "anna.devries" cannot log in to vantage6 4.3.0 and 4.3.1, which refuse a username `
        + `with a dot ("Only letters, numbers, hyphens and underscores are allowed"); vantage6 4.3 may be one of them (upgrade the server to 4.3.2 or `
        + 'later (4.0 to 4.2 and 4.3.2 onwards accept it), or rename the user without the dot (previous_usernames keeps its id))'], release);
    }
    for (const release of ['4.2', '4.3.2', '4.4']) assert.deepEqual((await check(`vantage6: "${release}"\n${BASE}${users}`)).lines, [], release);
  });

  it('reports an unknown field at its key, with did-you-mean', async () => {
    const { lines, file } = await check(`organizations:\n  - name: IKNL\n    contry: NL\n`);
    assert.deepEqual(lines, [`${file}:3:5 organizations[0].contry: unknown field "contry" (did you mean "country"?)`]);
  });

  it('reports a wrong type at the value', async () => {
    const { lines, file } = await check(`${BASE}    encrypted: "yes"\n`);
    assert.deepEqual(lines, [`${file}:10:16 collaborations[0].encrypted: must be boolean, not string "yes"`]);
  });

  it('reports a misspelt scope with the allowed values and a suggestion', async () => {
    const { lines, file } = await check(`roles:\n  - name: R\n    rules:\n      - resource: node\n        scope: orgnization\n        operation: view\n`);
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? '', new RegExp(`^${file}:5:16 roles\\[0\\]\\.rules\\[0\\]\\.scope: must be one of "own", .*"all" \\(did you mean "organization"\\?\\)$`));
  });

  it('reports a bad item in a list of scopes, not the list', async () => {
    const { lines } = await check(`roles:\n  - name: R\n    rules:\n      - resource: node\n        scope: [organization, everywhere]\n        operation: view\n`);
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? '', /:5:31 roles\[0\]\.rules\[0\]\.scope\[1\]: must be one of/);
  });

  it('reports a missing required field at its object', async () => {
    const { lines, file } = await check(`users:\n  - username: anna\n`);
    assert.deepEqual(lines, [`${file}:2:5 users[0]: missing required field "organization"`]);
  });

  it('checks usernames as the vantage6 API does', async () => {
    const { lines } = await check(`${BASE}users:\n  - username: 1anna\n    organization: IKNL\n  - username: ab\n    organization: IKNL\n`);
    assert.equal(lines.length, 2);
    assert.match(lines[0] ?? '', /users\[0\]\.username: must start with a letter/);
    assert.match(lines[1] ?? '', /users\[1\]\.username: must be at least 3 characters long/);
  });

  it('reports invalid YAML with its position', async () => {
    const { lines, file, valid } = await check(`organizations:\n  - name: [unclosed\n`);
    assert.equal(valid, false);
    assert.match(lines[0] ?? '', new RegExp(`^${file}:\\d+:\\d+ \\(document\\): invalid YAML: `));
  });

  it('reports duplicate mapping keys', async () => {
    const { lines, file } = await check(`organizations:\n  - name: IKNL\n    name: Other\n`);
    assert.match(lines[0] ?? '', new RegExp(`^${file}:3:5 \\(document\\): invalid YAML: Map keys must be unique`));
  });

  it('refuses alias bombs', async () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 10; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
    const { lines, valid } = await check(`${bomb.join('\n')}\n`);
    assert.equal(valid, false);
    assert.match(lines[0] ?? '', /invalid YAML: .*alias/i);
  });

  it('interpolates ${VAR} and reports an unset variable at its place', async () => {
    const ok = await check(`organizations:\n  - name: \${ORG}\n    domain: x.\${TLD}\n`, { ORG: 'IKNL', TLD: 'nl' });
    assert.ok(ok.valid);
    const { lines, file } = await check(`organizations:\n  - name: IKNL\n    domain: \${DOMAIN}\n`);
    assert.deepEqual(lines, [`${file}:3:13 organizations[0].domain: environment variable DOMAIN is not set (set DOMAIN, or write $\${DOMAIN} for a literal)`]);
    const literal = await check(`organizations:\n  - name: "cost $\${X}"\n`);
    assert.ok(literal.valid);
  });

  it('reports duplicates with the place of the first', async () => {
    const { lines, file } = await check(`organizations:\n  - name: IKNL\n  - name: IKNL\n`);
    assert.deepEqual(lines, [`${file}:3:11 organizations[1].name: duplicate organization "IKNL" (already declared at ${file}:2:11)`]);
  });

  it('resolves references and suggests the closest name', async () => {
    const { lines, file } = await check(`${BASE}users:\n  - username: anna\n    organization: IKNL2\n`);
    assert.deepEqual(lines, [`${file}:12:19 users[0].organization: unknown organization "IKNL2" (did you mean "IKNL"?)`]);
  });

  it('requires a study\'s organizations to be members of its collaboration', async () => {
    const { lines } = await check(`${BASE}  - name: Other\n    members:\n      - organization: IKNL\nstudies:\n  - name: S\n    collaboration: Other\n    organizations: [IKNL, MUMC]\n`);
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? '', /studies\[0\]\.organizations\[1\]: organization "MUMC" is not a member of collaboration "Other"/);
  });

  it('keeps node names unique', async () => {
    const { lines } = await check(`${BASE}  - name: Other\n    members:\n      - organization: IKNL\n        node: { name: "IKNL - Trial Node" }\n`);
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? '', /collaborations\[1\]\.members\[0\]\.node\.name: node name "IKNL - Trial Node" is already used/);
  });

  it('refuses custom roles with built-in names and unknown role references', async () => {
    const { lines } = await check(`${BASE}roles:\n  - name: node\n  - name: Researcher\n    organization: IKNL\nusers:\n  - username: anna\n    organization: IKNL\n    roles: [Reseacher]\n`);
    assert.equal(lines.length, 3);
    assert.match(lines[0] ?? '', /roles\[0\]\.name: a custom role cannot be named "node"/);
    assert.match(lines[1] ?? '', /roles\[1\]\.name: "Researcher" is a built-in role/);
    assert.match(lines[2] ?? '', /users\[0\]\.roles\[0\]: unknown role "Reseacher" \(did you mean "Researcher"\?\)/);
  });

  it('resolves a bare role name to the user\'s organization first', async () => {
    const text = `${BASE}roles:\n  - name: Steward\n    organization: MUMC\n  - name: Steward\nusers:\n  - username: anna\n    organization: MUMC\n    roles: [Steward]\n  - username: bram\n    organization: IKNL\n    roles: [Steward, {name: Steward, organization: MUMC}]\n`;
    const file = path.join(dir, 'roles.yaml');
    writeFileSync(file, text);
    const { desired } = validateConfig(await loadConfig([file]), {});
    assert.ok(desired);
    assert.deepEqual(desired.users.map((u) => u.roles), [
      [{ name: 'Steward', organization: 'MUMC' }],
      [{ name: 'Steward', organization: 'MUMC' }, { name: 'Steward', organization: null }],
    ]);
  });

  it('never accepts a password written in the config', async () => {
    const { lines } = await check(`${BASE}users:\n  - username: anna\n    organization: IKNL\n    password: hunter2hunter2\n`);
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? '', /users\[0\]\.password: a password must not be written in the config/);
    assert.ok(!lines[0]?.includes('hunter2'));
    const fromEnv = await check(`${BASE}users:\n  - username: anna\n    organization: IKNL\n    password: \${ANNA_PW}\n`);
    assert.equal(fromEnv.valid, true);
    assert.match(fromEnv.lines[0] ?? '', /warning: users\[0\]\.password: environment variable ANNA_PW is not set/);
  });

  it('checks rules against the catalogue, and expands all', async () => {
    const { lines } = await check(`roles:\n  - name: R\n    rules:\n      - resource: collaboration\n        scope: collaboration\n        operation: view\n`);
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? '', /4\.15 has no rule to view collaboration with scope collaboration \(collaboration has: view\/global, view\/organization/);
    // A resource no release has is one error, the schema's, with what was meant.
    const misspelt = await check(`roles:\n  - name: R\n    rules:\n      - resource: tsak\n        scope: global\n        operation: view\n`);
    assert.deepEqual(misspelt.lines.map((l) => l.replace(/^.*?:(\d+:\d+) /, '$1 ')), [
      '4:19 roles[0].rules[0].resource: must be one of "node", "collaboration", "organization", "task", "run", "user", "role", "port", "event", "study", "session" (did you mean "task"?)',
    ]);
    const file = path.join(dir, 'all.yaml');
    writeFileSync(file, `roles:\n  - name: R\n    rules:\n      - resource: event\n        scope: all\n        operation: [send, r]\n`);
    const { desired } = validateConfig(await loadConfig([file]), {});
    assert.deepEqual(desired?.roles[0]?.rules, [
      'event:COLLABORATION:RECEIVE', 'event:COLLABORATION:SEND', 'event:GLOBAL:RECEIVE', 'event:GLOBAL:SEND',
      'event:ORGANIZATION:RECEIVE', 'event:ORGANIZATION:SEND',
    ]);
  });

  it('checks rules and studies against the release the config declares, or the flag', async () => {
    const studyRule = 'roles:\n  - name: R\n    rules:\n      - { resource: study, scope: organization, operation: view }\n      - { resource: organization, scope: global, operation: delete }\n';
    const study = 'studies:\n  - name: S\n    collaboration: Trial\n    organizations: [IKNL]\n';
    const old = await check(`vantage6: "4.0"\n${BASE}${studyRule}${study}`);
    assert.deepEqual(old.lines.map((l) => l.replace(/^.*?:(\d+:\d+) /, '$1 ')), [
      '14:9 roles[0].rules[0]: vantage6 4.0 has no rules for study (the rules come from the server\'s own catalogue; upgrade the server or remove this rule)',
      '15:9 roles[0].rules[1]: vantage6 4.0 has no rule to delete organization with scope global (organization has: view/global, view/organization, view/collaboration, edit/global, edit/organization, edit/collaboration, create/global)',
      '17:11 studies[0].name: vantage6 4.0 has no studies (studies come with vantage6 4.3; remove the study or upgrade the server first)',
    ]);
    // 4.3 to 4.7 have studies and their rules, but cannot delete organizations; 4.8 can.
    const mid = await check(`vantage6: "4.6"\n${BASE}${studyRule}${study}`);
    assert.deepEqual(mid.lines.map((l) => l.replace(/^.*?:(\d+:\d+) /, '$1 ').replace(/ \(.*/, '')), [
      '15:9 roles[0].rules[1]: vantage6 4.6 has no rule to delete organization with scope global',
    ]);
    assert.equal((await check(`vantage6: "4.8"\n${BASE}${studyRule}${study}`)).valid, true);
    // The flag wins over the config; a release fedctl does not know, or a bare number, is refused at its place.
    const file = path.join(dir, 'flag.yaml');
    writeFileSync(file, `vantage6: "4.14"\n${BASE}${study}`);
    const flagged = validateConfig(await loadConfig([file]), {}, { version: { minor: 2, patch: null } });
    assert.equal(flagged.desired, null);
    assert.match(flagged.diagnostics.map(formatDiagnostic).join('\n'), /vantage6 4\.2 has no studies/);
    assert.match((await check(`vantage6: "4.16"\n${BASE}`)).lines[0] ?? '', /:1:11 vantage6: fedctl does not know vantage6 4\.16 \(it knows vantage6 4\.0 to 4\.15 and 5\.0\)/);
    assert.match((await check(`vantage6: 4.10\n${BASE}`)).lines[0] ?? '', /:1:11 vantage6: must be string, not number 4\.1 \(quote it, so that YAML reads it as text\)/);
  });

  it('for vantage6 5: node names without spaces and HQ\'s rules, each at its line; names, e-mail and enabled kept in Keycloak', async () => {
    const text = `vantage6: "5.0"\n${BASE.replace('      - organization: MUMC\n', '      - organization: MUMC\n        node: { name: "MUMC trial node" }\n')}users:
  - username: anna
    organization: IKNL
    email: anna+v6@bücher.example
    roles: [Researcher]
    rules:
      - { resource: session, scope: organization, operation: view }
  - username: bram
    organization: MUMC
    firstname: Bram
    enabled: false
    rules:
      - { resource: port, scope: organization, operation: view }
`;
    const { lines, valid } = await check(text);
    assert.equal(valid, false);
    assert.deepEqual(lines.map((l) => l.replace(/^.*?:(\d+:\d+) /, '$1 ').replace(/ \(.*$/, '')), [
      '11:23 collaborations[0].members[1].node.name: vantage6 5.0 refuses node name "MUMC trial node": vantage6 5 names a node\'s Keycloak client after it, without spaces',
      '24:9 users[1].rules[0]: vantage6 5.0 has no rules for port',
    ]);
    const fixed = await check(text.replace(' { name: "MUMC trial node" }', ' { name: mumc-trial-node }').replace('resource: port', 'resource: session'));
    assert.deepEqual(fixed.lines, []);
    const desired = validateConfig(await loadConfig([fixed.file]), {}).desired;
    // HQ's own default with every space a hyphen.
    assert.deepEqual(desired?.nodes.map((n) => n.name).sort(), ['IKNL-Trial-node', 'mumc-trial-node']);
    assert.deepEqual(desired?.users.map((u) => [u.username, u.firstname, u.email, u.enabled]), [['anna', null, 'anna+v6@bücher.example', true], ['bram', 'Bram', null, false]]);
  });

  it('refuses enabled: false and required actions for a 4.x server, which has neither, at their lines; takes them for vantage6 5', async () => {
    const users = 'users:\n  - username: anna\n    organization: IKNL\n    enabled: false\n    required_actions: [verify_email, configure_totp]\n';
    const { lines } = await check(`vantage6: "4.15"\n${BASE}${users}`);
    assert.deepEqual(lines.map((l) => l.replace(/^.*?:(\d+:\d+) /, '$1 ')), [
      '14:14 users[0].enabled: vantage6 4.15 cannot disable a user: a 4.x server keeps no such state (remove enabled: false, and take the user\'s roles and rules (they keep their history), or delete the user)',
      '15:23 users[0].required_actions: vantage6 4.15 has no required actions at the first login: they are Keycloak\'s, on vantage6 5 (remove required_actions: here; a config shared with 4.x servers can keep it in a file given only to vantage6 5)',
    ]);
    const hq = await check(`vantage6: "5.0"\n${BASE}${users}`);
    assert.deepEqual(hq.lines, []);
    const desired = validateConfig(await loadConfig([hq.file]), {}).desired;
    assert.deepEqual(desired?.users.map((u) => [u.enabled, u.requiredActions]), [[false, ['configure_totp', 'verify_email']]]);
  });

  it('takes identity providers and sign-ins for vantage6 5 only, each problem at its line: unknown providers and organizations, secrets written out or unset, passwords beside a sign-in, one identity twice, a required provider\'s user without one', async () => {
    const providers = [
      'identity_providers:',
      '  - alias: umc-entra',
      '    type: oidc',
      '    display_name: "UMC & Co 🏥"',
      '    discovery: https://login.example.org/t/v2.0/.well-known/openid-configuration',
      '    client_id: vantage6',
      '    client_secret: ${UMC_SECRET}',
      '    organizations: [IKNL, Nowhere]',
      '    required: true',
      '  - alias: surf',
      '    type: saml',
      '    metadata: http://metadata.surfconext.example/idp',
      '    organizations: [MUMC]',
      '    client_secret: plain-text',
      '',
    ].join('\n');
    const users = [
      'users:',
      '  - username: anna',
      '    organization: IKNL',
      '    sign_in: { provider: umc-entra, subject: "0b6c…-π" }',
      '    password: generate',
      '  - username: bram',
      '    organization: IKNL',
      '    sign_in: { provider: umc-entra, subject: "0b6c…-π" }',
      '  - username: chris',
      '    organization: IKNL',
      '    password: generate',
      '  - username: dirk',
      '    organization: MUMC',
      '    sign_in: { provider: umc-entr, subject: d }',
      '  - username: eva',
      '    organization: MUMC',
      '    sign_in: { provider: umc-entra, subject: e }',
      '',
    ].join('\n');
    const old = await check(`vantage6: "4.15"\n${BASE}${providers}${users}`, { UMC_SECRET: 's' });
    assert.ok(old.lines.some((l) => /:\d+:\d+ identity_providers\[0\]: vantage6 4\.15 has no identity providers/.test(l)), old.lines.join('\n'));
    const hq = await check(`vantage6: "5.0"\n${BASE}${providers}${users}`);
    assert.deepEqual(hq.lines.map((l) => l.replace(/^.*?:(\d+:\d+) /, '$1 ')), [
      '17:20 identity_providers[0].client_secret: environment variable UMC_SECRET is not set (plan and apply read the client\'s secret from it (plan compares it with the one Keycloak holds); set it where fedctl runs)',
      '18:27 identity_providers[0].organizations[1]: unknown organization "Nowhere" (declare it under organizations)',
      '22:15 warning: identity_providers[1].metadata: Keycloak refuses a provider reached over plain HTTP at metadata.surfconext.example ("requires secure connections") unless the realm requires no SSL (use its https:// URL)',
      '24:20 identity_providers[1].client_secret: a SAML provider takes no client_secret: (remove it (SAML reads what it needs from the metadata))',
      '29:15 users[0].password: a user who signs in through an identity provider has no vantage6 password (remove password: (a password they had is removed when the link is made))',
      '32:46 users[1].sign_in.subject: "0b6c…-π" at "umc-entra" already signs in as user "anna" (Keycloak links one identity to one user: give each user their own subject)',
      '33:5 users[2]: users of organization "IKNL" sign in through identity provider "umc-entra" (required: true), user "chris" does not (add sign_in: { provider: …, subject: … } with who the user is there)',
      '38:26 users[3].sign_in.provider: unknown identity provider "umc-entr" (did you mean "umc-entra"?)',
      '41:26 users[4].sign_in.provider: identity provider "umc-entra" does not serve organization "MUMC", the user\'s (add "MUMC" to its organizations:, or link the user through a provider of their organization)',
    ]);
  });

  it('takes what a provider fills in of its users, with the standard claims of its type unless named; its users then leave those fields out', async () => {
    const text = [
      'vantage6: "5.0"', BASE.trimEnd(),
      'identity_providers:',
      '  - { alias: umc, type: oidc, discovery: "https://login.example.org/.well-known/openid-configuration", client_id: v6, client_secret: "${S}", organizations: [IKNL], fills: [email, firstname] }',
      '  - { alias: surf, type: saml, metadata: "https://surf.example/metadata", organizations: [MUMC], fills: { lastname: "urn:mace:dir:attribute-def:sn", email: mail } }',
      '  - { alias: plain, type: saml, metadata: "https://plain.example/metadata", organizations: [MUMC], fills: [lastname] }',
      'users:',
      '  - { username: anna, organization: IKNL, lastname: "de Vries", sign_in: { provider: umc, subject: a } }',
      '  - { username: bram, organization: MUMC, email: bram@example.org, sign_in: { provider: surf, subject: b } }',
      '',
    ].join('\n');
    const { lines, file } = await check(text, { S: 'secret' });
    assert.deepEqual(lines.map((l) => l.replace(/^.*?:(\d+:\d+) /, '$1 ')), [
      '17:50 users[1].email: identity provider "surf" fills in the email of its users at every sign-in (fills:) (remove email: here, or take it out of the provider\'s fills:)',
    ]);
    const fixed = validateConfig(await loadConfig([file]), { S: 'secret' }, {});
    assert.equal(fixed.desired, null);
    writeFileSync(file, text.replace(', email: bram@example.org', ''));
    const desired = validateConfig(await loadConfig([file]), { S: 'secret' }).desired;
    assert.deepEqual(desired?.identityProviders.map((p) => [p.alias, p.fills]), [
      ['umc', ['email=email', 'firstname=given_name']], ['surf', ['email=mail', 'lastname=urn:mace:dir:attribute-def:sn']], ['plain', ['lastname=urn:oid:2.5.4.4']],
    ]);
  });

  it('takes an invitation instead of a password for vantage6 5 only, and only with an e-mail address to send it to', async () => {
    const users = 'users:\n  - username: anna\n    organization: IKNL\n    email: anna+v6@例え.テスト\n    password: invite\n  - username: bram\n    organization: IKNL\n    password: invite\n';
    const old = await check(`vantage6: "4.15"\n${BASE}${users}`);
    assert.deepEqual(old.lines.map((l) => l.replace(/^.*?:(\d+:\d+) /, '$1 ')), [
      '15:15 users[0].password: vantage6 4.15 sends no invitations: they are Keycloak\'s, on vantage6 5 (write password: generate (or ${ENV_VAR}); a config shared with 4.x servers can keep the invitation in a file given only to vantage6 5)',
      '18:15 users[1].password: vantage6 4.15 sends no invitations: they are Keycloak\'s, on vantage6 5 (write password: generate (or ${ENV_VAR}); a config shared with 4.x servers can keep the invitation in a file given only to vantage6 5)',
    ]);
    const hq = await check(`vantage6: "5.0"\n${BASE}${users}`);
    assert.deepEqual(hq.lines.map((l) => l.replace(/^.*?:(\d+:\d+) /, '$1 ')), [
      '18:15 users[1].password: an invitation is e-mailed to the user, who has no email: here (add email: (the address Keycloak sends the link to))',
    ]);
    const fixed = await check(`vantage6: "5.0"\n${BASE}${users.replace(/\n$/, '\n    email: bram@example.org\n')}`);
    assert.deepEqual(fixed.lines, []);
    const desired = validateConfig(await loadConfig([fixed.file]), {}).desired;
    assert.deepEqual(desired?.users.map((u) => u.password), [{ from: 'invite' }, { from: 'invite' }]);
  });

  it('checks against a database\'s own catalogue and warns when the config is for another release', async () => {
    const file = path.join(dir, 'live.yaml');
    writeFileSync(file, `vantage6: "4.14"\n${BASE}roles:\n  - name: R\n    rules:\n      - { resource: event, scope: all, operation: all }\n`);
    const server = { versions: { from: 0, to: 1 }, rules: ['event:GLOBAL:SEND', 'event:ORGANIZATION:RECEIVE'], studies: false, algorithmStores: false, refusesDottedLogins: false, keycloak: false };
    const result = validateConfig(await loadConfig([file]), {}, { server, version: { minor: 14, patch: null } });
    assert.deepEqual(result.desired?.roles[0]?.rules, ['event:GLOBAL:SEND', 'event:ORGANIZATION:RECEIVE']);
    assert.deepEqual(result.diagnostics.map(formatDiagnostic).map((l) => l.replace(/^.*?:(\d+:\d+) /, '$1 ')), [
      '1:11 warning: vantage6: the config is for vantage6 4.14, but the server is vantage6 4.0 to 4.1 (rules and studies are checked against the server\'s own catalogue; update vantage6: to the server\'s version)',
    ]);
  });

  it('reads secrets recipients and the server, and checks what they refer to', async () => {
    const key = 'age14veakj7dsa77n4v3x7kj7hfmmg5jrpcw907kdgvaxqw22c9npaxq0z5ww7';
    const file = path.join(dir, 'secrets.yaml');
    writeFileSync(file, `${BASE}secrets:\n  recipients: [${key}]\n  organizations:\n    IKNL: [${key}]\nserver:\n  url: http://localhost\n`);
    const { desired } = validateConfig(await loadConfig([file]), {});
    assert.deepEqual(desired?.secrets, { recipients: [key], organizations: { IKNL: [key] }, server: { url: 'http://localhost', port: 7601, apiPath: null, keycloak: null } });
    const { lines } = await check(`${BASE}secrets:\n  recipients: [age1NOT-A-KEY]\n  organizations:\n    IKNL2: [${key}]\n    IKNL: [${key}]\nserver:\n  url: https://v6.example.org/api\n`);
    assert.deepEqual(lines.map((l) => l.replace(/^.*?:(\d+:\d+) /, '$1 ')), [
      '11:16 secrets.recipients[0]: must be an age public key: age1 and lowercase letters and digits, as age-keygen prints it',
      '13:12 secrets.organizations.IKNL2: unknown organization "IKNL2" (did you mean "IKNL"?)',
      '16:8 server.url: must be the server\'s base URL, https://host, without port or path (give them as port and api_path)',
    ]);
    // vantage6 5: where nodes reach Keycloak, for their values files; the realm defaults to HQ's.
    writeFileSync(file, `${BASE}server:\n  url: https://v6.example.org\n  api_path: /hq\n  keycloak: { url: "https://auth.v6.example.org/" }\n`);
    assert.deepEqual(validateConfig(await loadConfig([file]), {}).desired?.secrets.server,
      { url: 'https://v6.example.org', port: 443, apiPath: '/hq', keycloak: { url: 'https://auth.v6.example.org', realm: 'vantage6' } });
    assert.deepEqual((await check(`${BASE}server:\n  url: https://v6.example.org\n  keycloak: { url: auth.v6.example.org, realm: "" }\n`)).lines
      .map((l) => l.replace(/^.*?:(\d+:\d+) /, '$1 ')), [
      '12:20 server.keycloak.url: must be a URL, such as https://auth.v6.example.org',
      '12:48 server.keycloak.realm: must not be empty, start or end with whitespace, or contain control characters or line breaks',
    ]);
    const noServer = await check(`${BASE}secrets:\n  recipients: [${key}]\n  organizations:\n    IKNL: [${key}]\n`);
    assert.deepEqual(noServer.lines.map((l) => l.replace(/^.*?:(\d+:\d+) /, '$1 ')), [
      '13:5 secrets.organizations: organizations have recipients, but there is no server: block (add server: { url: https://… } so that their node configuration files point at the server)',
    ]);
  });

  it('reports every error of a file in one run, in file order', async () => {
    const { lines } = await check(`${BASE}    encrypted: 1\nusers:\n  - username: anna\n    organization: IKNL2\n    email: a@x.org\n  - username: anna\n    organization: IKNL\n    email: a@x.org\n`);
    assert.deepEqual(lines.map((l) => l.replace(/^.*?:(\d+):\d+ /, '$1 ')), [
      '10 collaborations[0].encrypted: must be boolean, not number 1',
      '13 users[0].organization: unknown organization "IKNL2" (did you mean "IKNL"?)',
      `15 users[1].username: duplicate username "anna" (already declared at ${dir}/case-${counter}.yaml:12:15)`,
      `17 users[1].email: duplicate email "a@x.org" (already declared at ${dir}/case-${counter}.yaml:14:12)`,
    ]);
  });

  it('merges a directory of files, skips the secrets file, and names both places of a duplicate', async () => {
    const folder = path.join(dir, 'federation.d');
    mkdirSync(folder);
    writeFileSync(path.join(folder, '10-orgs.yaml'), 'organizations:\n  - name: IKNL\n');
    writeFileSync(path.join(folder, '20-collabs.yml'), 'collaborations:\n  - name: Trial\n    members: [{organization: IKNL}]\n');
    writeFileSync(path.join(folder, 'fedctl-secrets.yaml'), 'nodes: {}\n');
    writeFileSync(path.join(folder, 'README.md'), '# not config\n');
    const merged = validateConfig(await loadConfig([folder]), {});
    assert.deepEqual(merged.diagnostics, []);
    assert.equal(merged.desired?.nodes[0]?.name, 'IKNL - Trial Node');
    writeFileSync(path.join(folder, '30-more.yaml'), 'organizations:\n  - name: IKNL\n');
    const duplicate = validateConfig(await loadConfig([folder]), {});
    assert.deepEqual(duplicate.diagnostics.map(formatDiagnostic), [
      `${folder}/30-more.yaml:2:11 organizations[0].name: duplicate organization "IKNL" (already declared at ${folder}/10-orgs.yaml:2:11)`,
    ]);
  });
});

describe('the published schema', () => {
  it('documents every field, so that editors can show it', async () => {
    const { readFileSync } = await import('node:fs');
    const schema = JSON.parse(readFileSync(new URL('../../schemas/federation.schema.json', import.meta.url), 'utf8')) as Record<string, unknown>;
    const defs = schema.$defs as Record<string, Record<string, unknown>>;
    const undocumented: string[] = [];
    const described = (node: Record<string, unknown>): boolean =>
      typeof node.description === 'string' || (typeof node.$ref === 'string' && typeof defs[node.$ref.replace('#/$defs/', '')]?.description === 'string');
    const walk = (node: unknown, where: string): void => {
      if (node === null || typeof node !== 'object') return;
      const record = node as Record<string, unknown>;
      for (const [key, value] of Object.entries((record.properties ?? {}) as Record<string, Record<string, unknown>>)) {
        if (!described(value)) undocumented.push(`${where}.${key}`);
        walk(value, `${where}.${key}`);
      }
      for (const key of ['items', 'anyOf', '$defs']) {
        const child = record[key];
        if (Array.isArray(child)) child.forEach((c, i) => walk(c, `${where}.${key}[${i}]`));
        else if (child && typeof child === 'object') {
          if (key === '$defs') for (const [name, def] of Object.entries(child)) walk(def, `$defs.${name}`);
          else walk(child, `${where}.${key}`);
        }
      }
    };
    walk(schema, '');
    assert.deepEqual(undocumented, []);
  });
});

describe('validate: algorithm stores', () => {
  it('accepts the example\'s stores with the example federation', async () => {
    const result = validateConfig(await loadConfig([EXAMPLE_CONFIG, path.join(path.dirname(EXAMPLE_CONFIG), 'algorithm-stores.yaml')]), {});
    assert.deepEqual(result.diagnostics.map(formatDiagnostic), []);
    assert.deepEqual(result.desired?.algorithmStores.map((s) => [s.url, s.name, s.everyCollaboration, s.collaborations]), [
      ['https://store.cotopaxi.vantage6.ai/api', 'vantage6 community store', true, []],
      ['https://algorithms.iknl.nl/api', 'IKNL reviewed algorithms', false, ['Colorectal Cancer Survival']],
    ]);
  });

  it('says at their lines what is wrong: an undeclared collaboration, a URL twice or without path, a store on this machine, a release without stores', async () => {
    const { lines, file } = await check(`${BASE}algorithm_stores:
  - url: https://store.example.org/api
    collaborations: [Trial, Trail]
  - url: https://store.example.org/api
    collaborations: all
  - url: https://store.example.org/
    collaborations: all
  - url: http://localhost:7602/api
    collaborations: all
`);
    const at = (line: string): string => line.replace(`${file}:`, '');
    assert.deepEqual(lines.map(at), [
      '12:29 algorithm_stores[0].collaborations[1]: unknown collaboration "Trail" (did you mean "Trial"?)',
      '13:10 algorithm_stores[1].url: duplicate algorithm store https://store.example.org/api (already declared at ' + `${file}:11:10)`,
      '15:10 algorithm_stores[2].url: must be the store\'s API URL with its path and without a trailing slash, such as https://store.example.org/api',
      '17:10 warning: algorithm_stores[3].url: store http://localhost:7602/api is on this machine: fedctl links it with the server\'s force flag (fit for a development server only; give the address the server reaches the store at)',
    ]);
    const old = await check(`vantage6: "4.2"\n${BASE}algorithm_stores:\n  - url: https://store.example.org/api\n    collaborations: all\n`);
    assert.deepEqual(old.lines.map((line) => line.replace(`${old.file}:`, '')), [
      '12:10 algorithm_stores[0].url: vantage6 4.2 has no algorithm stores (algorithm stores come with vantage6 4.3; remove the store or upgrade the server first)',
    ]);
  });
});

describe('validate: a store\'s own roles and users', () => {
  const store = (own: string): string => `${BASE}algorithm_stores:\n  - url: https://store.example.org/api\n    collaborations: all\n${own}`;

  it('expands rules and resolves roles against the store release the server\'s line links to', async () => {
    const { lines, file } = await check(store(`    roles:
      - name: Approver ✓
        description: Approves & publishes
        rules:
          - { resource: review, operation: [view, edit] }
          - { resource: algorithm, operation: all }
    users:
      - { username: anna, roles: [Reviewer, Approver ✓] }
`));
    assert.deepEqual(lines, []);
    const result = validateConfig(await loadConfig([file]), {});
    assert.deepEqual(result.desired?.storeRoles, [{
      store: 'https://store.example.org/api', name: 'Approver ✓', description: 'Approves & publishes',
      rules: ['algorithm:create', 'algorithm:delete', 'algorithm:edit', 'algorithm:view', 'review:edit', 'review:view'],
    }]);
    assert.deepEqual(result.desired?.storeUsers, [{ store: 'https://store.example.org/api', username: 'anna', roles: ['Approver ✓', 'Reviewer'] }]);
    assert.deepEqual(result.desired?.managedStores, [{ url: 'https://store.example.org/api', users: true, roles: true, policies: false }]);
  });

  it('says at their lines: a built-in role declared, a rule the store release lacks, an unknown role, a user twice', async () => {
    const { lines, file } = await check(`vantage6: "5.0"\n${store(`    roles:
      - name: Reviewer
        rules: [{ resource: review, operation: view }]
      - name: Server keeper
        rules: [{ resource: vantage6_server, operation: delete }]
    users:
      - { username: anna, roles: [Reviewr] }
      - { username: anna, roles: [] }
`)}`);
    assert.deepEqual(lines.map((line) => line.replace(`${file}:`, '')), [
      '15:15 algorithm_stores[0].roles[0].name: "Reviewer" is a built-in role of algorithm store 5.0 (give it to store users without declaring it, or choose another name)',
      '18:29 algorithm_stores[0].roles[1].rules[0].resource: algorithm store 5.0 has no rules for vantage6_server (its resources: algorithm, role, user, review)',
      '20:35 algorithm_stores[0].users[0].roles[0]: unknown store role "Reviewr" (did you mean "Reviewer"?)',
      `21:21 algorithm_stores[0].users[1].username: duplicate store user "anna" (already declared at ${file}:20:21)`,
    ]);
  });
});

describe('validate: a store\'s policies', () => {
  it('takes each line\'s policies and values, and says at its line a policy or value of the other line', async () => {
    const policies = (release: string, block: string): string =>
      `vantage6: "${release}"\n${BASE}algorithm_stores:\n  - url: https://store.example.org/api\n    collaborations: all\n    policies:\n${block}`;
    const v4 = await check(policies('4.15', '      algorithm_view: whitelisted\n      allowed_servers: [https://v6.example.org/api]\n      min_reviewers: 1\n'));
    assert.deepEqual(v4.lines, []);
    const v5 = await check(policies('5.0', '      algorithm_view: whitelisted\n      allow_localhost: true\n      min_reviewers: 1\n'));
    assert.deepEqual(v5.lines.map((line) => line.replace(`${v5.file}:`, '')), [
      '15:23 algorithm_stores[0].policies.algorithm_view: algorithm store 5.0 takes no algorithm_view "whitelisted" (it takes: public, authenticated, private)',
      '16:24 algorithm_stores[0].policies.allow_localhost: algorithm store 5.0 has no policy allow_localhost (it is a policy of 4.x\'s stores; this store takes: algorithm_view, min_reviewers, min_reviewing_organizations, assign_review_own_algorithm, allowed_reviewers, allowed_review_assigners)',
    ]);
  });
});
