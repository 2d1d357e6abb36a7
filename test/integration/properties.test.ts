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

for (const { engine, skip } of ENGINES) {
  describe(`properties on ${engine}`, { skip }, () => {
    it('apply then plan, and export then plan, show no changes, from empty and from another federation', async () => {
      await fc.assert(fc.asyncProperty(federation, federation, async (first, second) => {
        const db = await createTestDatabase(engine);
        try {
          assert.equal((await runCli(['init', '--database', db.url], { cwd: db.dir })).code, 0);
          for (const config of [first, second]) {
            const file = writeConfig(db, stringify(config));
            const applied = await runCli(['apply', file, '--database', db.url, '--auto-approve', '--bcrypt-cost', '4'], { cwd: db.dir });
            assert.equal(applied.code, 0, applied.stderr);
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
