/**
 * Algorithm store links in a 4.x server's database: the rows a server's API
 * leaves (one per collaboration served, one without for every one) read as
 * one store; what needs no call to the store (a new name, which
 * collaborations a linked store serves) is written row by row as the
 * server's PATCH and POST leave them; linking and unlinking are refused
 * with the reason. The same through the real server's API is
 * test/real-server/store-links-suite.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { runCli } from '../helpers/run-cli.js';
import { ENGINES, withInitializedDatabase, type TestDatabase } from '../helpers/test-databases.js';
import { writeConfig } from '../helpers/fixtures.js';

const PLAN_SCHEMA = JSON.parse(readFileSync(new URL('../../schemas/plan.schema.json', import.meta.url), 'utf8')) as object;
const validatePlan = new Ajv2020({ allErrors: true, strict: false }).compile(PLAN_SCHEMA);

const STORE = 'https://store.cotopaxi.vantage6.ai/api';
const COLLABORATIONS = ['Trial & Error! 100%', 'صحة القلب', '研究 "quoted" \\ back'];

const fedctl = (db: TestDatabase, args: string[]) => runCli([...args, '--database', db.url], { cwd: db.dir });

/** The federation, its store serving `served`. */
function config(served: readonly string[] | 'all', name = 'Community store 🧪'): string {
  const quoted = (text: string): string => JSON.stringify(text);
  return [
    'vantage6: "4.15"',
    'organizations:',
    '  - &org { name: "Zorg & Co ✨" }',
    'collaborations:',
    ...COLLABORATIONS.map((c) => `  - { name: ${quoted(c)}, members: [{ organization: "Zorg & Co ✨", node: false }] }`),
    'algorithm_stores:',
    `  - url: ${STORE}`,
    `    name: ${quoted(name)}  # as the server's UI shows it`,
    `    collaborations: ${served === 'all' ? 'all' : `[${served.map(quoted).join(', ')}]`}`,
    '',
  ].join('\n');
}

for (const { engine, skip } of ENGINES) {
  describe(`algorithm store links in a ${engine} database`, { skip }, () => {
    it('reads the server\'s rows as one store, writes changes row by row as the server does, and plans no changes after', async () => {
      await withInitializedDatabase(engine, async (db) => {
        const file = writeConfig(db, config([COLLABORATIONS[0] as string]).replace(/algorithm_stores:[\s\S]*/, ''));
        assert.equal((await fedctl(db, ['apply', file, '--auto-approve'])).code, 0);
        // As the server's POST /algorithmstore leaves them: a row per collaboration, and a task that ran an algorithm of the store.
        for (const collaboration of COLLABORATIONS.slice(0, 2)) {
          await db.sql(`insert into algorithmstore (name, url, collaboration_id) select 'Community store 🧪', '${STORE}', id from collaboration where name = '${collaboration}'`);
        }
        await db.sql(`insert into task (id, name, collaboration_id, algorithm_store_id) select 1, 'analysis', c.id, s.id from collaboration c join algorithmstore s on s.collaboration_id = c.id where c.name = 'صحة القلب'`);

        const unmanaged = await fedctl(db, ['plan', file, '--show-unmanaged', '--no-color']);
        assert.match(unmanaged.stdout, new RegExp(`\\? algorithm_store "${STORE.replace(/[.]/g, '\\.')}"`));
        writeConfig(db, config([COLLABORATIONS[1] as string, COLLABORATIONS[0] as string]));
        assert.equal((await fedctl(db, ['plan', file, '--detailed-exitcode'])).code, 0, 'two rows are the store serving two collaborations');

        // One collaboration out, another in, a new name: the row moves, no row is made or deleted.
        writeConfig(db, config([COLLABORATIONS[0] as string, COLLABORATIONS[2] as string], 'Gemeenschap'));
        const planned = await fedctl(db, ['plan', file, '--json']);
        const plan = JSON.parse(planned.stdout) as { changes: unknown[] };
        assert.ok(validatePlan(plan), JSON.stringify(validatePlan.errors));
        const text = await fedctl(db, ['plan', file, '--no-color']);
        assert.match(text.stdout, /~ algorithm_store "https:\/\/store\.cotopaxi\.vantage6\.ai\/api"\n\s+name:\s+"Community store 🧪" -> "Gemeenschap"\n\s+collaborations:\n\s+\+ "研究 \\"quoted\\" \\\\ back"\n\s+- "صحة القلب"/);
        const moved = await fedctl(db, ['apply', file, '--auto-approve']);
        assert.equal(moved.code, 0, moved.stderr);
        const rows = async (): Promise<unknown[][]> => (await db.sql(`select s.id, s.name, c.name as collaboration from algorithmstore s left join collaboration c on c.id = s.collaboration_id order by s.id`))
          .map((r) => [Number(r.id), r.name, r.collaboration]);
        assert.deepEqual(await rows(), [[1, 'Gemeenschap', COLLABORATIONS[0]], [2, 'Gemeenschap', COLLABORATIONS[2]]]);
        assert.equal((await fedctl(db, ['plan', file, '--detailed-exitcode'])).code, 0);

        // Every collaboration: one row without collaboration, as the server's POST leaves it; the task no longer names a deleted row.
        writeConfig(db, config('all', 'Gemeenschap'));
        assert.equal((await fedctl(db, ['apply', file, '--auto-approve'])).code, 0);
        assert.deepEqual(await rows(), [[1, 'Gemeenschap', null]]);
        assert.deepEqual((await db.sql('select algorithm_store_id from task')).map((r) => r.algorithm_store_id), [null]);
        writeConfig(db, config([COLLABORATIONS[1] as string, COLLABORATIONS[2] as string], 'Gemeenschap'));
        assert.equal((await fedctl(db, ['apply', file, '--auto-approve'])).code, 0);
        // The row kept moves; the other is new (its id as the engine gives it).
        assert.deepEqual((await rows()).map(([id, ...rest]) => [id === 1 ? 1 : 'new', ...rest]), [[1, 'Gemeenschap', COLLABORATIONS[1]], ['new', 'Gemeenschap', COLLABORATIONS[2]]]);
        assert.equal((await fedctl(db, ['plan', file, '--detailed-exitcode'])).code, 0);

        // Export adopts the store: planning the export shows no changes.
        const exported = await fedctl(db, ['export']);
        assert.match(exported.stdout, /algorithm_stores:\n {2}- url: https:\/\/store\.cotopaxi\.vantage6\.ai\/api\n {4}name: Gemeenschap\n {4}collaborations:/);
        assert.equal((await fedctl(db, ['plan', writeConfig(db, exported.stdout, 'exported.yaml'), '--detailed-exitcode'])).code, 0);
      });
    });

    it('refuses to link or unlink a store, before anything is written, saying to go through the server\'s API', async () => {
      await withInitializedDatabase(engine, async (db) => {
        const file = writeConfig(db, config([COLLABORATIONS[0] as string]));
        const applied = await fedctl(db, ['apply', file, '--auto-approve', '--no-color']);
        assert.equal(applied.code, 1);
        assert.match(applied.stdout, /! create algorithm_store "https:\/\/store\.cotopaxi\.vantage6\.ai\/api": linking a store makes the server whitelist itself at the store, which the server's database cannot do: apply through the server's API \(--server URL, or server: manage: api\)/);
        assert.deepEqual(await db.sql('select id from collaboration'), [], 'nothing else was written either');
        await db.sql(`insert into algorithmstore (name, url, collaboration_id) values ('Left over', 'https://old.example.org/api', null)`);
        const pruned = await fedctl(db, ['plan', writeConfig(db, config('all').replace(/algorithm_stores:[\s\S]*/, '')), '--prune', 'algorithm_stores', '--allow-destroy', '--no-color']);
        assert.equal(pruned.code, 1);
        assert.match(pruned.stdout, /! delete algorithm_store "https:\/\/old\.example\.org\/api": unlinking a store makes the server take back its whitelisting at the store/);
      });
    });
  });
}
