import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { parse } from 'yaml';
import { openRecords } from '../../src/secrets/show-secrets.js';
import { copyExamples, pidThatIsGone, snapshot } from '../helpers/fixtures.js';
import type { Plan } from '../../src/plan/plan.js';
import { FEDCTL_BIN, killFedctlWhen, runCli } from '../helpers/run-cli.js';
import { ENGINES, withInitializedDatabase, type TestDatabase } from '../helpers/test-databases.js';

const FAST = ['--bcrypt-cost', '4'];

// This test process (and the fedctl processes it starts) get a temporary folder of their own: what fedctl or a
// library under it leaves there is scanned for plaintext, and nothing else of the machine is, which other runs
// fill and empty while the scan reads.
const TEMPORARY = mkdtempSync(path.join(os.tmpdir(), 'fedctl-encrypted-secrets-'));
process.env.TMPDIR = TEMPORARY;
after(() => rmSync(TEMPORARY, { recursive: true, force: true }));

/** The example federation with the example's recipients, copied into the test's folder. */
function copyExample(db: TestDatabase): { configs: string[]; identity: (name: string) => string; secrets: string } {
  const { federation, encrypted, identity } = copyExamples(db.dir);
  return { configs: [federation, encrypted], identity, secrets: path.join(path.dirname(federation), 'fedctl-secrets') };
}

/** `age -d` as a person would run it: the plaintext, or null when this identity cannot open the file. */
function ageDecrypt(identity: string, file: string): string | null {
  try {
    return execFileSync('age', ['-d', '-i', identity, file], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  } catch {
    return null;
  }
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((name) => path.join(dir, name)).filter((file) => {
    try {
      return statSync(file).isFile();
    } catch {
      return false;
    }
  });
}

const NODE_CONFIG_KEYS = ['api_key', 'api_path', 'databases', 'encryption', 'logging', 'port', 'server_url', 'task_dir'];

const apply = (db: TestDatabase, args: string[], env: NodeJS.ProcessEnv = {}) =>
  runCli(['apply', ...args, '--database', db.url, '--auto-approve', ...FAST], { cwd: db.dir, env });

/** The tests open what fedctl wrote with the standard age tool (Debian's package `age`). */
function ageProblem(): string | false {
  try {
    execFileSync('age', ['--version'], { stdio: 'ignore' });
    return false;
  } catch (error) {
    if (process.env.FEDCTL_REQUIRE_AGE) throw new Error(`the age tool is required (FEDCTL_REQUIRE_AGE) but cannot run: ${(error as Error).message}`);
    process.stderr.write('\n*** the age command is not installed (apt-get install age): the encrypted-secrets tests are SKIPPED ***\n\n');
    return 'the age command is not installed';
  }
}
const AGE_SKIP = ageProblem();

for (const { engine, skip } of ENGINES) {
  describe(`encrypted secrets on ${engine}`, { skip: skip || AGE_SKIP }, () => {
    it('records open for the admins only; node files for their organization and the admins; nothing is plaintext anywhere', async () => {
      await withInitializedDatabase(engine, async (db) => {
        const started = Date.now();
        const example = copyExample(db);
        const applied = await apply(db, example.configs);
        assert.equal(applied.code, 0, applied.stderr);
        assert.match(applied.stdout, /Encrypted 5 node API key\(s\) and 1 generated password\(s\) to 2 recipient\(s\)/);
        assert.ok(!existsSync(path.join(db.dir, 'examples', 'fedctl-secrets.yaml')), 'no plaintext secrets file');

        const records = filesUnder(path.join(example.secrets, 'records'));
        assert.equal(records.length, 1);
        const record = records[0] as string;
        assert.match(readFileSync(record, 'utf8'), /^-----BEGIN AGE ENCRYPTED FILE-----\n/);
        for (const admin of ['admin-anna', 'admin-bram']) assert.ok(ageDecrypt(example.identity(admin), record)?.includes('api_key'));
        assert.equal(ageDecrypt(example.identity('iknl-operator'), record), null);

        // Every node file opens for the admins; IKNL's operator opens IKNL's and no other.
        const nodes = await db.sql('select n.name, n.api_key, o.name as org, c.name as collab, c.encrypted from node n join organization o on o.id = n.organization_id join collaboration c on c.id = n.collaboration_id');
        assert.equal(nodes.length, 5);
        const secrets: string[] = [];
        for (const node of nodes) {
          const file = path.join(example.secrets, 'nodes', String(node.org), `${String(node.name)}.yaml.age`);
          const text = ageDecrypt(example.identity('admin-anna'), file);
          assert.ok(text !== null, `${file} opens for an admin`);
          assert.equal(ageDecrypt(example.identity('iknl-operator'), file) !== null, node.org === 'IKNL', `${file} and IKNL's operator`);
          const config = parse(text) as Record<string, unknown> & { api_key: string; encryption: { enabled: boolean }; server_url: string; port: number; api_path: string };
          assert.deepEqual(Object.keys(config), NODE_CONFIG_KEYS);
          assert.ok(bcrypt.compareSync(config.api_key, String(node.api_key)), `the key of ${String(node.name)} verifies against its hash`);
          assert.equal(config.encryption.enabled, Boolean(node.encrypted));
          assert.deepEqual([config.server_url, config.port, config.api_path], ['https://v6.example.org', 443, '/api']);
          secrets.push(config.api_key);
        }

        // Beside the records, what each node file's policies were written as: digests, which plans compare with the config's.
        const noted = parse(readFileSync(path.join(example.secrets, 'node-policies.yaml'), 'utf8')) as { node_policies: Record<string, string> };
        assert.deepEqual(Object.keys(noted.node_policies).sort(), nodes.map((n) => String(n.name)).sort());
        assert.ok(Object.values(noted.node_policies).every((digest) => /^[0-9a-f]{32}$/.test(digest)));

        // `secrets show` lists every key and the generated password.
        const shown = await runCli(['secrets', 'show', example.secrets, '--identity', example.identity('admin-bram')], { cwd: db.dir });
        assert.equal(shown.code, 0, shown.stderr);
        const listed = parse(shown.stdout) as { nodes: Record<string, { api_key: string }>; users: Record<string, { password: string }> };
        assert.deepEqual(Object.values(listed.nodes).map((n) => n.api_key).sort(), [...secrets].sort());
        const password = listed.users['anna.devries']?.password ?? '';
        assert.match(password, /.{24}/);
        secrets.push(password);
        const asJson = await runCli(['secrets', 'show', example.secrets, '-i', example.identity('admin-bram'), '--json', '--no-color'], { cwd: db.dir });
        assert.equal(asJson.code, 0, asJson.stderr);
        const shownJson = JSON.parse(asJson.stdout) as typeof listed & { opened: number };
        assert.equal(shownJson.opened, 1);
        assert.deepEqual({ nodes: shownJson.nodes, users: shownJson.users }, { nodes: listed.nodes, users: listed.users });
        assert.ok(bcrypt.compareSync(password, String((await db.sql("select password from \"user\" where username = 'anna.devries'"))[0]?.password)));

        // No plaintext key or password in any file fedctl wrote (the database holds hashes), in the temporary folder, or in any output.
        const tmp = filesUnder(TEMPORARY).filter((file) => !file.startsWith(db.dir) && statSync(file).mtimeMs >= started);
        for (const file of [...filesUnder(db.dir), ...tmp]) {
          const content = readFileSync(file);
          for (const secret of secrets) assert.ok(!content.includes(secret), `${secret.slice(0, 4)}… in plaintext in ${file}`);
        }
        for (const secret of secrets) assert.ok(!applied.stdout.includes(secret) && !applied.stderr.includes(secret));
      });
    });

    it('a rotation writes a new record and a new node file; secrets show lists the new key; the old record stays', async () => {
      await withInitializedDatabase(engine, async (db) => {
        const example = copyExample(db);
        assert.equal((await apply(db, example.configs)).code, 0);
        const nodeFile = path.join(example.secrets, 'nodes', 'IKNL', 'IKNL - Colorectal Cancer Survival Node.yaml.age');
        const before = readFileSync(nodeFile, 'utf8');
        // The node's own policies given meanwhile: the rotation writes them into its new file.
        const [federation = ''] = example.configs;
        writeFileSync(federation, readFileSync(federation, 'utf8').replace(
          '      - organization: IKNL              # node "IKNL - Colorectal Cancer Survival Node"\n',
          // A function: the pattern's `$'` would be a replacement pattern.
          () => '      - organization: IKNL\n        node:\n          policies:\n            allowed_algorithms: [\'^harbor2\\.vantage6\\.ai/demo/.*$\']\n'
          + '            allowed_organizations: [IKNL, Maastricht UMC+]\n            allowed_users: [bram.jansen]\n',
        ));
        // Its file was written without them: the plan names it (no store changed), as it does after an apply that leaves the key.
        const staleFiles = async (): Promise<readonly string[] | undefined> =>
          (JSON.parse((await runCli(['plan', ...example.configs, '--database', db.url, '--json'], { cwd: db.dir })).stdout) as Plan).staleNodeFiles;
        assert.deepEqual(await staleFiles(), ['IKNL - Colorectal Cancer Survival Node']);
        // The admins given on the command line instead of in the config: a plan given them as its apply is names the file too.
        const [, encrypted = ''] = example.configs;
        const onCommandLine = path.join(path.dirname(encrypted), 'admins-elsewhere.yaml');
        writeFileSync(onCommandLine, readFileSync(encrypted, 'utf8').replace(/^ {2}recipients:.*\n(?: {4}- .*\n)+/m, ''));
        const admins = (readFileSync(encrypted, 'utf8').match(/age1[0-9a-z]+/g) ?? []).slice(0, 2);
        const planWith = async (extra: string[]): Promise<Plan> => {
          const planned = await runCli(['plan', federation, onCommandLine, '--database', db.url, '--json', ...extra], { cwd: db.dir });
          assert.equal(planned.code, 0, planned.stderr);
          return JSON.parse(planned.stdout) as Plan;
        };
        assert.equal((await planWith([])).staleNodeFiles, undefined, 'no recipients: no node files are written, none stale');
        assert.deepEqual((await planWith(admins.flatMap((admin) => ['--recipient', admin]))).staleNodeFiles, ['IKNL - Colorectal Cancer Survival Node']);
        rmSync(onCommandLine);
        const rotated = await apply(db, [...example.configs, '--rotate-node-key', 'IKNL/Colorectal Cancer Survival']);
        assert.equal(rotated.code, 0, rotated.stderr);
        assert.equal(filesUnder(path.join(example.secrets, 'records')).length, 2);
        assert.notEqual(readFileSync(nodeFile, 'utf8'), before);
        assert.equal(await staleFiles(), undefined, 'written anew with them');
        const written = parse(ageDecrypt(example.identity('iknl-operator'), nodeFile) ?? '') as { api_key: string; policies?: unknown };
        // Users by the id the database gave them, as text: the node compares the task's user's id so.
        const [bram] = await db.sql("select id from \"user\" where username = 'bram.jansen'");
        assert.deepEqual(written.policies, {
          allowed_algorithms: ['^harbor2\\.vantage6\\.ai/demo/.*$'], allowed_organizations: ['IKNL', 'Maastricht UMC+'], allowed_users: [String(bram?.id)],
        });
        const newKey = written.api_key;
        const hash = (await db.sql("select api_key from node where name = 'IKNL - Colorectal Cancer Survival Node'"))[0]?.api_key;
        assert.ok(bcrypt.compareSync(newKey, String(hash)));
        const { content } = await openRecords(example.secrets, example.identity('admin-anna'));
        assert.equal(content.nodes['IKNL - Colorectal Cancer Survival Node']?.api_key, newKey);
        assert.equal(Object.keys(content.nodes).length, 5);
      });
    });

    it('recipients from --recipient and FEDCTL_AGE_RECIPIENTS; a broken recipient is refused before anything is written', async () => {
      await withInitializedDatabase(engine, async (db) => {
        const example = copyExample(db);
        const anna = /public key: (age1\S+)/.exec(readFileSync(example.identity('admin-anna'), 'utf8'))?.[1] ?? '';
        const before = await snapshot(db);
        // The right shape, a wrong checksum.
        const broken = `${anna.slice(0, -1)}${anna.endsWith('q') ? 'p' : 'q'}`;
        const refused = await apply(db, [example.configs[0] as string, '--recipient', broken]);
        assert.equal(refused.code, 1);
        assert.match(refused.stderr, /is not an age recipient fedctl can encrypt to/);
        assert.deepEqual(await snapshot(db), before);
        assert.ok(!existsSync(path.join(db.dir, 'examples', 'fedctl-secrets.yaml')));

        const fromEnv = await apply(db, [example.configs[0] as string], { FEDCTL_AGE_RECIPIENTS: anna });
        assert.equal(fromEnv.code, 0, fromEnv.stderr);
        assert.match(fromEnv.stdout, /to 1 recipient\(s\) .* \(no node configuration files: the config has no server: block\)/);
        const { content } = await openRecords(example.secrets, example.identity('admin-anna'));
        assert.equal(Object.keys(content.nodes).length, 5);
        assert.ok(!existsSync(path.join(db.dir, 'examples', 'fedctl-secrets.yaml')));
      });
    });

    it('removes the temporary files a killed apply left half-written, and only those of writers that are gone', async () => {
      await withInitializedDatabase(engine, async (db) => {
        const example = copyExample(db);
        assert.equal((await apply(db, example.configs)).code, 0);
        const gone = pidThatIsGone();
        const leftovers = [
          path.join(example.secrets, 'records', `.2026-11-29T01-00-00.000Z-1a2b3c4d.yaml.age.${gone}-0123456789ab.tmp`),
          path.join(example.secrets, 'nodes', 'IKNL', `.IKNL - Colorectal Cancer Survival Node.yaml.age.${gone}-0123456789ab.tmp`),
          // As fedctl 0.1 named them, without the writer's process id.
          path.join(example.secrets, 'records', '.2026-11-28T01-00-00.000Z-1a2b3c4d.yaml.age.0123456789ab.tmp'),
        ];
        const running = path.join(example.secrets, 'records', `.2026-11-29T02-00-00.000Z-1a2b3c4d.yaml.age.${process.pid}-0123456789ab.tmp`);
        for (const file of [...leftovers, running]) writeFileSync(file, '-----BEGIN AGE ENCRYPTED FILE-----\n');
        assert.equal((await apply(db, [...example.configs, '--rotate-node-key', 'IKNL/Colorectal Cancer Survival'])).code, 0);
        for (const file of leftovers) assert.ok(!existsSync(file), `${path.basename(file)} removed`);
        assert.ok(existsSync(running), 'the temporary file of a process that still runs is kept');
      });
    });

    it('a kill -9 at any moment: every node in the database has its key in an encrypted record', async () => {
      await withInitializedDatabase(engine, async (db) => {
        const example = copyExample(db);
        const before = await snapshot(db);
        const everyNodeHasItsKey = async (): Promise<void> => {
          const records = existsSync(path.join(example.secrets, 'records'))
            && filesUnder(path.join(example.secrets, 'records')).length > 0
            ? (await openRecords(example.secrets, example.identity('admin-anna'))).content.nodes
            : {};
          for (const node of await db.sql('select name, api_key from node')) {
            const key = records[String(node.name)]?.api_key;
            assert.ok(key !== undefined && bcrypt.compareSync(key, String(node.api_key)), `node ${String(node.name)} has its key in a record`);
          }
        };
        for (const delay of [300, 800, 1300, 1800, 2300, 2800]) {
          const child = spawn(process.execPath, [FEDCTL_BIN, 'apply', ...example.configs, '--auto-approve', '--bcrypt-cost', '10', '--database', db.url],
            { cwd: db.dir, env: { PATH: process.env.PATH }, stdio: 'ignore' });
          const exited = new Promise((resolve) => child.on('exit', resolve));
          await sleep(delay);
          child.kill('SIGKILL');
          await exited;
          const applied = (await runCli(['plan', ...example.configs, '--database', db.url, '--detailed-exitcode'], { cwd: db.dir })).code === 0;
          assert.ok(applied || JSON.stringify(await snapshot(db)) === JSON.stringify(before), `killed after ${delay} ms: neither before nor after`);
          await everyNodeHasItsKey();
          if (applied) break;
        }
        assert.equal((await apply(db, example.configs)).code, 0);
        await everyNodeHasItsKey();
        assert.deepEqual(filesUnder(example.secrets).filter((file) => file.endsWith('.tmp')), [], 'no half-written file is left');
      });
    });

    if (engine === 'postgres') {
      it('a kill -9 after the record is written and before the commit ends loses no key', async () => {
        await withInitializedDatabase(engine, async (db) => {
          const example = copyExample(db);
          // A deferred constraint trigger makes COMMIT slow: the record is on disk while the commit runs.
          await db.sql(`create function slow_commit() returns trigger language plpgsql as $$ begin perform pg_sleep(3); return null; end $$`);
          await db.sql('create constraint trigger slow_commit after insert on node deferrable initially deferred for each row execute function slow_commit()');
          const before = await snapshot(db);
          const records = path.join(example.secrets, 'records');
          const deadline = Date.now() + 10_000;
          // A record in place, not the temporary file it is renamed from.
          const written = (): boolean => filesUnder(records).some((file) => /^[^.].*\.age$/.test(path.basename(file)));
          await killFedctlWhen(['apply', ...example.configs, '--auto-approve', '--bcrypt-cost', '4', '--database', db.url], { cwd: db.dir }, () => written() || Date.now() > deadline);
          assert.deepEqual(await snapshot(db), before);
          const { content } = await openRecords(example.secrets, example.identity('admin-anna'));
          assert.equal(Object.keys(content.nodes).length, 5, 'the keys are kept though their nodes were not committed');
          await db.sql('drop trigger slow_commit on node');
          assert.equal((await apply(db, example.configs)).code, 0);
          const latest = (await openRecords(example.secrets, example.identity('admin-anna'))).content.nodes;
          for (const node of await db.sql('select name, api_key from node')) {
            assert.ok(bcrypt.compareSync(latest[String(node.name)]?.api_key ?? '', String(node.api_key)));
          }
        });
      });

      it('a commit the database refuses leaves no record and puts the node files back', async () => {
        await withInitializedDatabase(engine, async (db) => {
          const example = copyExample(db);
          assert.equal((await apply(db, example.configs)).code, 0);
          const nodeFile = path.join(example.secrets, 'nodes', 'IKNL', 'IKNL - Colorectal Cancer Survival Node.yaml.age');
          const noted = path.join(example.secrets, 'node-policies.yaml');
          const before = { node: readFileSync(nodeFile, 'utf8'), records: filesUnder(path.join(example.secrets, 'records')).sort(), noted: readFileSync(noted, 'utf8') };
          // New policies, which the refused apply's file would have carried: their digest is not kept either.
          const [federation = ''] = example.configs;
          writeFileSync(federation, readFileSync(federation, 'utf8').replace('      - organization: IKNL              # node "IKNL - Colorectal Cancer Survival Node"\n',
            '      - organization: IKNL\n        node: { policies: { allowed_algorithms: [harbor2.vantage6.ai/demo/average] } }\n'));
          await db.sql(`create function fail_at_commit() returns trigger language plpgsql as $$ begin raise exception 'refused at commit'; end $$`);
          await db.sql('create constraint trigger fail_at_commit after update on node deferrable initially deferred for each row execute function fail_at_commit()');
          const failed = await apply(db, [...example.configs, '--rotate-node-key', 'IKNL/Colorectal Cancer Survival']);
          assert.equal(failed.code, 1);
          assert.match(failed.stderr, /refused at commit/);
          assert.equal(readFileSync(nodeFile, 'utf8'), before.node);
          assert.deepEqual(filesUnder(path.join(example.secrets, 'records')).sort(), before.records);
          assert.equal(readFileSync(noted, 'utf8'), before.noted);
        });
      });
    }
  });
}
