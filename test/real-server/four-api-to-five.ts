import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { dump } from 'js-yaml';
import { apiRuleKey } from '../../src/backends/api/read-api-state.js';
import type { Plan } from '../../src/plan/plan.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import { plaintextSecrets } from './conformance.js';
import { acceptInvitation, invitationLink } from './keycloak.js';
import { grantUserRoles } from './keycloak-users.js';
import { startRealServer, type RealServer } from './real-server.js';
import { startRealStore, type RealStore } from './real-store.js';
import { isSession, type ServerSession } from './server-api.js';

/** The 4.x releases moved from, through their API: the newest line with its store, and an older line's server. */
export const FOUR_RELEASE = '4.15.2';
export const OLDER_RELEASE = '4.10.2';
const ANALYST = 'Analist 📊 "team"';
const APPROVER = 'Keurder ✓ & co';
const USERNAMES = ['ilse', 'yusuf', 'hand'] as const;
type Person = (typeof USERNAMES)[number];

/** What a user sees: the organizations and collaborations their server lists them, by name. */
async function seen(session: ServerSession): Promise<{ organizations: string[]; collaborations: string[] }> {
  const names = async (route: string): Promise<string[]> => ((await session.list<{ name: string }>(route)) ?? []).map((item) => item.name).sort();
  return { organizations: await names('/organization'), collaborations: await names('/collaboration') };
}

/**
 * A federation on a real 4.x server, filled through its own API (by fedctl,
 * and by hand: a user and a role made in the API directly), with a linked
 * store of its release holding store roles and users (`withStore`), moved to HQ and a 5.x store by
 * the steps of docs/moving-to-vantage6-5.md only, through both APIs: exported `--for 5.0` with the
 * store, planned with the old server compared (nothing refused), applied,
 * then no changes. Every user is invited, sets a password, logs in to HQ and
 * sees the organizations and collaborations they saw on 4.x; the 5.x store
 * gives each the store roles they had.
 */
export async function fourApiToFive(hq: RealServer, release: string, withStore: { five: RealStore; rolesAt: (username: string) => Promise<string[]> } | null, dir: string): Promise<void> {
  // Names of the release's own: several moves share one HQ.
  const line = release.split('.').slice(0, 2).join('');
  const ZIEKENHUIS = `Ziekenhuis & Zn ✨ (${release})`;
  const NOOR = `مستشفى النور (${release})`;
  const COHORT = `Cohort "moved" 100% 🧪 ${release}`;
  const username = (person: Person): string => `${person}.${line}`;
  const address = (person: Person): string => `${person}+${line}@example.org`;
  const keycloak = hq.keycloak;
  assert.ok(keycloak, 'HQ runs with its Keycloak');
  // Users' e-mail and invitations live in Keycloak: fedctl's account is given the roles docs/keycloak.md names for that.
  await grantUserRoles(hq);
  const federation = path.join(dir, 'federation');
  const five = path.join(dir, 'five');
  mkdirSync(federation, { recursive: true });
  mkdirSync(five, { recursive: true });
  const four = await startRealServer(release, `sqlite:///${path.join(dir, 'four-server.sqlite')}`, path.join(dir, 'four-server'));
  let fourStore: RealStore | undefined;
  try {
    if (withStore !== null) fourStore = await startRealStore(release, `sqlite:///${path.join(dir, 'four-store.sqlite')}`, path.join(dir, 'four-store'), { rootOf: four.api });
    const fourConfig = path.join(federation, 'federation.yaml');
    writeFileSync(fourConfig, `# kept since 4.15, applied through the server's API\n${dump({
      vantage6: release.split('.').slice(0, 2).join('.'),
      server: { url: 'http://127.0.0.1', port: Number(new URL(four.api).port), api_path: '/api' },
      organizations: [{ name: ZIEKENHUIS }, { name: NOOR }],
      roles: [{
        // Through the API every role has an organization (the 4.13 database test moves one without).
        name: ANALYST, organization: NOOR, description: 'Runs tasks where its holder\'s organization takes part',
        rules: [
          { resource: 'task', scope: 'collaboration', operation: ['view', 'create'] },
          { resource: 'collaboration', scope: 'organization', operation: 'view' },
          { resource: 'organization', scope: 'collaboration', operation: 'view' },
        ],
      }],
      users: [
        { username: username('ilse'), organization: ZIEKENHUIS, email: address('ilse'), password: 'generate', roles: ['Researcher'] },
        { username: username('yusuf'), organization: NOOR, email: address('yusuf'), password: 'generate', roles: [{ name: ANALYST, organization: NOOR }] },
      ],
      collaborations: [{ name: COHORT, members: [{ organization: ZIEKENHUIS, node: false }, { organization: NOOR, node: false }] }],
      algorithm_stores: fourStore === undefined ? [] : [{
        url: fourStore.api, name: 'Gemeenschap 🧪', collaborations: 'all',
        roles: [{ name: APPROVER, description: 'Approves "reviewed" algorithms', rules: [{ resource: 'review', operation: ['view', 'edit'] }, { resource: 'algorithm', operation: 'view' }] }],
        users: [{ username: username('ilse'), roles: [APPROVER, 'Reviewer'] }, { username: username('yusuf'), roles: ['Developer', 'Server Manager'] }],
      }],
    }, { lineWidth: -1 })}`);
    const onFour = (args: string[]): Promise<CliResult> => runCli([...args, '--server', four.api], { cwd: dir, env: four.account });
    const filled = await onFour(['apply', fourConfig, '--auto-approve', '--no-color']);
    assert.equal(filled.code, 0, `${filled.stdout}${filled.stderr}`);

    // Made by hand in the 4.x API, as admins did before fedctl: a role of its own and a user holding it.
    const root = await four.login.admin();
    const organizations = (await root.list<{ id: number; name: string }>('/organization')) ?? [];
    const ziekenhuis = organizations.find((o) => o.name === ZIEKENHUIS)?.id;
    const rules = (await root.list<{ id: number; name: string; scope: string; operation: string }>('/rule')) ?? [];
    const rule = (name: string, scope: string, operation: string): number | undefined =>
      rules.find((r) => apiRuleKey(r) === `${name}:${scope.toUpperCase()}:${operation.toUpperCase()}`)?.id;
    const handRole = await root.request<{ id: number }>('POST', '/role', {
      name: 'Meekijker ✋', description: 'made by hand', organization_id: ziekenhuis,
      rules: [rule('collaboration', 'organization', 'view'), rule('organization', 'organization', 'view'), rule('task', 'organization', 'view')],
    });
    await root.request('POST', '/user', {
      username: username('hand'), firstname: 'Hand', lastname: 'Made', email: address('hand'), password: 'Made-by-hand-1!', organization_id: ziekenhuis, roles: [handRole.id],
    });
    const fourPasswords = plaintextSecrets(path.join(federation, 'fedctl-secrets.yaml')).users;
    const passwordOnFour = (person: Person): string => (person === 'hand' ? 'Made-by-hand-1!' : fourPasswords[username(person)]?.password ?? '');
    const sawOnFour = new Map<Person, Awaited<ReturnType<typeof seen>>>();
    for (const person of USERNAMES) {
      const session = await four.login.user(username(person), passwordOnFour(person));
      assert.ok(isSession(session), `${username(person)} logs in to the 4.x server`);
      sawOnFour.set(person, await seen(session));
    }
    assert.deepEqual(sawOnFour.get('yusuf')?.collaborations, [COHORT], 'the 4.x server shows them their collaboration');

    // Step 1: the export for vantage6 5 through the 4.x API, the store read as fedctl's account and moved to the 5.x store.
    const storeFlags = fourStore === undefined || withStore === null ? [] : ['--store', fourStore.api, '--store-url', `${fourStore.api}=${withStore.five.api}`];
    const exported = await onFour(['export', '--for', '5.0', ...storeFlags, '-o', path.join(five, 'federation.yaml')]);
    assert.equal(exported.code, 0, exported.stderr);
    if (withStore !== null) assert.match(exported.stderr, new RegExp(`store user "${username('yusuf').replace('.', '\\.')}": left out store role "Server Manager": a 5\\.x store has no such role`));
    // Step 2: HQ's own file; step 3: the plan against HQ, with each user's access on the 4.x server beside it.
    writeFileSync(path.join(five, 'hq.yaml'), 'vantage6: "5.0"\n');
    const both = { ...hq.account, ...four.account };
    const onHq = (args: string[]): Promise<CliResult> => runCli([...args, '--server', hq.api], { cwd: dir, env: both });
    const planned = await onHq(['plan', five, '--json', '--compare-with', four.api]);
    assert.equal(planned.code, 0, `${planned.stdout.slice(0, 3000)}${planned.stderr}`);
    const plan = JSON.parse(planned.stdout) as Plan;
    assert.deepEqual(plan.blocked, [], 'HQ and the 5.x store take the exported config as it is');
    assert.ok(plan.changes.some((c) => c.kind === 'user' && c.address === username('hand')), 'what was made by hand moves too');
    assert.deepEqual(plan.accessAcross?.groups.flatMap((g) => g.losses.filter((l) => l.resource === 'task' && l.operation === 'create')), [], 'nobody loses task creation');
    // Step 4: apply, then no changes.
    const applied = await onHq(['apply', five, '--auto-approve', '--no-color']);
    assert.equal(applied.code, 0, `${applied.stdout}${applied.stderr}`);
    assert.equal((await onHq(['plan', five, '--detailed-exitcode'])).code, 0, 'apply then plan: no changes');

    if (withStore !== null) {
      // The 5.x store gives each user the store roles they had (but the one a 5.x store does not have).
      assert.deepEqual(await withStore.rolesAt(username('ilse')), [APPROVER, 'Reviewer'].sort());
      assert.deepEqual(await withStore.rolesAt(username('yusuf')), ['Developer']);
    }
    // Every user follows their invitation, logs in to HQ, and sees what they saw on the 4.x server.
    for (const person of USERNAMES) {
      const password = `Moved-${person}-1!`;
      await acceptInvitation(invitationLink((await keycloak.mailbox.waitFor(address(person))).text), password);
      const session = await hq.login.user(username(person), password);
      assert.ok(isSession(session), `${username(person)} logs in to HQ: ${isSession(session) ? '' : session.refusal}`);
      assert.deepEqual(await seen(session), sawOnFour.get(person), `${username(person)} sees on HQ what they saw on the 4.x server`);
    }
  } finally {
    await Promise.all([fourStore?.stop(), four.stop()]);
  }
}
