import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { dump } from 'js-yaml';
import type { Plan } from '../../src/plan/plan.js';
import { FIXED_SEED } from '../helpers/property-runs.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import { grantUserRoles } from './keycloak-users.js';
import type { RealServer } from './real-server.js';

/** Pieces of names as people of every script write them, and the characters Keycloak's person-name check forbids. */
const NAME_PIECES = ['Zoë', 'Ñúñez', "O'Brien", '李', '伟', 'محمد', 'العلي', 'Σωκράτης', 'עברית', 'हर्ष', 'สมชาย', 'Иван', 'Jr.', '🧪', 'van-der'];
const FORBIDDEN = ['(', ')', '&', '!', '%', '"', '\\', '<', '$', ';', '/', '#', '='];
/** Domains of every script, with the marks Devanagari and Thai need, in capitals too; two that IDNA 2003 maps (ß, final ς). */
const DOMAINS = ['Bücher.Example', 'उदाहरण.परीक्षा', 'ตัวอย่าง.ไทย', '例え.テスト', 'ολυμπος.example', 'straße.example', 'مثال.إختبار', 'EXAMPLE.org', 'пример.испытание'];

const name = fc.tuple(fc.array(fc.constantFrom(...NAME_PIECES), { minLength: 1, maxLength: 3 }), fc.oneof({ weight: 5, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom(...FORBIDDEN) }), fc.nat(2))
  .map(([pieces, bad, at]) => {
    const words = [...pieces];
    if (bad !== null) words.splice(Math.min(at, words.length), 0, bad);
    return words.join(' ');
  });
const email = fc.tuple(fc.array(fc.stringMatching(/^[A-Za-z0-9+_-]{1,6}$/), { minLength: 1, maxLength: 3 }), fc.constantFrom(...DOMAINS))
  .map(([atoms, domain]) => `${atoms.join('.')}@${domain}`);
const people = fc.array(fc.record({ firstname: name, lastname: name, email }), { minLength: 16, maxLength: 16 });

interface Refusal { readonly field: string; readonly value: string }

/**
 * Values of every kind the config takes for what Keycloak keeps (names of
 * every script, Keycloak's forbidden characters, e-mail in capitals and
 * internationalized domains), generated from the fixed seed and applied to
 * HQ and its Keycloak: each user is either refused by the plan, with the
 * field and value, before anything is changed (and Keycloak itself refuses
 * that value), or made; then the next plan is empty.
 */
export async function keycloakRoundTrip(server: RealServer, dir: string): Promise<void> {
  const keycloak = server.keycloak;
  assert.ok(keycloak, 'HQ runs with its Keycloak');
  await grantUserRoles(server);
  mkdirSync(dir, { recursive: true });
  const config = path.join(dir, 'round-trip.yaml');
  const fedctl = (args: string[]): Promise<CliResult> => runCli([...args, '--server', server.api], { cwd: dir, env: server.account });
  const planJson = async (): Promise<Plan> => {
    const planned = await fedctl(['plan', config, '--json']);
    assert.ok(planned.code === 0 || planned.code === 1, planned.stderr);
    return JSON.parse(planned.stdout) as Plan;
  };
  const [generated] = fc.sample(people, { seed: FIXED_SEED, numRuns: 1 });
  assert.ok(generated);
  const users = generated.map((person, i) => ({ username: `round.trip${i}`, organization: 'Round & Trip', password: 'generate', roles: ['Researcher'], ...person }));
  const write = (list: readonly Record<string, unknown>[]): void => writeFileSync(config, `vantage6: "5.0"\n${dump({ organizations: [{ name: 'Round & Trip' }], users: list }, { lineWidth: -1 })}`);

  write(users);
  const first = await planJson();
  const refused = new Map(first.blocked.map((b) => [b.address, b.reason]));
  assert.ok(refused.size > 0 && refused.size < users.length, `some of the generated users are refused, some taken: ${[...refused.keys()].join(', ')}`);
  // Refused before anything is done: an apply changes nothing.
  const stopped = await fedctl(['apply', config, '--auto-approve', '--no-color']);
  assert.equal(stopped.code, 1);
  assert.equal((await planJson()).changes.length, first.changes.length, 'nothing was changed');

  // Each refusal names the field and the value, and Keycloak itself refuses that value there.
  for (const [username, reason] of refused) {
    const user = users.find((u) => u.username === username);
    assert.ok(user, username);
    const named: Refusal[] = (['firstname', 'lastname', 'email'] as const)
      .filter((field) => reason.includes(`${field} ${JSON.stringify(user[field])}`)).map((field) => ({ field, value: user[field] }));
    assert.ok(named.length > 0, `${username}: ${reason}`);
    for (const { field, value } of named) {
      const attribute = { firstname: 'firstName', lastname: 'lastName', email: 'email' }[field];
      await assert.rejects(keycloak.admin('POST', `/${keycloak.realm}/users`, { username: `probe-${username}`, [attribute as string]: value }),
        /HTTP 400/, `Keycloak refuses ${field} ${JSON.stringify(value)} as the plan said`);
    }
  }
  // And what the plan took, Keycloak takes as given: made, then the next plan is empty (e-mail kept in lower case is the config's).
  write(users.filter((u) => !refused.has(u.username)));
  const applied = await fedctl(['apply', config, '--auto-approve', '--no-color']);
  assert.equal(applied.code, 0, applied.stderr);
  const after = await planJson();
  assert.deepEqual(after.changes, [], 'apply then plan: no changes');
  assert.deepEqual(after.blocked, []);
}
