import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { load } from 'js-yaml';
import { FEDCTL_BIN, runCli } from '../helpers/run-cli.js';
import { ENGINES, withInitializedDatabase, type TestDatabase } from '../helpers/test-databases.js';
import { exampleText, pidThatIsGone, snapshot, writeConfig } from '../helpers/fixtures.js';


/** Start `fedctl apply` as its own process, so that it can be killed as a user or a CI runner would. */
function startApply(db: TestDatabase, config: string, cost: number) {
  const child = spawn(process.execPath, [FEDCTL_BIN, 'apply', config, '--auto-approve', '--bcrypt-cost', String(cost), '--database', db.url],
    { cwd: db.dir, env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal, output }));
  });
  return { child, exited };
}

/** The secrets file as apply leaves it, or nothing yet. */
function secretsOf(db: TestDatabase): Record<string, { api_key: string }> {
  const file = path.join(db.dir, 'fedctl-secrets.yaml');
  if (!existsSync(file)) return {};
  return ((load(readFileSync(file, 'utf8')) as { nodes?: Record<string, { api_key: string }> }).nodes) ?? {};
}

/** No node without its key: each node's hash verifies against the key the secrets file has for it. */
async function everyNodeHasItsKey(db: TestDatabase): Promise<void> {
  const secrets = secretsOf(db);
  for (const node of await db.sql('select name, api_key from node')) {
    const key = secrets[String(node.name)]?.api_key;
    assert.ok(key !== undefined, `node ${String(node.name)} has no key in the secrets file`);
    assert.ok(bcrypt.compareSync(key, String(node.api_key)), `the key of node ${String(node.name)} does not verify`);
  }
}


const plan = (db: TestDatabase, config: string) => runCli(['plan', config, '--database', db.url, '--detailed-exitcode'], { cwd: db.dir });

for (const { engine, skip } of ENGINES) {
  describe(`reliability on ${engine}`, { skip }, () => {
    it('removes the temporary secrets files a killed apply left beside the secrets file, and only those', async () => {
      await withInitializedDatabase(engine, async (db) => {
        const config = writeConfig(db, exampleText());
        const leftover = path.join(db.dir, `.fedctl-secrets.yaml.${pidThatIsGone()}-0123456789ab.tmp`);
        const running = path.join(db.dir, `.fedctl-secrets.yaml.${process.pid}-0123456789ab.tmp`);
        const notOurs = path.join(db.dir, `.other.yaml.${pidThatIsGone()}-0123456789ab.tmp`);
        for (const file of [leftover, running, notOurs]) writeFileSync(file, 'nodes: {}\n');
        const { exited } = startApply(db, config, 4);
        assert.equal((await exited).code, 0);
        assert.ok(!existsSync(leftover), 'the leftover of a killed apply is removed');
        assert.ok(existsSync(running), 'a file of a process that still runs is kept');
        assert.ok(existsSync(notOurs), 'a file that is not the secrets file\'s is kept');
      });
    });

    it('Ctrl-C while hashing rolls back, says so, and a rerun converges', async () => {
      await withInitializedDatabase(engine, async (db) => {
        const config = writeConfig(db, exampleText());
        const before = await snapshot(db);
        const { child, exited } = startApply(db, config, 14);
        await sleep(1500);
        child.kill('SIGINT');
        const result = await exited;
        assert.equal(result.code, 130, result.output);
        assert.match(result.output, /Interrupted: stopping before the commit/);
        assert.match(result.output, /interrupted: the transaction was rolled back; nothing was changed/);
        assert.deepEqual(await snapshot(db), before);
        assert.ok(!existsSync(path.join(db.dir, 'fedctl-secrets.yaml')));
        assert.equal((await runCli(['apply', config, '--auto-approve', '--bcrypt-cost', '4', '--database', db.url], { cwd: db.dir })).code, 0);
        assert.equal((await plan(db, config)).code, 0);
        await everyNodeHasItsKey(db);
      });
    });

    it('a kill -9 at any moment leaves the database before or after, and no node without its key', async () => {
      await withInitializedDatabase(engine, async (db) => {
        const config = writeConfig(db, exampleText());
        const before = await snapshot(db);
        // Kill at moments spread over the run: while hashing, while writing, around the secrets file and the commit.
        for (const delay of [200, 700, 1200, 1700, 2200]) {
          const { child, exited } = startApply(db, config, 10);
          await sleep(delay);
          child.kill('SIGKILL');
          await exited;
          const now = await snapshot(db);
          const applied = (await plan(db, config)).code === 0;
          assert.ok(applied || JSON.stringify(now) === JSON.stringify(before), `killed after ${delay} ms: the database is neither before nor after`);
          await everyNodeHasItsKey(db);
          if (applied) break;
        }
        const rerun = await runCli(['apply', config, '--auto-approve', '--bcrypt-cost', '4', '--database', db.url], { cwd: db.dir });
        assert.equal(rerun.code, 0, rerun.stderr);
        assert.equal((await plan(db, config)).code, 0);
        await everyNodeHasItsKey(db);
      });
    });

    it('a plan while an apply commits sees the state before or after, never half', async () => {
      await withInitializedDatabase(engine, async (db) => {
        const config = writeConfig(db, exampleText());
        const { exited } = startApply(db, config, 4);
        let done = false;
        void exited.then(() => { done = true; });
        const seen = new Set<string>();
        while (!done) {
          const result = await plan(db, config);
          const summary = /^(No changes\.|Plan: [^\n]*)/m.exec(result.stdout)?.[0] ?? `exit ${result.code}: ${result.stderr}`;
          seen.add(summary);
        }
        assert.equal((await exited).code, 0);
        seen.add(/^(No changes\.|Plan: [^\n]*)/m.exec((await plan(db, config)).stdout)?.[0] ?? '');
        for (const summary of seen) assert.ok(['Plan: 19 to add, 0 to change, 0 to destroy.', 'No changes.'].includes(summary), summary);
        assert.ok(seen.has('No changes.'));
      });
    });

    if (engine === 'postgres') {
      it('a kill -9 after the secrets file is written and before the commit ends loses no key', async () => {
        await withInitializedDatabase(engine, async (db) => {
          // Make the commit take long: a deferred constraint trigger runs at COMMIT, after the secrets file is written.
          await db.sql(`create function slow_commit() returns trigger language plpgsql as $$ begin perform pg_sleep(3); return null; end $$`);
          await db.sql('create constraint trigger slow_commit after insert on node deferrable initially deferred for each row execute function slow_commit()');
          const config = writeConfig(db, exampleText());
          const before = await snapshot(db);
          const { child, exited } = startApply(db, config, 4);
          const secretsFile = path.join(db.dir, 'fedctl-secrets.yaml');
          const deadline = Date.now() + 10_000;
          while (!existsSync(secretsFile) && Date.now() < deadline) await sleep(20);
          assert.ok(existsSync(secretsFile), 'the secrets file was written before the commit');
          child.kill('SIGKILL');
          await exited;
          assert.deepEqual(await snapshot(db), before);
          assert.equal(Object.keys(secretsOf(db)).length, 5, 'the keys are kept even though their nodes were not committed');
          await db.sql('drop trigger slow_commit on node');
          assert.equal((await runCli(['apply', config, '--auto-approve', '--bcrypt-cost', '4', '--database', db.url], { cwd: db.dir })).code, 0);
          assert.equal((await plan(db, config)).code, 0);
          await everyNodeHasItsKey(db);
        });
      });
    }
  });
}
