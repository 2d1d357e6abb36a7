import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dump, load } from 'js-yaml';
import { writeFileSync } from 'node:fs';
import { exampleText } from '../helpers/fixtures.js';
import { runCli } from '../helpers/run-cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-databases.js';
import { plaintextSecrets } from '../real-server/conformance.js';
import { availableServers } from '../real-server/conformance-env.js';
import { startRealServer, type RealServer } from '../real-server/real-server.js';
import { isSession, ServerSession } from '../real-server/server-api.js';

const RELEASE = '4.3.0';
const unavailable = (await availableServers([RELEASE])).get(RELEASE) ?? false;

// A login check, not storage: one engine is enough.
describe(`the real vantage6 ${RELEASE} server refuses the login of a username with a dot, as fedctl warns`, { skip: unavailable }, () => {
  let db: TestDatabase;
  let server: RealServer;
  const config = (): string => path.join(db.dir, 'federation.yaml');

  before(async () => {
    db = await createTestDatabase('sqlite');
    const init = await runCli(['init', '--vantage6-version', '4.3', '--database', db.url], { cwd: db.dir });
    assert.equal(init.code, 0, init.stderr);
    server = await startRealServer(RELEASE, db.url, path.join(db.dir, 'server'));
    const example = load(exampleText()) as { users: Record<string, unknown>[] };
    example.users.push({ username: 'noor_al-amin', organization: 'IKNL', email: 'noor@iknl.nl', roles: ['Viewer'] });
    for (const user of example.users) user.password = 'generate';
    writeFileSync(config(), dump(example, { lineWidth: -1 }));
  });

  after(async () => {
    await server?.stop();
    await db?.drop();
  });

  it('validate --vantage6-version 4.3.0 and the plan warn for each dotted username, and apply goes on', async () => {
    const validated = await runCli(['validate', config(), '--vantage6-version', RELEASE], { cwd: db.dir });
    assert.equal(validated.code, 0, validated.stderr);
    const warned = (text: string): string[] => [...text.matchAll(/warning: users\[\d+\]\.username: "([^"]+)" cannot log in to vantage6 4\.3\.0 and 4\.3\.1/g)].map((m) => m[1] as string);
    const dotted = ['anna.devries', 'bram.jansen', 'felix.wagner', 'ingrid.hansen', 'lotte.peeters'];
    assert.deepEqual(warned(validated.stderr).sort(), dotted);
    assert.match(validated.stderr, /upgrade the server to 4\.3\.2 or later/);
    const clean = await runCli(['validate', config(), '--vantage6-version', '4.3.2'], { cwd: db.dir });
    assert.deepEqual(warned(clean.stderr), []);
    const applied = await runCli(['apply', config(), '--database', db.url, '--auto-approve', '--bcrypt-cost', '4'], { cwd: db.dir });
    assert.equal(applied.code, 0, applied.stderr);
    assert.deepEqual(warned(applied.stderr).sort(), dotted, 'the database can be from 4.3 to 4.5: the plan warns');
  });

  it('the server refuses exactly the logins the warning names', async () => {
    const passwords = plaintextSecrets(path.join(db.dir, 'fedctl-secrets.yaml')).users;
    for (const [username, { password }] of Object.entries(passwords)) {
      const session = await ServerSession.user(server.api, username, password);
      if (username.includes('.')) {
        assert.ok(!isSession(session), `${username} is refused`);
        assert.match(session.refusal, /Only letters, numbers, hyphens and underscores are allowed/);
      } else {
        assert.ok(isSession(session), `${username} logs in: ${'refusal' in session ? session.refusal : ''}`);
      }
    }
  });
});
