import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { adaptToFive } from '../../src/adapt/adapt-to-five.js';
import { exportForFive } from '../../src/export/export-for-five.js';
import { changesToFive } from '../../src/catalog/line-changes.js';
import { freshState } from '../../src/state/fresh-state.js';
import { FOUR_X_FEDERATION } from '../helpers/four-x-federation.js';
import { runCli } from '../helpers/run-cli.js';
import { adaptDesiredToFive } from '../../src/adapt/adapt-desired.js';
import { loadConfig } from '../../src/config/load-config.js';
import { documentsForMove } from '../../src/config/move-documents.js';
import { validateConfig } from '../../src/config/validate-config.js';
import { ROOT_OWNED } from '../../src/state/live-state.js';
import type { DesiredState } from '../../src/federation.js';

interface ExportedRole { name: string; organization?: string; rules: { resource: string; scope: string; operation: string | string[] }[] }
interface ExportedUser { username: string; roles: (string | { name: string })[]; rules?: { resource: string }[]; password?: string }
interface Exported { vantage6: string; roles: ExportedRole[]; users: ExportedUser[]; collaborations: { members: { organization: string; node?: { name: string; policies?: unknown } | false }[] }[] }

const ops = (rule: ExportedRole['rules'][number]): string[] => (Array.isArray(rule.operation) ? rule.operation : [rule.operation]).map((op) => `${rule.resource}:${rule.scope}:${op}`);

/** A 4.x database of `release` holding the test federation, made and filled by fedctl as an admin would; the export for 5.0 of it. */
async function exportedFrom(release: string): Promise<{ dir: string; file: string; config: Exported; text: string; stderr: string; json: { adaptations: { path: string | null; note: string }[] } }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fedctl-four-to-five-'));
  const database = `sqlite:///${path.join(dir, 'old.sqlite')}`;
  writeFileSync(path.join(dir, 'four.yaml'), FOUR_X_FEDERATION);
  assert.equal((await runCli(['init', '--vantage6-version', release, '--database', database], { cwd: dir })).code, 0);
  const applied = await runCli(['apply', path.join(dir, 'four.yaml'), '--database', database, '--auto-approve'], { cwd: dir });
  assert.equal(applied.code, 0, applied.stderr);
  const file = path.join(dir, 'five.yaml');
  const exported = await runCli(['export', '--database', database, '--for', '5.0', '--node-policies-from', path.join(dir, 'four.yaml'), '-o', file], { cwd: dir });
  assert.equal(exported.code, 0, exported.stderr);
  const json = await runCli(['export', '--database', database, '--for', '5.0', '--node-policies-from', path.join(dir, 'four.yaml'), '--json'], { cwd: dir });
  assert.equal(json.code, 0, json.stderr);
  const text = readFileSync(file, 'utf8');
  return { dir, file, text, config: parse(text) as Exported, stderr: exported.stderr, json: JSON.parse(json.stdout) as { adaptations: { path: string | null; note: string }[] } };
}

describe('export --for 5.0: a config for vantage6 5 from a 4.x server', () => {
  it('from 4.13: validates for vantage6 5, every adaptation said at its line and listed at the end, JSON too', async () => {
    const { dir, file, config, text, stderr, json } = await exportedFrom('4.13');
    const validated = await runCli(['validate', file, '--no-color'], { cwd: dir });
    assert.equal(validated.code, 0, validated.stderr);
    assert.match(validated.stdout, /valid for vantage6 5\.0/);
    assert.equal(validated.stderr, '', 'no warning either');
    assert.equal(config.vantage6, '5.0');

    // Every role has an organization; the one without is in each organization whose users hold it, with the session rules its tasks need.
    assert.ok(config.roles.every((role) => role.organization !== undefined));
    const analysts = config.roles.filter((role) => role.name === 'Analyst 📊');
    assert.deepEqual(analysts.map((role) => role.organization).sort(), ['مستشفى 4x', '東京病院 4x']);
    const analystRules = analysts[0]?.rules.flatMap(ops) ?? [];
    assert.ok(changesToFive().sessionRulesFor(['task:COLLABORATION:CREATE']).every((key) => analystRules.includes(key.replace(/:([A-Z]+):([A-Z]+)$/, (_, s: string, o: string) => `:${s.toLowerCase()}:${o.toLowerCase()}`))));
    // Rules 5.0 does not have are left out, of roles and of users.
    assert.ok(config.roles.every((role) => role.rules.every((rule) => rule.resource !== 'port')));
    const zoe = config.users.find((u) => u.username === 'zoe.4x');
    assert.deepEqual(zoe?.rules?.map((r) => r.resource), ['event']);
    // Another organization's role: a copy in the user's own; 4.13's Organization Admin's task rules carried by a role of their own.
    assert.deepEqual([...(zoe?.roles ?? [])].sort(), ['Organization Admin', 'Organization Admin as on 4.x', 'Port Watcher']);
    assert.ok(config.roles.some((role) => role.name === 'Port Watcher' && role.organization === 'Zorg & Co! (4.x)'));
    const carried = config.roles.find((role) => role.name === 'Organization Admin as on 4.x');
    assert.ok(carried?.rules.flatMap(ops).includes('task:collaboration:create'));
    // Passwords: an invitation where there is an e-mail address, else generated; node names Keycloak can hold.
    assert.deepEqual(config.users.map((u) => [u.username, u.password]).sort(), [['kenji.4x', 'invite'], ['noor.4x', 'invite'], ['zoe.4x', 'generate']]);
    // The node's own policies cross with it (from the 4.x config), but the one only 4.x's nodes read.
    assert.deepEqual(Object.fromEntries(config.collaborations[0]?.members.map((m) => [m.organization, m.node]) ?? []), {
      'Zorg & Co! (4.x)': { name: 'Zorg-Move-Node', policies: { allowed_algorithms: ['^harbor2\\.vantage6\\.ai/demo/.*$'], allowed_users: ['zoe.4x'] } },
      '東京病院 4x': undefined, 'مستشفى 4x': false,
    });
    assert.match(text, /# fedctl: policies: left out allow_basics_algorithm: vantage6 5's nodes have no such policy\n/);

    // Said at each line, and listed at the end of the output and in the JSON alike.
    assert.match(text, /# fedctl: the 4\.x role without organization, one for each organization whose users hold it .*\n(?: {2}# fedctl: .*\n)* {2}- name: Analyst 📊\n/);
    assert.match(text, /# fedctl: left out port: view \(global\): vantage6 5 has no such rule\n(?: {2}# fedctl: .*\n)* {2}- username: zoe\.4x\n/);
    assert.match(text, /# fedctl: named "Zorg-Move-Node", not "Zorg Move Node": .*\n(?: {6}# fedctl: .*\n)* {6}- organization: Zorg & Co! \(4\.x\)\n/);
    const listed = stderr.split('\n').filter((line) => line.startsWith('  '));
    assert.equal(listed.length, json.adaptations.length);
    assert.equal((text.match(/# fedctl: /g) ?? []).length, json.adaptations.filter((a) => a.path !== null).length);
    assert.match(stderr, /^Adapted for vantage6 5\.0 \(\d+\):$/m);
    assert.ok(!json.adaptations.some((a) => a.path === null), 'every adaptation is at a line of the config (none of the server\'s own users)');
  });

  it('from 4.15: the built-in roles already match vantage6 5\'s, so none is carried', async () => {
    const { config } = await exportedFrom('4.15');
    assert.ok(!config.roles.some((role) => role.name.endsWith('as on 4.x')));
  });

  it('plan --compare-with another server: each user\'s access there against here, with the causes (4.13\'s Organization Admin against 4.15\'s)', async () => {
    const { dir } = await exportedFrom('4.13');
    const newer = `sqlite:///${path.join(dir, 'newer.sqlite')}`;
    assert.equal((await runCli(['init', '--vantage6-version', '4.15', '--database', newer], { cwd: dir })).code, 0);
    assert.equal((await runCli(['apply', path.join(dir, 'four.yaml'), '--database', newer, '--auto-approve'], { cwd: dir })).code, 0);
    const compared = await runCli(['plan', path.join(dir, 'four.yaml'), '--database', newer, '--compare-with', `sqlite:///${path.join(dir, 'old.sqlite')}`, '--json'], { cwd: dir });
    assert.equal(compared.code, 0, compared.stderr);
    const across = (JSON.parse(compared.stdout) as { accessAcross: { users: number; groups: { users: string[]; losses: { resource: string; operation: string }[]; gains: unknown[]; causes: string[] }[] } }).accessAcross;
    assert.equal(across.users, 1);
    assert.deepEqual(across.groups.map((g) => [g.users, g.losses.map((l) => `${l.resource}:${l.operation}`), g.gains, g.causes]), [[
      ['zoe.4x'], ['task:create', 'task:delete'], [], ['built-in role "Organization Admin" differs here: - task: create (collaboration), task: delete (organization)'],
    ]]);
    const same = await runCli(['plan', path.join(dir, 'four.yaml'), '--database', newer, '--compare-with', newer, '--no-color'], { cwd: dir });
    assert.match(same.stdout, /Access compared with sqlite:\S+ \(vantage6 [^)]+\): every user can do here what they could there, and no more\./);
  });

  it('refuses a vantage6 5 model, and --store-url without --for', async () => {
    const five = { ...freshState(), server: { ...freshState().server, versions: { from: 16, to: 16 } } };
    assert.throws(() => adaptToFive(five, { storeUrls: new Map() }), /vantage6 5 already/);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fedctl-four-to-five-'));
    const refused = await runCli(['export', '--database', `sqlite:///${path.join(dir, 'none.sqlite')}`, '--store-url', 'https://a.example.org/api=https://b.example.org/store'], { cwd: dir });
    assert.equal(refused.code, 1);
  });

  it('moves a store to the 5.x store given, its policies as 5.x has them, and leaves one without a 5.x store out, saying so', () => {
    const OLD = 'https://store4.example.org/api';
    const NEW = 'https://store5.example.org/store';
    const live = {
      ...freshState(),
      collaborations: [{ id: 1, name: 'C', encrypted: false, members: [] }],
      algorithmStores: [
        { id: 1, url: OLD, name: 'store4.example.org', everyCollaboration: true, collaborations: [], rows: [{ id: 1, collaboration: null }] },
        { id: 2, url: 'https://other.example.org/api', name: 'Other', everyCollaboration: true, collaborations: [], rows: [{ id: 2, collaboration: null }] },
      ],
      storePolicies: [{ store: OLD, policies: { algorithm_view: 'whitelisted', allowed_servers: ['https://v6.example.org/api'], min_reviewers: 1 } }],
      storeRoles: [
        { id: 1, store: OLD, name: 'Reviewer', description: 'built in', rules: ['algorithm:view', 'review:edit'], isDefault: true },
        { id: 2, store: OLD, name: 'Server Manager', description: 'built in', rules: ['vantage6_server:delete'], isDefault: true },
        { id: 9, store: OLD, name: 'Approver ✓ & co', description: null, rules: ['review:edit', 'vantage6_server:delete'], isDefault: false },
      ],
      storeUsers: [{ id: 3, store: OLD, username: 'anna', roles: ['Approver ✓ & co', 'Reviewer', 'Server Manager'] }],
      // The server's own administrator (4.x's root), which a federation moved leaves where it is.
      users: [{ id: 1, username: 'root', organization: 'root', firstname: null, lastname: null, email: 'root@example.org', enabled: true, roles: [{ name: 'Root', organization: null }], rules: [] }],
    };
    const adapted = adaptToFive(live, { storeUrls: new Map([[OLD, NEW]]) });
    assert.ok(live.users.some((u) => u.username === 'root'), 'the server\'s administrator is there');
    assert.ok(!adapted.adaptations.some((a) => a.at.kind === 'user'), 'and nothing is adapted of them');
    assert.deepEqual(adapted.live.algorithmStores.map((s) => [s.url, s.name]), [[NEW, 'store5.example.org']]);
    assert.deepEqual(adapted.live.storePolicies, [{ store: NEW, policies: { algorithm_view: 'authenticated', min_reviewers: 1 } }]);
    const notes = adapted.adaptations.map((a) => `${a.at.kind === 'algorithm_store' ? a.at.url : ''}: ${a.note}`);
    assert.ok(notes.some((n) => n.startsWith('https://other.example.org/api: left out') && n.includes('--store-url https://other.example.org/api=URL')));
    assert.ok(notes.some((n) => n.startsWith(`${NEW}: policy allowed_servers: left out`)));
    assert.ok(notes.some((n) => n.startsWith(`${NEW}: policy algorithm_view: "authenticated"`)));
    // The store's own roles and users move with it; what a 5.x store lacks is left out, and said.
    const exported = exportForFive(live, { storeUrls: new Map([[OLD, NEW]]) }).config.algorithm_stores as Record<string, unknown>[];
    assert.deepEqual(exported[0]?.roles, [{ name: 'Approver ✓ & co', rules: [{ resource: 'review', operation: 'edit' }] }]);
    assert.deepEqual(exported[0]?.users, [{ username: 'anna', roles: ['Approver ✓ & co', 'Reviewer'] }]);
    assert.ok(notes.some((n) => n.startsWith(`${NEW}: store role "Approver ✓ & co": left out vantage6_server:delete`)));
    assert.ok(notes.some((n) => n.startsWith(`${NEW}: store user "anna": left out store role "Server Manager"`)));
  });
});

describe('plan --for 5.0: the 4.x config planned for vantage6 5 while both servers run', () => {
  /** What HQ gets of a desired state, in an order that does not depend on how it was read. */
  const held = (desired: DesiredState): unknown => ({
    roles: [...desired.roles].sort((a, b) => JSON.stringify([a.organization, a.name]).localeCompare(JSON.stringify([b.organization, b.name]))),
    users: [...desired.users].sort((a, b) => a.username.localeCompare(b.username)),
    nodes: [...desired.nodes].sort((a, b) => a.name.localeCompare(b.name)),
    nodePolicies: desired.secrets.nodePolicies,
    organizations: [...desired.organizations].sort((a, b) => a.name.localeCompare(b.name)),
  });

  it('adapts the config exactly as export --for 5.0 adapts the server the config made, each adaptation at the 4.x config\'s line', async () => {
    const { dir, file } = await exportedFrom('4.13');
    const exported = validateConfig(await loadConfig([file]), {});
    assert.ok(exported.desired, JSON.stringify(exported.diagnostics));
    const hq = path.join(dir, 'hq.yaml');
    writeFileSync(hq, 'vantage6: "5.0"\nserver: { url: https://hq.example.org, keycloak: { url: https://auth.example.org } }\n');
    const undeclared = validateConfig(documentsForMove(await loadConfig([path.join(dir, 'four.yaml'), hq])).loaded, {});
    assert.match(undeclared.diagnostics.map((d) => d.message).join('\n'), /the 4\.x config says which release its server runs/);
    writeFileSync(path.join(dir, 'four.yaml'), `vantage6: "4.13"\n${FOUR_X_FEDERATION}`);
    const move = documentsForMove(await loadConfig([path.join(dir, 'four.yaml'), hq]));
    const four = validateConfig(move.loaded, {});
    assert.ok(four.desired, JSON.stringify(four.diagnostics));
    assert.equal(four.server.versions.to, 13, 'checked as the 4.x config it is');
    const adapted = adaptDesiredToFive(four.desired, four.server, { storeUrls: new Map(), owned: ROOT_OWNED });
    assert.deepEqual(held(adapted.desired), held(exported.desired));
    assert.deepEqual(adapted.desired.secrets.server, { url: 'https://hq.example.org', port: 443, apiPath: null, keycloak: { url: 'https://auth.example.org', realm: 'vantage6' } }, 'HQ\'s nodes reach HQ');
    assert.ok(adapted.adaptations.some((a) => a.at.kind === 'user' && a.at.username === 'noor.4x' && a.note.startsWith('password: invite')));
  });

  it('refuses what it cannot plan, located: a vantage6 5 file holding the federation, a 4.x server as the target, --store-url without --for', async () => {
    const { dir } = await exportedFrom('4.13');
    const four = path.join(dir, 'four.yaml');
    writeFileSync(four, `vantage6: "4.13"\n${FOUR_X_FEDERATION}`);
    const hq = path.join(dir, 'hq.yaml');
    writeFileSync(hq, 'vantage6: "5.0"\n# HQ only\nusers:\n  - username: only.hq\n    organization: مستشفى 4x\n');
    const database = `sqlite:///${path.join(dir, 'old.sqlite')}`;
    const located = await runCli(['plan', four, hq, '--for', '5.0', '--database', database, '--no-color'], { cwd: dir });
    assert.equal(located.code, 1);
    assert.match(located.stderr, /hq\.yaml:3:1 users: under --for 5\.0, a file for vantage6 5 holds only what differs on HQ: server: and secrets: \(put it in the 4\.x config/);
    const fourOnly = await runCli(['plan', four, '--for', '5.0', '--database', database, '--no-color'], { cwd: dir });
    assert.equal(fourOnly.code, 1);
    assert.match(fourOnly.stderr, /--for 5\.0 plans for vantage6 5, but sqlite:\S+ is vantage6 4\.13/);
    const loose = await runCli(['plan', four, '--store-url', 'https://a.example.org/api=https://b.example.org/store', '--database', database], { cwd: dir });
    assert.equal(loose.code, 1);
    assert.match(loose.stderr, /--store-url is for --for 5\.0 only/);
  });
});
