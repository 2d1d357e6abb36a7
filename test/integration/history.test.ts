import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { ciProvenance, withoutCredentials } from '../../src/history/provenance.js';
import { exampleText, tableColumns, writeConfig } from '../helpers/fixtures.js';
import { FEDCTL_BIN, runCli } from '../helpers/run-cli.js';
import { ENGINES, withInitializedDatabase, type TestDatabase } from '../helpers/test-databases.js';

const FAST = ['--bcrypt-cost', '4'];

const fedctl = (db: TestDatabase, args: string[], env: NodeJS.ProcessEnv = {}) =>
  runCli([...args, '--database', db.url], { cwd: db.dir, env });
const apply = (db: TestDatabase, config: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}) =>
  fedctl(db, ['apply', config, '--auto-approve', ...FAST, ...extra], env);

interface ListedApply { id: number; commit: string | null; author: string | null; branch: string | null; repository: string | null; ciJobUrl: string | null; ci: string | null; summary: string }

async function listed(db: TestDatabase): Promise<ListedApply[]> {
  const result = await fedctl(db, ['history', '--json']);
  assert.equal(result.code, 0, result.stderr);
  return (JSON.parse(result.stdout) as { applies: ListedApply[] }).applies;
}

const GITHUB = {
  GITHUB_ACTIONS: 'true', GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567', GITHUB_ACTOR: 'anna-devries',
  GITHUB_REF_NAME: 'main', GITHUB_REPOSITORY: 'iknl/federation', GITHUB_SERVER_URL: 'https://github.com', GITHUB_RUN_ID: '4242', GITHUB_RUN_ATTEMPT: '1',
};
const GITLAB = {
  GITLAB_CI: 'true', CI_COMMIT_SHA: 'fedcba9876543210fedcba9876543210fedcba98', CI_COMMIT_AUTHOR: 'Bram Jansen <bram@iknl.nl>',
  CI_COMMIT_REF_NAME: 'production', CI_PROJECT_URL: 'https://gitlab.example.org/iknl/federation', CI_JOB_URL: 'https://gitlab.example.org/iknl/federation/-/jobs/77',
};

describe('provenance', () => {
  it('reads GitHub Actions and GitLab CI variables', () => {
    assert.deepEqual(ciProvenance(GITHUB), {
      ci: 'github-actions', commit: GITHUB.GITHUB_SHA, author: 'anna-devries', branch: 'main',
      repository: 'https://github.com/iknl/federation', ciJobUrl: 'https://github.com/iknl/federation/actions/runs/4242/attempts/1',
    });
    assert.deepEqual(ciProvenance(GITLAB), {
      ci: 'gitlab-ci', commit: GITLAB.CI_COMMIT_SHA, author: 'Bram Jansen <bram@iknl.nl>', branch: 'production',
      repository: GITLAB.CI_PROJECT_URL, ciJobUrl: GITLAB.CI_JOB_URL,
    });
    assert.equal(ciProvenance({}), null);
  });

  it('never keeps a credential of a remote URL', () => {
    assert.equal(withoutCredentials('https://x-access-token:ghs_s3cret@github.com/iknl/federation.git'), 'https://github.com/iknl/federation.git');
    assert.equal(withoutCredentials('git@github.com:iknl/federation.git'), 'git@github.com:iknl/federation.git');
  });
});

for (const { engine, skip } of ENGINES) {
  describe(`history on ${engine}`, { skip }, () => {
    it('records each apply that changes something, with its CI provenance, and lists and shows them', async () => {
      await withInitializedDatabase(engine, async (db) => {
        const config = writeConfig(db, exampleText());
        assert.match((await fedctl(db, ['history'])).stdout, /No applies recorded/);
        assert.equal((await tableColumns(db)).fedctl_history, undefined, 'init does not create the history table');

        const first = await apply(db, config, [], GITHUB);
        assert.equal(first.code, 0, first.stderr);
        assert.match(first.stdout, /Recorded as #1 in the database's history\./);
        assert.equal((await apply(db, config, [], GITHUB)).code, 0);
        writeConfig(db, exampleText().replace('roles: [Viewer]', 'roles: [Researcher]'));
        assert.equal((await apply(db, config, [], GITLAB)).code, 0);

        const applies = await listed(db);
        assert.deepEqual(applies.map((a) => [a.id, a.summary]), [[2, '0 added, 1 changed, 0 destroyed'], [1, '19 added, 0 changed, 0 destroyed']]);
        assert.deepEqual(applies.map((a) => [a.ci, a.commit, a.author, a.branch, a.repository, a.ciJobUrl]), [
          ['gitlab-ci', GITLAB.CI_COMMIT_SHA, GITLAB.CI_COMMIT_AUTHOR, 'production', GITLAB.CI_PROJECT_URL, GITLAB.CI_JOB_URL],
          ['github-actions', GITHUB.GITHUB_SHA, 'anna-devries', 'main', 'https://github.com/iknl/federation', 'https://github.com/iknl/federation/actions/runs/4242/attempts/1'],
        ]);
        const text = await fedctl(db, ['history']);
        assert.match(text.stdout, /^#2 {2}\S+ \S+ UTC {2}Bram Jansen <bram@iknl\.nl> {2}fedcba987654 \(production\) {2}0 added, 1 changed, 0 destroyed\n#1 /);
        const shown = await fedctl(db, ['history', 'show', '2']);
        assert.equal(shown.code, 0, shown.stderr);
        assert.match(shown.stdout, /CI job: +https:\/\/gitlab\.example\.org\/iknl\/federation\/-\/jobs\/77\n/);
        assert.match(shown.stdout, /~ user "ingrid\.hansen"\n\s+roles:\n\s+\+ "Researcher"\n\s+- "Viewer"\n/);
        const missing = await fedctl(db, ['history', 'show', '9']);
        assert.equal(missing.code, 1);
        assert.match(missing.stderr, /no apply #9 is recorded/);

        // No secret in any record: node keys, the generated password, a password from the environment.
        const secrets = parse(readFileSync(path.join(db.dir, 'fedctl-secrets.yaml'), 'utf8')) as { nodes: Record<string, { api_key: string }>; users: Record<string, { password: string }> };
        const plaintexts = [...Object.values(secrets.nodes).map((n) => n.api_key), ...Object.values(secrets.users).map((u) => u.password)];
        assert.equal(plaintexts.length, 6);
        const rows = JSON.stringify(await db.sql('select * from fedctl_history'));
        for (const secret of plaintexts) assert.ok(!rows.includes(secret), 'a secret is in the history');
      });
    });

    it('a record exists exactly when the changes were committed', async () => {
      await withInitializedDatabase(engine, async (db) => {
        const config = writeConfig(db, exampleText());
        // A failure forced midway: nothing committed, nothing recorded (the table itself is rolled back too).
        await db.sql(engine === 'postgres'
          ? "create function refuse() returns trigger language plpgsql as $$ begin raise exception 'refused'; end $$"
          : "create trigger refuse before insert on \"user\" begin select raise(abort, 'refused'); end");
        if (engine === 'postgres') await db.sql('create trigger refuse before insert on "user" for each row execute function refuse()');
        assert.equal((await apply(db, config)).code, 1);
        assert.equal((await tableColumns(db)).fedctl_history, undefined);
        await db.sql(engine === 'postgres' ? 'drop trigger refuse on "user"' : 'drop trigger refuse');

        // Killed right after the commit: the record is there.
        const child = spawn(process.execPath, [FEDCTL_BIN, 'apply', config, '--auto-approve', ...FAST, '--database', db.url], { cwd: db.dir, env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'ignore'] });
        await new Promise<void>((resolve) => {
          child.stdout.on('data', (chunk: Buffer) => {
            if (chunk.toString().includes('Apply complete')) {
              child.kill('SIGKILL');
              resolve();
            }
          });
          child.on('exit', () => resolve());
        });
        assert.deepEqual((await listed(db)).map((a) => a.id), [1]);
        // Nothing to change: nothing recorded.
        assert.equal((await apply(db, config)).code, 0);
        assert.deepEqual((await listed(db)).map((a) => a.id), [1]);
      });
    });

    it('a plan names changes made outside fedctl since its last apply; running analyses are not such changes', async () => {
      await withInitializedDatabase(engine, async (db) => {
        const config = writeConfig(db, exampleText());
        assert.equal((await apply(db, config, [], GITHUB)).code, 0);
        await db.sql(`insert into task (id, name, collaboration_id, init_org_id) select 1, 'survival analysis', id, null from collaboration where name = 'Colorectal Cancer Survival'`);
        const quiet = await fedctl(db, ['plan', config, '--detailed-exitcode']);
        assert.equal(quiet.code, 0, quiet.stdout);
        assert.doesNotMatch(quiet.stdout, /changed outside fedctl/);

        await db.sql("update \"user\" set email = 'felix@example.org' where username = 'felix.wagner'");
        const planned = await fedctl(db, ['plan', config, '--no-color']);
        assert.match(planned.stdout, /^! The database changed outside fedctl since the last apply by fedctl, #1 at \S+ \S+ UTC from commit 0123456789ab \(main\) by anna-devries: /);
        assert.match(planned.stdout, /email: "felix@example\.org" -> "felix\.wagner@charite\.de"/);
        const json = JSON.parse((await fedctl(db, ['plan', config, '--json'])).stdout) as { history: { changedOutsideFedctl: boolean; lastApply: { id: number } } };
        assert.equal(json.history.changedOutsideFedctl, true);
        assert.equal(json.history.lastApply.id, 1);
        const markdown = await fedctl(db, ['plan', config, '--markdown']);
        assert.match(markdown.stdout, /> \[!WARNING\]\n> The database changed outside fedctl/);

        // Applying puts it back and records it; the next plan is quiet again.
        assert.equal((await apply(db, config)).code, 0);
        assert.doesNotMatch((await fedctl(db, ['plan', config])).stdout, /changed outside fedctl/);
      });
    });

    it('works on a database whose history table was dropped, and can be turned off', async () => {
      await withInitializedDatabase(engine, async (db) => {
        const config = writeConfig(db, exampleText());
        assert.equal((await apply(db, config)).code, 0);
        await db.sql('drop table fedctl_history');
        writeConfig(db, exampleText().replace('roles: [Viewer]', 'roles: [Researcher]'));
        assert.equal((await fedctl(db, ['plan', config, '--detailed-exitcode'])).code, 2);
        assert.equal((await fedctl(db, ['export'])).code, 0);
        assert.equal((await apply(db, config)).code, 0);
        assert.deepEqual((await listed(db)).map((a) => a.id), [1]);

        await db.sql('drop table fedctl_history');
        const off = writeConfig(db, `history: false\n${exampleText()}`, 'off.yaml');
        const planned = await fedctl(db, ['plan', off, '--no-color']);
        assert.match(planned.stdout, /History is off: an apply of this plan is not recorded/);
        writeConfig(db, `history: false\n${exampleText()}`, 'off.yaml');
        assert.equal((await apply(db, off, ['--rotate-node-key', 'charite-crc-node'])).code, 0);
        assert.equal((await apply(db, config, ['--no-history', '--rotate-node-key', 'charite-crc-node'])).code, 0);
        assert.equal((await tableColumns(db)).fedctl_history, undefined);
      });
    });
  });
}

describe('provenance from git', () => {
  it('takes the commit, author and branch of the config\'s repository, and notes uncommitted changes', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const os = await import('node:os');
    const { detectProvenance } = await import('../../src/history/provenance.js');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fedctl-git-'));
    const git = (...args: string[]) => execFileSync('git', ['-C', dir, '-c', 'user.name=Anna', '-c', 'user.email=anna@iknl.nl', ...args]);
    git('init', '-q', '-b', 'main');
    git('remote', 'add', 'origin', 'https://anna:glpat-s3cret@gitlab.example.org/iknl/federation.git');
    const config = path.join(dir, 'federation.yaml');
    writeFileSync(config, 'version: 1\n');
    git('add', '.');
    git('commit', '-qm', 'federation');
    const head = git('rev-parse', 'HEAD').toString().trim();
    const clean = await detectProvenance({}, dir, [config]);
    assert.deepEqual({ ...clean, osUser: null }, {
      ci: null, commit: head, author: 'Anna <anna@iknl.nl>', branch: 'main',
      repository: 'https://gitlab.example.org/iknl/federation.git', ciJobUrl: null, uncommittedChanges: false, osUser: null,
    });
    writeFileSync(config, 'version: 1\norganizations: []\n');
    assert.equal((await detectProvenance({}, dir, [config])).uncommittedChanges, true);
  });
});
