import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { load } from 'js-yaml';
import { runCli } from '../helpers/run-cli.js';
import { ENGINES, POSTGRES_ADMIN_URL, withInitializedDatabase } from '../helpers/test-databases.js';
import { exampleText, snapshot, writeConfig } from '../helpers/fixtures.js';


const BASE = 'organizations:\n  - name: IKNL\n';

/** Configs that must be refused with exit 1 and a message located at file:line:col. */
const REFUSED: [string, string, RegExp][] = [
  ['invalid YAML', 'organizations:\n  - name: [IKNL\n', /:\d+:\d+ \(document\): invalid YAML/],
  ['an alias bomb', `a: &a [x, x, x, x, x, x, x, x, x]\n${Array.from({ length: 9 }, (_, i) => `${'bcdefghij'[i]}: &${'bcdefghij'[i]} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(', ')}]`).join('\n')}\n`, /:1:1 \(document\): invalid YAML: .*alias/i],
  ['a wrong type', `${BASE}collaborations:\n  - name: C\n    encrypted: "maybe"\n`, /:5:16 collaborations\[0\]\.encrypted: must be boolean, not string "maybe"/],
  ['an unknown field', `${BASE}    countyr: NL\n`, /:3:5 organizations\[0\]\.countyr: unknown field "countyr" \(did you mean "country"\?\)/],
  ['a control character in a name', 'organizations:\n  - name: "IK\\u0007NL"\n', /:2:11 organizations\[0\]\.name: must not be empty, start or end with whitespace, or contain control characters/],
  ['a leading space in a name', 'organizations:\n  - name: " IKNL"\n', /:2:11 organizations\[0\]\.name: must not be empty, start or end with whitespace/],
  ['a 10,000-character name', `organizations:\n  - name: ${'x'.repeat(10_000)}\n`, /:2:11 organizations\[0\]\.name: must be at most 1024 characters long/],
  ['duplicate mapping keys', `${BASE}    name: Other\n`, /:3:5 \(document\): invalid YAML: Map keys must be unique/],
  ['an unset variable', `${BASE}    domain: \${NOT_SET_ANYWHERE}\n`, /:3:13 organizations\[0\]\.domain: environment variable NOT_SET_ANYWHERE is not set/],
  ['a literal password', `${BASE}users:\n  - username: anna\n    organization: IKNL\n    password: "hunter2; DROP TABLE user"\n`, /:6:15 users\[0\]\.password: a password must not be written in the config/],
];

describe('hostile and broken input', () => {
  for (const [what, text, expected] of REFUSED) {
    it(`refuses ${what}: exit 1, a located message, nothing touched`, async () => {
      await withInitializedDatabase('sqlite', async (db) => {
        const config = writeConfig(db, text);
        const before = await snapshot(db);
        const result = await runCli(['apply', config, '--auto-approve', '--database', db.url], { cwd: db.dir });
        assert.equal(result.code, 1);
        assert.match(result.stderr, expected);
        assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
        assert.deepEqual(await snapshot(db), before);
        assert.deepEqual(readdirSync(db.dir).sort(), ['federation.yaml', 'vantage6.sqlite']);
      });
    });
  }

  it('refuses a very large file before reading it', async () => {
    await withInitializedDatabase('sqlite', async (db) => {
      const config = path.join(db.dir, 'huge.yaml');
      writeFileSync(config, Buffer.alloc(65 * 2 ** 20, 0x20));
      const result = await runCli(['validate', config], { cwd: db.dir });
      assert.equal(result.code, 1);
      assert.match(result.stderr, /is 65 MiB; fedctl reads files up to 64 MiB/);
    });
  });

  it('refuses a secrets file that is a folder or not valid YAML, before touching anything', async () => {
    await withInitializedDatabase('sqlite', async (db) => {
      const config = writeConfig(db, exampleText());
      const before = await snapshot(db);
      mkdirSync(path.join(db.dir, 'folder'));
      const folder = await runCli(['apply', config, '--auto-approve', '--bcrypt-cost', '4', '--database', db.url, '--secrets-file', 'folder'], { cwd: db.dir });
      assert.equal(folder.code, 1);
      assert.match(folder.stderr, /cannot read secrets file .*folder: EISDIR/);
      writeFileSync(path.join(db.dir, 'broken.yaml'), 'nodes: [unclosed\n');
      const broken = await runCli(['apply', config, '--auto-approve', '--bcrypt-cost', '4', '--database', db.url, '--secrets-file', 'broken.yaml'], { cwd: db.dir });
      assert.equal(broken.code, 1);
      assert.match(broken.stderr, /secrets file .*broken\.yaml is not valid YAML/);
      assert.equal(readFileSync(path.join(db.dir, 'broken.yaml'), 'utf8'), 'nodes: [unclosed\n');
      assert.deepEqual(await snapshot(db), before);
    });
  });

  it('warns when the secrets file would be committed to git', async () => {
    await withInitializedDatabase('sqlite', async (db) => {
      execFileSync('git', ['init', '-q', db.dir]);
      const config = writeConfig(db, exampleText());
      const exposed = await runCli(['apply', config, '--auto-approve', '--bcrypt-cost', '4', '--database', db.url], { cwd: db.dir });
      assert.equal(exposed.code, 0, exposed.stderr);
      assert.match(exposed.stderr, /warning: .*fedctl-secrets\.yaml is inside a git work tree and not ignored; add it to \.gitignore/);
      writeFileSync(path.join(db.dir, '.gitignore'), 'fedctl-secrets.yaml\n');
      const ignored = await runCli(['apply', config, '--auto-approve', '--bcrypt-cost', '4', '--database', db.url, '--rotate-node-key', 'charite-crc-node'], { cwd: db.dir });
      assert.equal(ignored.code, 0, ignored.stderr);
      assert.doesNotMatch(ignored.stderr, /warning/);
    });
  });
});

for (const { engine, skip } of ENGINES) {
  describe(`secrets hygiene and drift on ${engine}`, { skip }, () => {
    it('never shows a key, a password or the database password, in any output of a full run', async () => {
      await withInitializedDatabase(engine, async (db) => {
        // PostgreSQL here trusts local connections, so any password gets in; it must still never be shown.
        const dbPassword = 'Db-Passw0rd-Never-Shown';
        const url = engine === 'postgres' ? db.url.replace('postgresql://postgres@', `postgresql://postgres:${dbPassword}@`) : db.url;
        assert.ok(engine === 'sqlite' || url !== db.url, `expected a user in ${POSTGRES_ADMIN_URL}`);
        const envPassword = 'Env-Passw0rd-Never-Shown!';
        const env = { ANNA_PW: envPassword };
        const config = writeConfig(db, exampleText().replace('    password: generate', '    password: ${ANNA_PW}').replace('roles: [Viewer]', 'roles: [Viewer]\n    password: generate'));
        const outputs: string[] = [];
        const run = async (argv: string[]) => {
          const result = await runCli(argv, { cwd: db.dir, env });
          outputs.push(result.stdout, result.stderr);
          return result;
        };
        await run(['validate', config]);
        await run(['plan', config, '--database', url]);
        await run(['plan', config, '--database', url, '--json']);
        await run(['plan', config, '--database', url, '--markdown', '-o', path.join(db.dir, 'plan.json')]);
        assert.equal((await run(['apply', path.join(db.dir, 'plan.json'), '--database', url, '--auto-approve', '--bcrypt-cost', '4'])).code, 0);
        await run(['apply', config, '--database', url, '--auto-approve', '--rotate-node-key', 'charite-crc-node', '--reset-password', 'anna.devries', '--bcrypt-cost', '4']);
        await run(['plan', config, '--database', url, '--json', '--show-unmanaged']);
        await run(['export', '--database', url, '-o', path.join(db.dir, 'export.yaml')]);
        await run(['export', '--database', url]);
        await run(['plan', config, '--database', url.replace('vantage6.sqlite', 'missing/x.sqlite').replace(/\/fedctl_test_\w+$/, '/no_such_db')]);
        outputs.push(readFileSync(path.join(db.dir, 'plan.json'), 'utf8'), readFileSync(path.join(db.dir, 'export.yaml'), 'utf8'));
        const secrets = load(readFileSync(path.join(db.dir, 'fedctl-secrets.yaml'), 'utf8')) as {
          nodes: Record<string, { api_key: string }>; users: Record<string, { password: string }>;
        };
        const forbidden = [
          ...Object.values(secrets.nodes).map((n) => n.api_key),
          ...Object.values(secrets.users).map((u) => u.password),
          envPassword,
          ...(engine === 'postgres' ? [dbPassword] : []),
        ];
        assert.ok(forbidden.length >= 7);
        const hashes = (await db.sql('select api_key as h from node union all select password from "user" where password is not null')).map((r) => String(r.h));
        for (const text of outputs) {
          for (const secret of [...forbidden, ...hashes]) assert.ok(!text.includes(secret), `a secret was shown: ${text.slice(0, 200)}`);
        }
      });
    });

    it('shows changes made outside fedctl as changes back to the config', async () => {
      await withInitializedDatabase(engine, async (db) => {
        const config = writeConfig(db, exampleText());
        assert.equal((await runCli(['apply', config, '--auto-approve', '--bcrypt-cost', '4', '--database', db.url], { cwd: db.dir })).code, 0);
        await db.sql("update organization set domain = 'drifted.example' where name = 'IKNL'");
        await db.sql(`delete from "Member" where organization_id = (select id from organization where name = 'Maastricht UMC+')`);
        await db.sql(`insert into "Permission" (role_id, user_id) select r.id, u.id from role r, "user" u where r.name = 'Root' and u.username = 'ingrid.hansen'`);
        await db.sql("update role set description = 'edited in the UI' where name = 'Auditor'");
        const drift = await runCli(['plan', config, '--database', db.url, '--detailed-exitcode'], { cwd: db.dir });
        assert.equal(drift.code, 2);
        assert.match(drift.stdout, /~ organization "IKNL"\n\s+domain: "drifted\.example" -> "iknl\.nl"/);
        assert.match(drift.stdout, /~ collaboration "Colorectal Cancer Survival"\n\s+members:\n\s+\+ "Maastricht UMC\+"/);
        assert.match(drift.stdout, /~ user "ingrid\.hansen"\n\s+roles:\n\s+- "Root"/);
        assert.match(drift.stdout, /~ role "Auditor"\n\s+description: "edited in the UI" -> /);
        assert.match(drift.stdout, /Plan: 0 to add, 4 to change, 0 to destroy\./);
        assert.equal((await runCli(['apply', config, '--auto-approve', '--database', db.url], { cwd: db.dir })).code, 0);
        assert.equal((await runCli(['plan', config, '--database', db.url, '--detailed-exitcode'], { cwd: db.dir })).code, 0);
      });
    });
  });
}
