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

/** The 4.x release moved from: its server and its store run beside HQ for the test. */
export const FOUR_RELEASE = '4.15.2';
const ZIEKENHUIS = 'Ziekenhuis & Zn ✨ (moved)';
const NOOR = 'مستشفى النور (moved)';
const COHORT = 'Cohort "moved" 100% 🧪';
const ANALYST = 'Analist 📊 "team"';
const APPROVER = 'Keurder ✓ & co';

/** The users of the federation, with the address their invitation goes to. */
const USERS = { 'ilse.moved': 'ilse+moved@example.org', 'yusuf.moved': 'yusuf+moved@example.org', 'hand.made': 'hand+made@example.org' } as const;
type Username = keyof typeof USERS;

/** What a user sees: the organizations and collaborations their server lists them, by name. */
async function seen(session: ServerSession): Promise<{ organizations: string[]; collaborations: string[] }> {
  const names = async (route: string): Promise<string[]> => ((await session.list<{ name: string }>(route)) ?? []).map((item) => item.name).sort();
  return { organizations: await names('/organization'), collaborations: await names('/collaboration') };
}

/**
 * A federation on a real 4.15 server, filled through its own API (by fedctl,
 * and by hand: a user and a role made in the API directly), with a linked
 * 4.15 store holding store roles and users, moved to HQ and a 5.x store by
 * the README's steps only, through both APIs: exported `--for 5.0` with the
 * store, planned with the old server compared (nothing refused), applied,
 * then no changes. Every user is invited, sets a password, logs in to HQ and
 * sees the organizations and collaborations they saw on 4.x; the 5.x store
 * gives each the store roles they had.
 */
export async function fourApiToFive(hq: RealServer, fiveStore: RealStore, storeRolesAtFive: (username: string) => Promise<string[]>, dir: string): Promise<void> {
  const keycloak = hq.keycloak;
  assert.ok(keycloak, 'HQ runs with its Keycloak');
  // Users' e-mail and invitations live in Keycloak: fedctl's account is given the roles the README names for that.
  await grantUserRoles(hq);
  const federation = path.join(dir, 'federation');
  const five = path.join(dir, 'five');
  mkdirSync(federation, { recursive: true });
  mkdirSync(five, { recursive: true });
  const four = await startRealServer(FOUR_RELEASE, `sqlite:///${path.join(dir, 'four-server.sqlite')}`, path.join(dir, 'four-server'));
  let fourStore: RealStore | undefined;
  try {
    fourStore = await startRealStore(FOUR_RELEASE, `sqlite:///${path.join(dir, 'four-store.sqlite')}`, path.join(dir, 'four-store'), { rootOf: four.api });
    const fourConfig = path.join(federation, 'federation.yaml');
    writeFileSync(fourConfig, `# kept since 4.15, applied through the server's API\n${dump({
      vantage6: '4.15',
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
        { username: 'ilse.moved', organization: ZIEKENHUIS, email: USERS['ilse.moved'], password: 'generate', roles: ['Researcher'] },
        { username: 'yusuf.moved', organization: NOOR, email: USERS['yusuf.moved'], password: 'generate', roles: [{ name: ANALYST, organization: NOOR }] },
      ],
      collaborations: [{ name: COHORT, members: [{ organization: ZIEKENHUIS, node: false }, { organization: NOOR, node: false }] }],
      algorithm_stores: [{
        url: fourStore.api, name: 'Gemeenschap 🧪', collaborations: 'all',
        roles: [{ name: APPROVER, description: 'Approves "reviewed" algorithms', rules: [{ resource: 'review', operation: ['view', 'edit'] }, { resource: 'algorithm', operation: 'view' }] }],
        users: [{ username: 'ilse.moved', roles: [APPROVER, 'Reviewer'] }, { username: 'yusuf.moved', roles: ['Developer', 'Server Manager'] }],
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
      username: 'hand.made', firstname: 'Hand', lastname: 'Made', email: USERS['hand.made'], password: 'Made-by-hand-1!', organization_id: ziekenhuis, roles: [handRole.id],
    });
    const fourPasswords = plaintextSecrets(path.join(federation, 'fedctl-secrets.yaml')).users;
    const passwordOnFour = (username: Username): string => (username === 'hand.made' ? 'Made-by-hand-1!' : fourPasswords[username]?.password ?? '');
    const sawOnFour = new Map<Username, Awaited<ReturnType<typeof seen>>>();
    for (const username of Object.keys(USERS) as Username[]) {
      const session = await four.login.user(username, passwordOnFour(username));
      assert.ok(isSession(session), `${username} logs in to the 4.x server`);
      sawOnFour.set(username, await seen(session));
    }
    assert.deepEqual(sawOnFour.get('yusuf.moved')?.collaborations, [COHORT], 'the 4.x server shows them their collaboration');

    // Step 1: the export for vantage6 5 through the 4.x API, the store read as fedctl's account and moved to the 5.x store.
    const exported = await onFour(['export', '--for', '5.0', '--store', fourStore.api, '--store-url', `${fourStore.api}=${fiveStore.api}`, '-o', path.join(five, 'federation.yaml')]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stderr, /store user "yusuf\.moved": left out store role "Server Manager": a 5\.x store has no such role/);
    // Step 2: HQ's own file; step 3: the plan against HQ, with each user's access on the 4.x server beside it.
    writeFileSync(path.join(five, 'hq.yaml'), 'vantage6: "5.0"\n');
    const both = { ...hq.account, ...four.account };
    const onHq = (args: string[]): Promise<CliResult> => runCli([...args, '--server', hq.api], { cwd: dir, env: both });
    const planned = await onHq(['plan', five, '--json', '--compare-with', four.api]);
    assert.equal(planned.code, 0, `${planned.stdout.slice(0, 3000)}${planned.stderr}`);
    const plan = JSON.parse(planned.stdout) as Plan;
    assert.deepEqual(plan.blocked, [], 'HQ and the 5.x store take the exported config as it is');
    assert.ok(plan.changes.some((c) => c.kind === 'user' && c.address === 'hand.made'), 'what was made by hand moves too');
    assert.deepEqual(plan.accessAcross?.groups.flatMap((g) => g.losses.filter((l) => l.resource === 'task' && l.operation === 'create')), [], 'nobody loses task creation');
    // Step 4: apply, then no changes.
    const applied = await onHq(['apply', five, '--auto-approve', '--no-color']);
    assert.equal(applied.code, 0, `${applied.stdout}${applied.stderr}`);
    assert.equal((await onHq(['plan', five, '--detailed-exitcode'])).code, 0, 'apply then plan: no changes');

    // The 5.x store gives each user the store roles they had (but the one a 5.x store does not have).
    assert.deepEqual(await storeRolesAtFive('ilse.moved'), [APPROVER, 'Reviewer'].sort());
    assert.deepEqual(await storeRolesAtFive('yusuf.moved'), ['Developer']);
    // Every user follows their invitation, logs in to HQ, and sees what they saw on the 4.x server.
    for (const [username, address] of Object.entries(USERS) as [Username, string][]) {
      const password = `Moved-${username}-1!`;
      await acceptInvitation(invitationLink((await keycloak.mailbox.waitFor(address)).text), password);
      const session = await hq.login.user(username, password);
      assert.ok(isSession(session), `${username} logs in to HQ: ${isSession(session) ? '' : session.refusal}`);
      assert.deepEqual(await seen(session), sawOnFour.get(username), `${username} sees on HQ what they saw on the 4.x server`);
    }
  } finally {
    await Promise.all([fourStore?.stop(), four.stop()]);
  }
}
