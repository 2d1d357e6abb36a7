import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Ajv2020 } from 'ajv/dist/2020.js';
import bcrypt from 'bcryptjs';
import { parse } from 'yaml';
import { FEDCTL_BIN, runCli } from '../helpers/run-cli.js';
import { ENGINES, withInitializedDatabase, type TestDatabase } from '../helpers/test-databases.js';
import { exampleText, snapshot, writeConfig } from '../helpers/fixtures.js';

const exec = promisify(execFile);
const PLAN_SCHEMA = JSON.parse(readFileSync(new URL('../../schemas/plan.schema.json', import.meta.url), 'utf8')) as object;
const validatePlan = new Ajv2020({ allErrors: true, strict: false }).compile(PLAN_SCHEMA);

const fedctl = (db: TestDatabase, args: string[], env: NodeJS.ProcessEnv = {}) =>
  runCli([...args, '--database', db.url], { cwd: db.dir, env });
const apply = (db: TestDatabase, config: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}) =>
  fedctl(db, ['apply', config, '--auto-approve', '--bcrypt-cost', '4', ...extra], env);
const plan = (db: TestDatabase, config: string, extra: string[] = []) => fedctl(db, ['plan', config, '--detailed-exitcode', ...extra]);


const secretsOf = (db: TestDatabase) => parse(readFileSync(path.join(db.dir, 'fedctl-secrets.yaml'), 'utf8')) as {
  nodes: Record<string, { api_key: string }>; users: Record<string, { password: string }>;
};

for (const { engine, skip } of ENGINES) {
  describe(`review and CI workflow on ${engine}`, { skip }, () => {
    it('applies a saved plan, and refuses it once the database changed', async () => {
      await withInitializedDatabase(engine, async (db) => {
        const config = writeConfig(db, exampleText());
        const planFile = path.join(db.dir, 'plan.json');
        const saved = await fedctl(db, ['plan', config, '-o', planFile]);
        assert.equal(saved.code, 0, saved.stderr);
        const text = readFileSync(planFile, 'utf8');
        assert.ok(validatePlan(JSON.parse(text).plan), JSON.stringify(validatePlan.errors));
        assert.doesNotMatch(text, /\$2b\$|[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-/);

        // A stale plan: someone changed the database after the plan was made.
        const stale = path.join(db.dir, 'stale.json');
        writeConfig(db, exampleText().replace('domain: iknl.nl', 'domain: iknl.example'), 'other.yaml');
        assert.equal((await fedctl(db, ['plan', path.join(db.dir, 'other.yaml'), '-o', stale])).code, 0);

        const applied = await fedctl(db, ['apply', planFile, '--auto-approve', '--bcrypt-cost', '4']);
        assert.equal(applied.code, 0, applied.stderr);
        assert.match(applied.stdout, /Apply complete: 19 added/);
        assert.equal((await plan(db, config)).code, 0);

        const before = await snapshot(db);
        const refused = await fedctl(db, ['apply', stale, '--auto-approve']);
        assert.equal(refused.code, 1);
        assert.match(refused.stderr, / changed since this plan was made; run fedctl plan again/);
        assert.deepEqual(await snapshot(db), before);
      });
    });

    it('keeps a saved plan valid across an apply that changed nothing', async () => {
      await withInitializedDatabase(engine, async (db) => {
        const config = writeConfig(db, exampleText());
        assert.equal((await apply(db, config)).code, 0);
        const changed = writeConfig(db, exampleText().replace('country: Norway', 'country: Norge'), 'changed.yaml');
        const planFile = path.join(db.dir, 'plan.json');
        assert.equal((await fedctl(db, ['plan', changed, '-o', planFile])).code, 0);
        const noop = await apply(db, config);
        assert.match(noop.stdout, /^No changes\./);
        const applied = await fedctl(db, ['apply', planFile, '--auto-approve']);
        assert.equal(applied.code, 0, applied.stderr);
        assert.match(applied.stdout, /Apply complete: 0 added, 1 changed, 0 destroyed\./);
        assert.equal((await plan(db, changed)).code, 0);
      });
    });

    it('prints a JSON plan that validates against its schema and holds no secret, and JSON errors', async () => {
      await withInitializedDatabase(engine, async (db) => {
        const config = writeConfig(db, exampleText());
        assert.equal((await apply(db, config)).code, 0);
        const secrets = secretsOf(db);
        writeConfig(db, exampleText().replace('roles: [Viewer]', 'roles: [Viewer, Researcher]').replace('  - name: Auditor', '  - name: Auditors\n    previous_names: [Auditor]').replace('[Researcher, Auditor]', '[Researcher, Auditors]'));
        const json = await plan(db, config, ['--json', '--rotate-node-key', 'charite-crc-node', '--reset-password', 'anna.devries']);
        assert.equal(json.code, 2, json.stderr);
        const document = JSON.parse(json.stdout) as { summary: unknown };
        assert.ok(validatePlan(document), JSON.stringify(validatePlan.errors));
        assert.deepEqual(document.summary, { add: 0, change: 4, destroy: 0 });
        for (const secret of [...Object.values(secrets.nodes).map((n) => n.api_key), ...Object.values(secrets.users).map((u) => u.password)]) {
          assert.ok(!json.stdout.includes(secret));
        }
        writeConfig(db, 'organizations:\n  - name: A\n    contry: NL\n', 'bad.yaml');
        const bad = await plan(db, path.join(db.dir, 'bad.yaml'), ['--json']);
        assert.equal(bad.code, 1);
        const error = JSON.parse(bad.stdout).error;
        assert.equal(error.code, 'CONFIG_INVALID');
        assert.deepEqual(error.diagnostics.map((d: { line: number; column: number; path: string }) => [d.line, d.column, d.path]), [[3, 5, 'organizations[0].contry']]);
        assert.equal(bad.stderr, '');
      });
    });

    it('prints a Markdown plan for a pull request, summary first', async () => {
      await withInitializedDatabase(engine, async (db) => {
        const config = writeConfig(db, exampleText());
        const markdown = await plan(db, config, ['--markdown']);
        assert.equal(markdown.code, 2);
        assert.match(markdown.stdout, /^### fedctl plan: 19 to add, 0 to change, 0 to destroy\n/);
        assert.match(markdown.stdout, /<details><summary><b>Nodes<\/b> \(\+5\): /);
        assert.match(markdown.stdout, /```diff\n\+ user "anna\.devries"\n/);
      });
    });

    it('renames keep ids, and nothing is deleted or created', async () => {
      await withInitializedDatabase(engine, async (db) => {
        const config = writeConfig(db, exampleText());
        assert.equal((await apply(db, config)).code, 0);
        const ids = await db.sql(`select id, name from organization where name = 'IKNL' union all select id, name from collaboration where name = 'Rare Tumours Registry' union all select id, username from "user" where username = 'bram.jansen' order by 1`);
        const nodeIds = await db.sql('select id from node order by id');
        writeConfig(db, exampleText()
          .replaceAll('IKNL', 'Netherlands Comprehensive Cancer Organisation')
          .replace('  - name: Netherlands Comprehensive Cancer Organisation\n', '  - name: Netherlands Comprehensive Cancer Organisation\n    previous_names: [IKNL]\n')
          .replace('  - name: Rare Tumours Registry\n', '  - name: Rare Tumors Registry\n    previous_names: [Rare Tumours Registry]\n')
          .replace('  - username: bram.jansen\n', '  - username: b.jansen\n    previous_usernames: [bram.jansen]\n'));
        const planned = await plan(db, config);
        assert.equal(planned.code, 2);
        assert.match(planned.stdout, /~ organization "IKNL" -> "Netherlands Comprehensive Cancer Organisation"/);
        assert.match(planned.stdout, /~ collaboration "Rare Tumours Registry" -> "Rare Tumors Registry"/);
        assert.match(planned.stdout, /~ user "bram\.jansen" -> "b\.jansen"/);
        assert.match(planned.stdout, /Plan: 0 to add, 7 to change, 0 to destroy\./);
        assert.equal((await apply(db, config)).code, 0);
        assert.equal((await plan(db, config)).code, 0);
        const renamed = await db.sql(`select id, name from organization where name = 'Netherlands Comprehensive Cancer Organisation' union all select id, name from collaboration where name = 'Rare Tumors Registry' union all select id, username from "user" where username = 'b.jansen' order by 1`);
        assert.deepEqual(renamed.map((r) => r.id), ids.map((r) => r.id));
        assert.deepEqual(await db.sql('select id from node order by id'), nodeIds);
      });
    });

    it('prunes only the kinds asked for, never the server\'s own, and only with --allow-destroy', async () => {
      await withInitializedDatabase(engine, async (db) => {
        const config = writeConfig(db, exampleText());
        assert.equal((await apply(db, config)).code, 0);
        // The server's first start made these.
        await db.sql("insert into organization (id, name) values (100, 'root')");
        await db.sql("insert into authenticatable (id, type) values (100, 'user')");
        await db.sql("insert into \"user\" (id, username, organization_id, failed_login_attempts) values (100, 'root', 100, 0)");
        writeConfig(db, exampleText().replace(/  - username: ingrid\.hansen[\s\S]*?roles: \[Viewer\]\n/, '').replace(/      - organization: Oslo University Hospital\n/g, ''));
        const off = await plan(db, config);
        assert.match(off.stdout, /0 to destroy/);
        const guarded = await plan(db, config, ['--prune', 'users']);
        assert.equal(guarded.code, 1);
        assert.match(guarded.stdout, /- user "ingrid\.hansen"/);
        assert.match(guarded.stderr, /the plan deletes 1 object\(s\); review the deletes and pass --allow-destroy/);
        assert.equal((await apply(db, config, ['--prune', 'users'])).code, 1);
        const applied = await apply(db, config, ['--prune', 'users', '--allow-destroy']);
        assert.equal(applied.code, 0, applied.stderr);
        assert.match(applied.stdout, /Apply complete: 0 added, 1 changed, 1 destroyed\./);
        assert.deepEqual(await db.sql("select username from \"user\" where username in ('ingrid.hansen', 'root') order by 1"), [{ username: 'root' }]);
        // Nodes are not pruned: the removed member's node stays, unmanaged.
        assert.equal((await db.sql("select count(*) as n from node where name = 'Oslo University Hospital - Rare Tumours Registry Node'")).map((r) => Number(r.n))[0], 1);
        const listed = await plan(db, config, ['--show-unmanaged', '--prune', 'users']);
        assert.match(listed.stdout, /\? user "root" \(the server's own, never pruned\)/);
        // The config's own prune: setting works the same.
        writeConfig(db, `prune: { nodes: true }\n${readFileSync(config, 'utf8')}`);
        const nodes = await apply(db, config, ['--allow-destroy']);
        assert.equal(nodes.code, 0, nodes.stderr);
        assert.match(nodes.stdout, /- node "Oslo University Hospital - Rare Tumours Registry Node"/);
        assert.equal((await db.sql('select count(*) as n from authenticatable a left join node n on n.id = a.id left join "user" u on u.id = a.id where n.id is null and u.id is null')).map((r) => Number(r.n))[0], 0);
      });
    });

    it('refuses in the plan a delete that would orphan tasks and runs', async () => {
      await withInitializedDatabase(engine, async (db) => {
        const config = writeConfig(db, exampleText());
        assert.equal((await apply(db, config)).code, 0);
        await db.sql(`insert into task (id, name, collaboration_id, init_org_id) select 1, 'analysis', c.id, o.id from collaboration c, organization o where c.name = 'Rare Tumours Registry' and o.name = 'IKNL'`);
        await db.sql(`insert into run (id, task_id, organization_id, blob_storage_used) select 1, 1, o.id, ${engine === 'sqlite' ? 0 : 'false'} from organization o where o.name = 'Oslo University Hospital'`);
        writeConfig(db, `prune: true\n${exampleText().replace(/  - name: Rare Tumours Registry[\s\S]*?node: false[^\n]*\n/, '')}`);
        const before = await snapshot(db);
        const planned = await plan(db, config, ['--allow-destroy']);
        assert.equal(planned.code, 1);
        assert.match(planned.stdout, /Refused: 2 change\(s\) that cannot be made:/);
        assert.match(planned.stdout, /! delete collaboration "Rare Tumours Registry": tasks or runs refer to it/);
        assert.match(planned.stdout, /! delete node "Oslo University Hospital - Rare Tumours Registry Node": its organization has runs in its collaboration/);
        // IKNL has no runs there: its node could go, but the plan as a whole is refused.
        assert.match(planned.stdout, /- node "IKNL - Rare Tumours Registry Node"/);
        assert.match(planned.stderr, /the plan has 2 change\(s\) that cannot be made/);
        const applied = await apply(db, config, ['--allow-destroy']);
        assert.equal(applied.code, 1);
        assert.deepEqual(await snapshot(db), before);
      });
    });

    it('rotates a node key and resets a password only on request, into the secrets file', async () => {
      await withInitializedDatabase(engine, async (db) => {
        const config = writeConfig(db, exampleText());
        assert.equal((await apply(db, config)).code, 0);
        const old = secretsOf(db);
        const planned = await plan(db, config, ['--rotate-node-key', 'IKNL/Colorectal Cancer Survival', '--reset-password', 'anna.devries']);
        assert.equal(planned.code, 2);
        assert.match(planned.stdout, /~ node "IKNL - Colorectal Cancer Survival Node"\n\s+api_key: \(sensitive\) -> \(new key, into the secrets file\)/);
        assert.match(planned.stdout, /~ user "anna\.devries"\n\s+password: \(sensitive\) -> \(new password, from the config\)/);
        const applied = await apply(db, config, ['--rotate-node-key', 'IKNL/Colorectal Cancer Survival', '--reset-password', 'anna.devries']);
        assert.equal(applied.code, 0, applied.stderr);
        const now = secretsOf(db);
        const node = 'IKNL - Colorectal Cancer Survival Node';
        assert.notEqual(now.nodes[node]?.api_key, old.nodes[node]?.api_key);
        const [row] = await db.sql(`select api_key from node where name = '${node}'`);
        assert.ok(bcrypt.compareSync(now.nodes[node]?.api_key ?? '', String(row?.api_key)));
        assert.ok(!bcrypt.compareSync(old.nodes[node]?.api_key ?? '', String(row?.api_key)));
        const [anna] = await db.sql(`select password from "user" where username = 'anna.devries'`);
        assert.ok(bcrypt.compareSync(now.users['anna.devries']?.password ?? '', String(anna?.password)));
        assert.equal(now.nodes['charite-crc-node']?.api_key, old.nodes['charite-crc-node']?.api_key);
        assert.equal((await plan(db, config)).code, 0);
        const unknown = await plan(db, config, ['--rotate-node-key', 'no-such-node']);
        assert.equal(unknown.code, 1);
        assert.match(unknown.stderr, /--rotate-node-key: no existing node in the config named "no-such-node"/);
      });
    });

    it('limits plan and apply to --target and what it needs', async () => {
      await withInitializedDatabase(engine, async (db) => {
        const config = writeConfig(db, exampleText());
        const planned = await plan(db, config, ['--target', 'user/bram.jansen']);
        assert.equal(planned.code, 2);
        assert.deepEqual([...planned.stdout.matchAll(/^ {2}\+ (\w+) "([^"]+)"/gm)].map((m) => `${m[1]} ${m[2]}`), [
          'organization IKNL', 'role Data Steward (IKNL)', 'user bram.jansen',
        ]);
        assert.equal((await apply(db, config, ['--target', 'user/bram.jansen'])).code, 0);
        assert.equal((await plan(db, config, ['--target', 'user/bram.jansen'])).code, 0);
        assert.match((await plan(db, config)).stdout, /Plan: 16 to add/);
        assert.equal((await plan(db, config, ['--target', 'user/nobody'])).code, 1);
      });
    });

    it('exports a federation that plans as no changes, also one written by hand in SQL', async () => {
      await withInitializedDatabase(engine, async (db) => {
        const bool = (b: boolean) => (engine === 'sqlite' ? (b ? 1 : 0) : b);
        await db.sql(`insert into organization (id, name, domain, country) values (1, 'root', null, null), (2, 'Hospital ''A''', 'a.org', 'NL'), (3, 'Lab \${B}', null, null)`);
        await db.sql(`insert into collaboration (id, name, encrypted) values (1, 'Study net', ${bool(false)}), (2, 'Other', null)`);
        await db.sql('insert into "Member" (organization_id, collaboration_id) values (2, 1), (3, 1), (3, 1), (2, 2)');
        await db.sql("insert into authenticatable (id, type, status) values (1, 'user', null), (2, 'node', 'online'), (3, 'user', null), (4, 'user', null)");
        await db.sql("insert into \"user\" (id, username, organization_id, email, failed_login_attempts) values (1, 'root', 1, 'root@domain.ext', 0), (3, 'ann', 2, 'ann@a.org', 0), (4, 'bob', 3, null, 3)");
        await db.sql("insert into node (id, name, api_key, organization_id, collaboration_id) values (2, 'custom node', 'x', 2, 1)");
        await db.sql("insert into study (id, name, collaboration_id) values (1, 'S1', 1)");
        await db.sql('insert into "StudyMember" (organization_id, study_id) values (3, 1)');
        await db.sql(`insert into role (id, name, description, organization_id, is_default_role) values (20, 'Helper', null, 2, ${bool(false)}), (21, 'Helper', 'global one', null, ${bool(false)})`);
        await db.sql("insert into role_rule_association (role_id, rule_id) select 20, id from rule where name = 'node' union all select 21, id from rule where name = 'event' and scope = 'GLOBAL'");
        await db.sql('insert into "Permission" (role_id, user_id) values (20, 3), (21, 3), (21, 4), (4, 4), (1, 1)');
        await db.sql("insert into \"UserPermission\" (rule_id, user_id) select id, 4 from rule where name = 'task' and operation = 'VIEW'");
        const exported = await fedctl(db, ['export', '-o', path.join(db.dir, 'exported.yaml')]);
        assert.equal(exported.code, 0, exported.stderr);
        const text = readFileSync(path.join(db.dir, 'exported.yaml'), 'utf8');
        assert.match(text, /Lab \$\$\{B\}/);
        assert.doesNotMatch(text, /username: root/);
        const validated = await runCli(['validate', path.join(db.dir, 'exported.yaml')], { cwd: db.dir });
        assert.equal(validated.code, 0, validated.stderr);
        const planned = await plan(db, path.join(db.dir, 'exported.yaml'));
        assert.equal(planned.code, 0, planned.stdout + planned.stderr);
      });
    });

    it('serializes concurrent applies: all finish, no duplicate rows, the last one wins', async () => {
      await withInitializedDatabase(engine, async (db) => {
        const configs = ['a', 'b', 'c'].map((name) => writeConfig(db, exampleText().replace('domain: iknl.nl', `domain: ${name}.example`), `${name}.yaml`));
        const run = (config: string) => exec(process.execPath, [FEDCTL_BIN, 'apply', config, '--auto-approve', '--bcrypt-cost', '4', '--database', db.url],
          { cwd: db.dir, env: { PATH: process.env.PATH } });
        const finished = await Promise.all(configs.map(run));
        const counts = await db.sql('select (select count(*) from organization) as orgs, (select count(*) from node) as nodes, (select count(*) from "user") as users, (select count(*) from "Member") as members, (select count(*) from "Permission") as permissions');
        assert.deepEqual(Object.values(counts[0] ?? {}).map(Number), [4, 5, 5, 6, 7]);
        assert.equal(finished.length, 3);
        const [winner] = await db.sql("select domain from organization where name = 'IKNL'");
        const last = path.join(db.dir, `${String(winner?.domain).split('.')[0]}.yaml`);
        assert.equal((await plan(db, last)).code, 0, 'the state is exactly one of the configs');
        assert.equal(Object.keys(secretsOf(db).nodes).length, 5);
      });
    });
  });
}
