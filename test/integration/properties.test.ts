import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { readableSpelling } from '../../src/catalog/rule-catalog.js';
import { referenceCatalog } from '../../src/catalog/reference-catalog.js';
import { NEWEST_RELEASE } from '../../src/catalog/vantage6-versions.js';

const RULE_CATALOG = referenceCatalog(NEWEST_RELEASE).rules;
import { parseConfigText } from '../../src/config/load-config.js';
import { validateConfig } from '../../src/config/validate-config.js';
import { runCli } from '../helpers/run-cli.js';
import { ENGINES, createTestDatabase } from '../helpers/test-databases.js';
import { writeConfig } from '../helpers/fixtures.js';
import { propertyRuns } from '../helpers/property-runs.js';

/** Names as people write them: unicode, quotes, semicolons, SQL, but no surrounding whitespace. */
const name = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 16 }) },
  fc.constantFrom('__proto__', 'constructor', 'valueOf', "Robert'); DROP TABLE organization;--", 'Zürich 🏥', '"quoted"', 'x'.repeat(300)),
).map((s) => s.replace(/[\p{Cc}\u2028\u2029]/gu, '').replaceAll('${', '$').trim())
  .filter((s) => /^[^\s\p{Cc}](?:[^\p{Cc}\u2028\u2029]*[^\s\p{Cc}])?$/u.test(s) && !['Root', 'node', 'container'].includes(s));
const username = fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9._-]{2,12}$/);
const ruleEntry = fc.constantFrom(...RULE_CATALOG).map((rule) => ({
  resource: rule.resource, scope: readableSpelling(rule.scope), operation: readableSpelling(rule.operation),
}));
const BUILT_IN = ['Viewer', 'Researcher', 'Organization Admin', 'Collaboration Admin', 'Root'];

/** A valid federation config: every reference resolves, every identity is unique. */
const federation = fc.uniqueArray(name, { minLength: 1, maxLength: 5 }).chain((orgs) => fc.record({
  orgs: fc.constant(orgs),
  collabs: fc.uniqueArray(name, { maxLength: 3 }).chain((names) => fc.tuple(...names.map((collab) => fc.record({
    name: fc.constant(collab),
    encrypted: fc.boolean(),
    members: fc.subarray(orgs).chain((members) => fc.tuple(...members.map((org) => fc.record({ organization: fc.constant(org), node: fc.boolean() })))),
  })))),
  roles: fc.uniqueArray(fc.record({ name, organization: fc.option(fc.constantFrom(...orgs), { nil: undefined }), rules: fc.array(ruleEntry, { maxLength: 6 }) }),
    { maxLength: 3, selector: (r) => JSON.stringify([r.name, r.organization ?? null]) })
    .map((roles) => roles.filter((r) => !BUILT_IN.includes(r.name) && !['Viewer', 'Researcher', 'Organization Admin', 'Collaboration Admin'].includes(r.name))),
  users: fc.uniqueArray(fc.record({ username, organization: fc.constantFrom(...orgs), firstname: fc.option(name, { nil: undefined }), rules: fc.array(ruleEntry, { maxLength: 3 }), builtIn: fc.subarray(BUILT_IN) }),
    { maxLength: 4, selector: (u) => u.username.toLowerCase() }),
}).chain((f) => fc.record({
  f: fc.constant(f),
  studies: fc.uniqueArray(name, { maxLength: 2 }).chain((names) => fc.tuple(...names.flatMap((study) => f.collabs.length === 0 ? [] : [
    fc.constantFrom(...f.collabs).chain((c) => fc.subarray(c.members.map((m) => m.organization)).map((members) => ({ name: study, collaboration: c.name, organizations: members }))),
  ]))),
})).map(({ f, studies }) => {
  return {
    version: 1,
    organizations: f.orgs.map((org) => ({ name: org })),
    collaborations: f.collabs.map((c) => ({
      name: c.name,
      encrypted: c.encrypted,
      // Node names are unique on the server, also across federations applied one after the other.
      members: c.members.map((m) => ({ organization: m.organization, node: m.node ? { name: JSON.stringify([m.organization, c.name]) } : false })),
    })),
    studies,
    roles: f.roles.map((r) => ({ name: r.name, ...(r.organization === undefined ? {} : { organization: r.organization }), rules: r.rules })),
    users: f.users.map((u, i) => ({
      username: u.username,
      organization: u.organization,
      email: `${Buffer.from(u.username).toString('hex')}@example.org`,
      ...(u.firstname === undefined ? {} : { firstname: u.firstname }),
      roles: [...u.builtIn, ...f.roles.filter((r) => r.organization === undefined || r.organization === u.organization).slice(0, 1).map((r) => ({ name: r.name, ...(r.organization === undefined ? {} : { organization: r.organization }) }))],
      rules: u.rules,
      password: i % 2 === 0 ? 'generate' : undefined,
    })).map((u) => JSON.parse(JSON.stringify(u))),
  };
}));

describe('properties', () => {
  it('validate never throws, whatever the document', () => {
    fc.assert(fc.property(fc.anything(), (value) => {
      const parsed = parseConfigText('any.yaml', stringify(value) ?? '');
      if (parsed.document) validateConfig({ documents: [parsed.document], diagnostics: parsed.diagnostics }, {});
    }), propertyRuns(300));
  });

  it('generated federations are valid', () => {
    fc.assert(fc.property(federation, (config) => {
      const parsed = parseConfigText('gen.yaml', stringify(config));
      assert.ok(parsed.document);
      const result = validateConfig({ documents: [parsed.document], diagnostics: parsed.diagnostics }, {});
      assert.deepEqual(result.diagnostics.filter((d) => d.severity === 'error'), []);
    }), propertyRuns(100));
  });
});

interface AccessJson {
  users: { username: string; permissions: { resource: string; operation: string; scope: string; on: string[] }[] }[];
}
interface PlanJson {
  access?: { groups: { users: string[]; gains: { resource: string; operation: string; on: string[] }[]; losses: { resource: string; operation: string; on: string[] }[] }[] };
}
/** Per user, per `resource:operation`, what it reaches. */
type AccessMap = Map<string, Map<string, Set<string>>>;

function permissionMap(users: AccessJson['users']): AccessMap {
  return new Map(users.map((u) => [u.username, new Map(u.permissions.map((p) => [`${p.resource}:${p.operation}`, new Set(p.on)]))]));
}

/** Every user's access as the database holds it, through `fedctl access`. */
async function liveAccess(url: string, cwd: string): Promise<AccessMap> {
  const all = await runCli(['access', '--database', url, '--json'], { cwd });
  assert.equal(all.code, 0, all.stderr);
  const usernames = (JSON.parse(all.stdout) as { users: { username: string }[] }).users.map((u) => u.username);
  const detail = await runCli(['access', '--database', url, '--json', ...usernames.flatMap((u) => ['--user', u])], { cwd });
  assert.equal(detail.code, 0, detail.stderr);
  return permissionMap((JSON.parse(detail.stdout) as AccessJson).users);
}

/** Per user, `+ resource:operation target` and `- ...` lines, sorted: what changed between two readings. */
function accessDifference(before: AccessMap, after: AccessMap): Map<string, string[]> {
  const changes = new Map<string, string[]>();
  for (const user of new Set([...before.keys(), ...after.keys()])) {
    const was = before.get(user) ?? new Map<string, Set<string>>();
    const is = after.get(user) ?? new Map<string, Set<string>>();
    const lines: string[] = [];
    for (const key of new Set([...was.keys(), ...is.keys()])) {
      const t0 = was.get(key) ?? new Set<string>();
      const t1 = is.get(key) ?? new Set<string>();
      // Everything holds any narrower reach: going from or to it is no loss or gain of what it covers.
      if (!t0.has('everything')) for (const t of t1) if (!t0.has(t)) lines.push(`+ ${key} ${t}`);
      if (!t1.has('everything')) for (const t of t0) if (!t1.has(t)) lines.push(`- ${key} ${t}`);
    }
    if (lines.length > 0) changes.set(user, lines.sort());
  }
  return changes;
}

function planAccessChanges(plan: PlanJson): Map<string, string[]> {
  const changes = new Map<string, string[]>();
  for (const group of plan.access?.groups ?? []) {
    const lines = [
      ...group.gains.flatMap((g) => g.on.map((t) => `+ ${g.resource}:${g.operation} ${t}`)),
      ...group.losses.flatMap((l) => l.on.map((t) => `- ${l.resource}:${l.operation} ${t}`)),
    ].sort();
    for (const user of group.users) changes.set(user, lines);
  }
  return changes;
}

for (const { engine, skip } of ENGINES) {
  describe(`properties on ${engine}`, { skip }, () => {
    it('apply then plan, and export then plan, show no changes, from empty and from another federation; access is as the plan said and as the config says', async () => {
      await fc.assert(fc.asyncProperty(federation, federation, async (first, second) => {
        const db = await createTestDatabase(engine);
        try {
          assert.equal((await runCli(['init', '--database', db.url], { cwd: db.dir })).code, 0);
          // The first federation again, its users and roles holding less: access lost.
          const narrowed = {
            ...first,
            roles: first.roles.map((r) => ({ ...r, rules: r.rules.slice(1) })),
            users: first.users.map((u) => ({ ...u, roles: u.roles.slice(1), rules: [] })),
          };
          for (const config of [first, second, narrowed]) {
            const file = writeConfig(db, stringify(config));
            const before = await liveAccess(db.url, db.dir);
            const planned0 = await runCli(['plan', file, '--database', db.url, '--json'], { cwd: db.dir });
            assert.equal(planned0.code, 0, planned0.stderr);
            const applied = await runCli(['apply', file, '--database', db.url, '--auto-approve', '--bcrypt-cost', '4'], { cwd: db.dir });
            assert.equal(applied.code, 0, applied.stderr);
            const after = await liveAccess(db.url, db.dir);
            // The access a plan says it changes is the difference of the access before and after its apply.
            assert.deepEqual(planAccessChanges(JSON.parse(planned0.stdout) as PlanJson), accessDifference(before, after));
            // Access computed from the config is access computed from the database it was applied to.
            const usernames = config.users.map((u) => u.username);
            if (usernames.length > 0) {
              const offline = await runCli(['access', file, '--json', ...usernames.flatMap((u) => ['--user', u])], { cwd: db.dir });
              assert.equal(offline.code, 0, offline.stderr);
              assert.deepEqual(permissionMap((JSON.parse(offline.stdout) as AccessJson).users), new Map([...after].filter(([u]) => usernames.includes(u))));
            }
            const planned = await runCli(['plan', file, '--database', db.url, '--detailed-exitcode'], { cwd: db.dir });
            assert.equal(planned.code, 0, planned.stdout + planned.stderr);
            // Adopting this database: its export plans as no changes, unless export said what it had to leave out
            // (objects a second federation left unmanaged can be inconsistent, e.g. a study member no longer in the collaboration).
            const exported = path.join(db.dir, 'exported.yaml');
            const exporting = await runCli(['export', '--database', db.url, '-o', exported], { cwd: db.dir });
            assert.equal(exporting.code, 0);
            if (!exporting.stderr.includes('warning: left out')) {
              const adopted = await runCli(['plan', exported, '--database', db.url, '--detailed-exitcode'], { cwd: db.dir });
              assert.equal(adopted.code, 0, adopted.stdout + adopted.stderr);
            }
          }
        } finally {
          await db.drop();
        }
      }), propertyRuns(engine === 'sqlite' ? 40 : 15));
    });
  });
}
