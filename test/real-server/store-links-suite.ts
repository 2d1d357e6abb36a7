import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { dump, load } from 'js-yaml';
import type { Plan } from '../../src/plan/plan.js';
import { killFedctlWhen, runCli, type CliResult } from '../helpers/run-cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-databases.js';
import { plaintextSecrets } from './conformance.js';
import { availableServers, availableStore } from './conformance-env.js';
import { startRealHq } from './real-hq.js';
import { startRealServer, type RealServer } from './real-server.js';
import { startRealHqStore, startRealStore, storeCall, type RealStore } from './real-store.js';
import { isSession, type ServerSession } from './server-api.js';
import { keycloakToken } from './keycloak.js';
import { isHq } from './server-environment.js';
import { FOUR_RELEASE, OLDER_RELEASE, fourApiToFive } from './four-api-to-five.js';
import { listStoreReference, readStoreReference } from './store-reference.js';

const ZORG = 'Zorg & Co ✨';
const AMAL = 'مستشفى الأمل';
const TRIAL = 'Trial & Error! 100%';
const STUDY = '研究 "quoted" \\ back';
const STORE_NAME = 'Community store 🧪';

interface Link { id: number; name: string; url: string; api_path?: string; collaborations: string | null }
interface StoreUserRow { id: number; username: string }
interface StoreReader {
  readonly token: string;
  get<T>(route: string): Promise<T>;
  users(): Promise<StoreUserRow[]>;
  rolesOf(username: string): Promise<string[]>;
  rolesOfId(id: number): Promise<string[]>;
}

/**
 * Algorithm stores linked as code, against a real server and a real store
 * beside it (4.x: the server whitelists itself at the store; vantage6 5: HQ
 * keeps the link, the store trusts HQ's Keycloak): what fedctl plans and
 * applies is what the server and the store then do for users.
 */
export async function storeLinksSuite(release: string): Promise<void> {
  const hq = isHq(release);
  const unavailable = (await availableServers([release])).get(release) || await availableStore(release);
  // HQ's suite moves federations from a 4.15 server and store, and from an older line's server, which run beside it for those tests.
  const fourUnavailable = hq && ((await availableServers([FOUR_RELEASE])).get(FOUR_RELEASE) || await availableStore(FOUR_RELEASE));
  const olderUnavailable = hq && (await availableServers([OLDER_RELEASE])).get(OLDER_RELEASE);
  describe(`algorithm store links through the API of the real ${hq ? `HQ ${release}` : `vantage6 ${release} server`}, with store ${release}`, { skip: unavailable }, () => {
    let db: TestDatabase;
    let server: RealServer;
    let store: RealStore;
    let refusing: RealStore | undefined;
    let managed: RealStore | undefined;
    let root: ServerSession;
    const collaborations: Record<string, number> = {};
    const config = (): string => path.join(db.dir, 'federation.yaml');
    const fedctl = (args: string[]): Promise<CliResult> => runCli([...args, '--server', server.api], { cwd: db.dir, env: server.account });
    const planJson = async (file = config(), extra: string[] = []): Promise<Plan> => {
      const planned = await fedctl(['plan', file, '--json', ...extra]);
      assert.ok(planned.code === 0 || planned.code === 1, planned.stderr);
      return JSON.parse(planned.stdout) as Plan;
    };
    const apply = async (extra: string[] = []): Promise<CliResult> => fedctl(['apply', config(), '--auto-approve', '--no-color', ...extra]);
    /** The config: the store serves `served` ('all' for every collaboration); more stores, and more users of Zorg, when given. */
    const write = (served: string[] | 'all' | null, more: Record<string, unknown>[] = [], name = STORE_NAME, crowd: readonly string[] = []): void => {
      const user = (username: string, organization: string): Record<string, unknown> => ({
        username, organization, password: 'generate', ...(hq ? {} : { email: `${username}+v6@example.org` }),
        rules: [{ resource: 'collaboration', scope: 'organization', operation: 'view' }],
      });
      writeFileSync(config(), `# algorithm stores, as a reviewer reads them\n${dump({
        vantage6: hq ? '5.0' : '4.15',
        ...(hq ? {} : { server: { url: 'http://127.0.0.1', port: Number(new URL(server.api).port), api_path: '/api' } }),
        organizations: [{ name: ZORG }, { name: AMAL }],
        collaborations: [
          { name: TRIAL, members: [{ organization: ZORG, node: false }] },
          { name: STUDY, members: [{ organization: AMAL, node: false }] },
        ],
        users: [user('anna', ZORG), user('omar', AMAL), ...crowd.map((username) => user(username, ZORG))],
        algorithm_stores: [...(served === null ? [] : [{ url: store.api, name, collaborations: served }]), ...more],
      }, { lineWidth: -1 })}`);
    };
    const links = async (query = ''): Promise<Link[]> => (await root.list<Link>(`/algorithmstore${query}`)) ?? [];
    const linkedUrl = (link: Link): string => `${link.url}${link.api_path ?? ''}`;
    /**
     * The stores the server shows a user of the config (by their collaborations); a 4.x store's own answer to them
     * (403 until it whitelists the server; store 5.0.3 answers a Keycloak user it does not know with 500, so that is left to its users' own tests).
     */
    const asUser = async (username: string): Promise<{ listed: string[]; store: number | null }> => {
      const password = plaintextSecrets(path.join(db.dir, 'fedctl-secrets.yaml')).users[username]?.password ?? '';
      const session = await server.login.user(username, password);
      assert.ok(isSession(session), `${username} logs in`);
      const listed = ((await session.list<Link>('/algorithmstore')) ?? []).map(linkedUrl);
      if (hq) return { listed, store: null };
      const { status } = await storeCall(store, 'GET', '/algorithm', { token: await session.bearer(), server: server.api });
      return { listed, store: status };
    };
    /** A token of fedctl's own Keycloak client (vantage6 5), as fedctl gets one. */
    const fedctlToken = async (): Promise<string> => {
      const { FEDCTL_KEYCLOAK_URL: url, FEDCTL_KEYCLOAK_REALM: realm, FEDCTL_CLIENT_ID: id, FEDCTL_CLIENT_SECRET: secret } = server.account;
      const answer = await keycloakToken(url ?? '', realm ?? 'vantage6', { grant_type: 'client_credentials', client_id: id ?? '', client_secret: secret ?? '' });
      assert.ok('access_token' in answer, JSON.stringify(answer));
      return answer.access_token;
    };
    /** Reads at a store as fedctl's account, which the store knows as its root: its users, and the roles it says a user holds. */
    const readerAt = async (target: RealStore): Promise<StoreReader> => {
      const token = hq ? await fedctlToken() : await root.bearer();
      const get = async <T>(route: string): Promise<T> => {
        const { status, body } = await storeCall<{ data: T }>(target, 'GET', route, { token, server: server.api });
        assert.equal(status, 200, JSON.stringify(body));
        return body.data;
      };
      const users = (): Promise<StoreUserRow[]> => get<StoreUserRow[]>('/user?per_page=1000');
      const rolesOfId = async (id: number): Promise<string[]> => (await get<{ name: string }[]>(`/role?user_id=${id}&per_page=1000`)).map((r) => r.name).sort();
      const rolesOf = async (username: string): Promise<string[]> => {
        const user = (await users()).find((u) => u.username === username);
        return user === undefined ? [] : rolesOfId(user.id);
      };
      return { token, get, users, rolesOf, rolesOfId };
    };
    const noChanges = async (file = config()): Promise<void> => {
      const plan = await planJson(file);
      assert.deepEqual(plan.changes, []);
      assert.deepEqual(plan.blocked, []);
    };

    before(async () => {
      db = await createTestDatabase('sqlite');
      server = hq ? await startRealHq(db.url, path.join(db.dir, 'server')) : await startRealServer(release, db.url, path.join(db.dir, 'server'));
      store = hq
        ? await startRealHqStore(release, `sqlite:///${path.join(db.dir, 'store.sqlite')}`, path.join(db.dir, 'store'), server)
        : await startRealStore(release, `sqlite:///${path.join(db.dir, 'store.sqlite')}`, path.join(db.dir, 'store'));
      if (!hq) {
        refusing = await startRealStore(release, `sqlite:///${path.join(db.dir, 'refusing.sqlite')}`, path.join(db.dir, 'refusing'),
          { policies: { allowed_servers: ['https://v6.elsewhere.example.org/api'] } });
      }
      // Its root is fedctl's account (4.x: the server's root; 5.x: the Keycloak user of fedctl's client): the store's own users and roles are managed as that account.
      managed = hq
        ? await startRealHqStore(release, `sqlite:///${path.join(db.dir, 'managed.sqlite')}`, path.join(db.dir, 'managed'), server, {}, `service-account-${server.account.FEDCTL_CLIENT_ID}`)
        : await startRealStore(release, `sqlite:///${path.join(db.dir, 'managed.sqlite')}`, path.join(db.dir, 'managed'), { rootOf: server.api });
      root = await server.login.admin();
    });

    after(async () => {
      await Promise.all([store?.stop(), refusing?.stop(), managed?.stop()]);
      await server?.stop();
      await db?.drop();
    });

    // The reference the catalogue reads (reference/algorithm-store-X.Y), asked of a store of this run, as its root: built-in roles are never changed.
    it(`the store carries the rules and built-in roles of reference/algorithm-store-${release.split('.').slice(0, 2).join('.')}, as its first start makes them`, async () => {
      const token = hq ? await fedctlToken() : await root.bearer();
      assert.deepEqual(await listStoreReference(managed as RealStore, { token, server: server.api }), readStoreReference(release));
    });

    it('links a store to one collaboration: its users are shown the store, the others not; then plan shows no changes', async () => {
      write([TRIAL]);
      const planned = await fedctl(['plan', config(), '--no-color']);
      assert.match(planned.stdout, new RegExp(`\\+ algorithm_store "${store.api.replace(/[.]/g, '\\.')}"\\n\\s+name:\\s+"${STORE_NAME}"\\n\\s+collaborations:\\n\\s+"Trial & Error! 100%"`));
      const applied = await apply();
      assert.equal(applied.code, 0, applied.stderr);
      for (const collab of await root.list<{ id: number; name: string }>('/collaboration') ?? []) collaborations[collab.name] = collab.id;
      assert.deepEqual((await links(`?collaboration_id=${collaborations[TRIAL]}`)).map(linkedUrl), [store.api]);
      assert.deepEqual(await links(`?collaboration_id=${collaborations[STUDY]}`), []);
      const anna = await asUser('anna');
      const omar = await asUser('omar');
      assert.deepEqual(anna.listed, [store.api]);
      assert.deepEqual(omar.listed, []);
      // A 4.x store answers users of a server it whitelisted.
      if (!hq) assert.equal(anna.store, 200);
      await noChanges();
    });

    it('a second collaboration, a new name, one collaboration taken out, then every collaboration: each applied, each then planned as no changes', async () => {
      write([TRIAL, STUDY], [], 'Gemeenschap 🧪 & co');
      assert.equal((await apply()).code, 0);
      assert.deepEqual((await links()).map((l) => [l.name, l.collaborations === null]), [['Gemeenschap 🧪 & co', false], ['Gemeenschap 🧪 & co', false]]);
      assert.deepEqual((await asUser('omar')).listed, [store.api]);
      await noChanges();

      write([STUDY]);
      if (!hq) {
        // The 4.x API takes a collaboration out only by unlinking the store, which deletes the store's users of the server: refused, and made through the database.
        const refused = await apply();
        assert.equal(refused.code, 1);
        assert.match(refused.stdout, /! update algorithm_store "[^"]+": the 4\.x API takes collaborations out of a store's link only by unlinking the store, which makes the store delete its users of this server/);
      }
      const taken = hq ? await apply() : await runCli(['apply', config(), '--auto-approve', '--database', db.url], { cwd: db.dir });
      assert.equal(taken.code, 0, taken.stderr);
      assert.deepEqual((await links(`?collaboration_id=${collaborations[TRIAL]}`)).map(linkedUrl), []);
      assert.deepEqual((await asUser('omar')).listed, [store.api]);
      assert.deepEqual((await asUser('anna')).listed, []);
      await noChanges();

      write('all');
      assert.equal((await apply()).code, 0);
      assert.deepEqual((await links()).map((l) => l.collaborations), [null]);
      assert.deepEqual((await asUser('anna')).listed, [store.api]);
      await noChanges();
    });

    it('drift made through the server\'s API is planned exactly and reverted', async () => {
      write([TRIAL]);
      assert.equal((await apply()).code, 0);
      const [link] = await links();
      await root.request('PATCH', `/algorithmstore/${link?.id}`, { name: 'renamed by hand' });
      const plan = await planJson();
      assert.deepEqual(plan.changes.map((c) => [c.action, c.kind, c.action === 'update' ? c.fields : null]),
        [['update', 'algorithm_store', [{ field: 'name', before: 'renamed by hand', after: STORE_NAME }]]]);
      // Unlinked by hand, as an apply stopped between unlinking and linking again would leave it.
      await root.request('DELETE', `/algorithmstore/${link?.id}${hq ? '' : `?server_url=${encodeURIComponent(server.api)}`}`);
      assert.deepEqual((await planJson()).changes.map((c) => [c.action, c.kind]), [['create', 'algorithm_store']]);
      assert.equal((await apply()).code, 0);
      assert.deepEqual((await links()).map((l) => [l.name, l.collaborations === null]), [[STORE_NAME, false]]);
      await noChanges();
    });

    it('killed at any moment of its work at a store (the link, the store\'s roles, its users made, changed and pruned), then run again: it converges, and no store user is left half-made', async () => {
      const target = managed as RealStore;
      const reader = await readerAt(target);
      // Enough users at the store that the kills land while fedctl works through them.
      const crowd = Array.from({ length: 8 }, (_, i) => `kill.user-${String(i + 1).padStart(2, '0')}`);
      const REVIEWER = 'Kill reviewer ✂ & co';
      const VIEWER = 'Kill viewer';
      const roles = [
        { name: REVIEWER, description: 'Reviews "all" algorithms', rules: [{ resource: 'review', operation: ['view', 'edit'] }] },
        { name: VIEWER, rules: [{ resource: 'algorithm', operation: 'view' }] },
      ];
      /** Half the crowd reviews, half views; `swapped` the other way round. */
      const wanted = (swapped: boolean): Map<string, string[]> => new Map(crowd.map((username, i) => [username, (i % 2 === 0) !== swapped ? [REVIEWER, 'Reviewer'].sort() : [VIEWER]]));
      const configure = (users: ReadonlyMap<string, string[]>, own = roles): void => write([TRIAL], [{
        url: target.api, collaborations: [STUDY], roles: own, users: [...users].map(([username, held]) => ({ username, roles: held })),
      }], STORE_NAME, crowd);
      /** The crowd as the store has them: each user's roles as the store lists them. */
      const atStore = async (): Promise<Map<string, string[]>> => {
        const listed = (await reader.users()).filter((u) => crowd.includes(u.username));
        return new Map(await Promise.all(listed.map(async (u) => [u.username, await reader.rolesOfId(u.id)] as const)));
      };
      const settledAfter = async (): Promise<Map<string, string[]>> => {
        await sleep(300);
        return atStore();
      };
      const prune = ['--prune', 'store_users', '--prune', 'store_roles', '--allow-destroy'];
      const killedWhen = (reached: () => Promise<boolean>, extra: string[] = []): Promise<boolean> =>
        killFedctlWhen(['apply', config(), '--auto-approve', '--server', server.api, ...extra], { cwd: db.dir, env: server.account }, reached);
      /**
       * After a kill: every user the store has holds the roles of before or of after, never a mix, and the plan's
       * store users are exactly those still to make, change or delete. Says how many are left.
       */
      const leftAsPlanned = async (before: ReadonlyMap<string, string[]>, after: ReadonlyMap<string, string[]>, extra: string[] = []): Promise<number> => {
        // The store still finishes the call it was given before the kill: read once it has.
        let held = await atStore();
        for (let again = await settledAfter(); JSON.stringify([...again]) !== JSON.stringify([...held]); again = await settledAfter()) held = again;
        for (const [username, roles] of held) {
          assert.ok([before.get(username), after.get(username)].some((r) => JSON.stringify(r) === JSON.stringify(roles)), `${username} holds ${JSON.stringify(roles)} at the store`);
        }
        const plan = await planJson(config(), extra);
        assert.deepEqual(plan.blocked, []);
        const left = plan.changes.filter((c) => c.kind === 'store_user').map((c) => `${c.action} ${c.address.replace(/ \(.*\)$/, '')}`).sort();
        const expected = crowd.flatMap((username) => {
          const now = held.get(username);
          const then = after.get(username);
          if (JSON.stringify(now) === JSON.stringify(then)) return [];
          return [`${now === undefined ? 'create' : then === undefined ? 'delete' : 'update'} ${username}`];
        }).sort();
        assert.deepEqual(left, expected);
        return expected.length;
      };
      // Asked between kills, one listing each.
      const crowdCount = async (): Promise<number> => (await reader.users()).filter((u) => crowd.includes(u.username)).length;
      const holders = async (role: string): Promise<string[]> => {
        const id = (await reader.get<{ id: number; name: string }[]>('/role?per_page=1000')).find((r) => r.name === role)?.id;
        return id === undefined ? [] : (await reader.get<StoreUserRow[]>(`/user?role_id=${id}&per_page=1000`)).map((u) => u.username);
      };
      const none = new Map<string, string[]>();
      const seen: number[] = [];

      // Made: killed once the server has linked the store, then as the store's users appear.
      configure(wanted(false));
      const linked = async (): Promise<boolean> => (await links()).some((l) => linkedUrl(l) === target.api);
      assert.ok(await killedWhen(linked), 'killed once the link was made');
      seen.push(await leftAsPlanned(none, wanted(false)));
      await killedWhen(async () => await crowdCount() >= 3);
      seen.push(await leftAsPlanned(none, wanted(false)));
      assert.equal((await apply()).code, 0);
      assert.deepEqual(await atStore(), wanted(false));
      await noChanges();

      // Changed: every user's roles swapped, killed half-way.
      configure(wanted(true));
      // Swapped so far: the even users that view.
      await killedWhen(async () => (await holders(VIEWER)).filter((u) => crowd.indexOf(u) % 2 === 0).length >= 2);
      seen.push(await leftAsPlanned(wanted(false), wanted(true)));
      assert.equal((await apply()).code, 0);
      assert.deepEqual(await atStore(), wanted(true));

      // Pruned: the crowd and its roles left out, killed half-way through deleting them.
      configure(none, []);
      await killedWhen(async () => await crowdCount() <= 4, prune);
      seen.push(await leftAsPlanned(wanted(true), none, prune));
      assert.equal((await apply(prune)).code, 0, 'converges');
      assert.deepEqual(await atStore(), none);
      assert.deepEqual((await reader.get<{ name: string }[]>('/role?per_page=1000')).filter((r) => r.name.startsWith('Kill')), []);
      assert.ok(seen.some((n) => n > 0 && n < crowd.length), `a kill came in the middle of the store's users: changes left after each kill ${JSON.stringify(seen)}`);
      // The store stays linked, as the next test finds it.
      write([TRIAL], [{ url: target.api, collaborations: [STUDY] }]);
      await noChanges();
    });

    {
      it('the store\'s own roles and users: made as the config says, drift made at the store planned exactly and reverted, users left out pruned', async () => {
        const target = managed as RealStore;
        const own = (users: Record<string, unknown>[]): Record<string, unknown> => ({
          url: target.api, collaborations: [STUDY],
          roles: [{ name: 'Approver ✓ & co', description: 'Approves "reviewed" algorithms', rules: [{ resource: 'review', operation: ['view', 'edit'] }, { resource: 'algorithm', operation: 'view' }] }],
          users,
        });
        const both = [{ username: 'anna', roles: ['Reviewer', 'Approver ✓ & co'] }, { username: 'omar', roles: ['Viewer'] }];
        write([TRIAL], [own(both)]);
        const planned = await fedctl(['plan', config(), '--no-color']);
        assert.equal(planned.code, 0, planned.stderr);
        assert.match(planned.stdout, /\+ store_role "Approver ✓ & co \(http:\/\/127\.0\.0\.1:\d+\/api\)"\n\s+description: "Approves \\"reviewed\\" algorithms"\n\s+rules:\n\s+algorithm:view\n\s+review:edit\n\s+review:view/);
        const applied = await apply();
        assert.equal(applied.code, 0, applied.stderr);
        const { token, get: atStore, users: usersAtStore, rolesOf: storeRoles } = await readerAt(target);
        assert.deepEqual(await storeRoles('anna'), ['Approver ✓ & co', 'Reviewer']);
        assert.deepEqual(await storeRoles('omar'), ['Viewer']);

        // What fedctl access says each user may do at the store is what the store says they may (its rules of the user).
        const storeUsers = await usersAtStore();
        for (const username of ['anna', 'omar']) {
          const id = storeUsers.find((u) => u.username === username)?.id;
          const route = hq ? `/rule?user_id=${id}&no_pagination=1` : `/rule?username=${username}&server_url=${encodeURIComponent(server.api)}&no_pagination=1`;
          const atTheStore = [...new Set((await atStore<{ name: string; operation: string }[]>(route)).map((r) => `store.${r.name}:${r.operation}`))].sort();
          // Offline on the config, and on the server with the store read as fedctl's account (--store).
          for (const args of [[config()], ['--server', server.api, '--store', target.api]]) {
            const reported = await runCli(['access', ...args, '--user', username, '--json'], { cwd: db.dir, env: server.account });
            assert.equal(reported.code, 0, reported.stderr);
            const [report] = (JSON.parse(reported.stdout) as { users: { permissions: { resource: string; operation: string; scope: string }[] }[] }).users;
            assert.deepEqual(report?.permissions.filter((p) => p.scope === 'store').map((p) => `${p.resource}:${p.operation}`).sort(), atTheStore, `${username} ${args.join(' ')}`);
          }
        }
        if (!hq) {
          // Who may review, as the store finds reviewers to assign (its account, the server's root, among them but not the config's).
          const reviewers = (await atStore<{ username: string }[]>('/user?can_review=1')).map((u) => u.username).filter((u) => u !== 'root');
          const who = await runCli(['access', config(), '--who-can', 'store.review:edit', '--json'], { cwd: db.dir });
          assert.deepEqual((JSON.parse(who.stdout) as { users: { username: string }[] }).users.map((u) => u.username), reviewers.sort());
        }
        const [approver] = (await atStore<{ id: number; name: string }[]>('/role')).filter((r) => r.name === 'Approver ✓ & co');
        assert.deepEqual((await atStore<{ name: string; operation: string }[]>(`/rule?role_id=${approver?.id}`)).map((r) => `${r.name}:${r.operation}`).sort(),
          ['algorithm:view', 'review:edit', 'review:view']);
        await noChanges();

        // Drift at the store: anna loses Reviewer by hand.
        const anna = (await usersAtStore()).find((u) => u.username === 'anna');
        const { status } = await storeCall(target, 'PATCH', `/user/${anna?.id}`, { token, server: server.api }, { roles: [approver?.id] });
        assert.equal(status, 200);
        const drift = await planJson();
        assert.deepEqual(drift.changes.map((c) => [c.action, c.kind, c.action === 'update' ? c.fields : null]),
          [['update', 'store_user', [{ field: 'roles', added: ['Reviewer'], removed: [] }]]]);
        // The access review says what anna gets back at the store, and why.
        const regained = drift.access?.groups.find((g) => g.users.includes('anna'));
        assert.deepEqual(regained?.gains.map((g) => `${g.resource}:${g.operation} ${g.on.join()}`),
          ['store.role:view', 'store.user:view'].map((rule) => `${rule} store ${JSON.stringify(new URL(target.api).host)}`));
        assert.deepEqual(regained?.causes, [`their store roles at ${JSON.stringify(new URL(target.api).host)} + "Reviewer"`]);
        // Reverted through a saved plan, as a reviewed CI job applies it; one saved before the store changed again is refused.
        const saved = path.join(db.dir, 'store-plan.json');
        assert.equal((await fedctl(['plan', config(), '-o', saved])).code, 0);
        const stale = path.join(db.dir, 'stale-plan.json');
        assert.equal((await fedctl(['plan', config(), '-o', stale])).code, 0);
        const savedApplied = await fedctl(['apply', saved, '--auto-approve', '--no-color']);
        assert.equal(savedApplied.code, 0, savedApplied.stderr);
        assert.deepEqual(await storeRoles('anna'), ['Approver ✓ & co', 'Reviewer']);
        const refused = await fedctl(['apply', stale, '--auto-approve', '--no-color']);
        assert.equal(refused.code, 1);
        assert.match(refused.stderr, /changed since this plan was made/);

        // A store admin widens what Approver may do at the store (user: view, as in its UI): planned in every form, and
        // reverted with the documented commands (plan and apply as text, as CI recipes run them).
        const ruleIds = new Map((await atStore<{ id: number; name: string; operation: string }[]>('/rule?no_pagination=1')).map((r) => [`${r.name}:${r.operation}`, r.id]));
        const widened = ['algorithm:view', 'review:edit', 'review:view', 'user:view'].map((key) => ruleIds.get(key));
        const patched = await storeCall(target, 'PATCH', `/role/${approver?.id}`, { token, server: server.api }, { rules: widened });
        assert.equal(patched.status, 200, JSON.stringify(patched.body));
        const widenedPlan = await planJson();
        assert.deepEqual(widenedPlan.changes.map((c) => [c.action, c.kind, c.action === 'update' ? c.fields : null]),
          [['update', 'store_role', [{ field: 'rules', added: [], removed: ['user:view'] }]]]);
        const shownText = await fedctl(['plan', config(), '--no-color']);
        assert.equal(shownText.code, 0, shownText.stderr);
        assert.match(shownText.stdout, /~ store_role "Approver ✓ & co \(http:\/\/127\.0\.0\.1:\d+\/api\)"\n {6}rules:\n {8}- user:view\n/);
        const shownMarkdown = await fedctl(['plan', config(), '--markdown']);
        assert.equal(shownMarkdown.code, 0, shownMarkdown.stderr);
        assert.match(shownMarkdown.stdout, /- user:view/);
        const reverted = await fedctl(['apply', config(), '--auto-approve', '--no-color']);
        assert.equal(reverted.code, 0, reverted.stderr);
        assert.deepEqual((await atStore<{ name: string; operation: string }[]>(`/rule?role_id=${approver?.id}`)).map((r) => `${r.name}:${r.operation}`).sort(),
          ['algorithm:view', 'review:edit', 'review:view']);
        await noChanges();

        // omar left out: unmanaged until pruned; fedctl's own account (the store's root) never.
        write([TRIAL], [own(both.slice(0, 1))]);
        const left = await planJson();
        assert.deepEqual(left.changes, []);
        const account = hq ? `service-account-${server.account.FEDCTL_CLIENT_ID}` : 'root';
        assert.deepEqual(left.unmanaged.filter((u) => u.kind === 'store_user').map((u) => [u.address.replace(/ \(.*\)$/, ''), u.account ?? false]),
          [['omar', false], [account, true]].sort((a, b) => String(a[0]).localeCompare(String(b[0]))));
        const pruned = await apply(['--prune', 'store_users', '--allow-destroy']);
        assert.equal(pruned.code, 0, pruned.stderr);
        assert.deepEqual(await storeRoles('omar'), []);
        assert.deepEqual(await storeRoles(account), ['Root']);
        await noChanges();

        // Export adopts the store: its own roles, its users (not fedctl's account) and its policies; the exported config plans no changes.
        const adoptedFile = path.join(db.dir, 'adopted.yaml');
        const exported = await fedctl(['export', '--store', target.api, '--out', adoptedFile]);
        assert.equal(exported.code, 0, exported.stderr);
        const adopted = load(readFileSync(adoptedFile, 'utf8')) as { algorithm_stores: { url: string; roles?: { name: string }[]; users?: unknown[]; policies?: Record<string, unknown> }[] };
        const entry = adopted.algorithm_stores.find((st) => st.url === target.api);
        assert.deepEqual(entry?.users, [{ username: 'anna', roles: ['Approver ✓ & co', 'Reviewer'] }]);
        assert.deepEqual(entry?.roles?.map((r) => r.name), ['Approver ✓ & co']);
        assert.equal(entry?.policies?.min_reviewers, 2);
        assert.equal(adopted.algorithm_stores.find((st) => st.url === store.api)?.users, undefined, 'a store not named is exported as a link only');
        await noChanges(adoptedFile);
        const unknown = await fedctl(['export', '--store', `${target.api}/v2`]);
        assert.equal(unknown.code, 1);
        assert.match(unknown.stderr, /--store .*\/v2: the server links no algorithm store at that URL/);

        if (!hq) {
          // Moving to vantage6 5: export --for 5.0 moves the store to the 5.x store given, with its own roles and users as a 5.x
          // store has them (no Server Manager, no allowed_servers), and the config validates for vantage6 5.
          const five = 'https://store5.example.org/store';
          const forFive = await fedctl(['export', '--store', target.api, '--for', '5.0', '--store-url', `${target.api}=${five}`, '--json']);
          assert.equal(forFive.code, 0, `${forFive.stdout}${forFive.stderr}`);
          const { config, adaptations } = JSON.parse(forFive.stdout) as {
            config: { algorithm_stores?: { url: string; roles?: { name: string }[]; users?: { username: string; roles: string[] }[]; policies?: Record<string, unknown> }[] };
            adaptations: { entity: { kind: string; url?: string }; note: string }[];
          };
          const moved = config.algorithm_stores?.find((st) => st.url === five);
          assert.ok(moved, JSON.stringify(config.algorithm_stores));
          assert.ok(moved.roles?.some((role) => role.name === 'Approver ✓ & co'), 'the store\'s own role moves');
          assert.ok(moved.users?.some((user) => user.username === 'anna' && user.roles.includes('Approver ✓ & co')), 'its users with their roles');
          assert.ok(!JSON.stringify(moved).includes('Server Manager') && !JSON.stringify(moved.policies ?? {}).includes('allowed_servers'), 'nothing a 5.x store lacks');
          assert.ok(adaptations.some((a) => a.entity.kind === 'algorithm_store' && a.entity.url === five && a.note.startsWith('the 5.x store in the place of')));
          const fiveFile = path.join(db.dir, 'five-stores.yaml');
          writeFileSync(fiveFile, `${JSON.stringify({ ...config, vantage6: '5.0' })}\n`);
          const validated = await runCli(['validate', fiveFile, '--no-color'], { cwd: db.dir });
          assert.equal(validated.code, 0, `${validated.stdout}${validated.stderr}`);
          assert.match(validated.stdout, /valid for vantage6 5\.0/);
        }

        // Policies: read and compared with the config's (no API sets them); fedctl store-policies writes what the operator deploys.
        const viewedBy = hq ? 'authenticated' : 'whitelisted';
        const wanted = { algorithm_view: 'public', min_reviewers: 1, assign_review_own_algorithm: false, allowed_reviewers: ['anna'] };
        write([TRIAL], [{ ...own(both.slice(0, 1)), policies: wanted }]);
        const drifted = await planJson();
        assert.deepEqual(drifted.changes, []);
        assert.deepEqual(drifted.policyDrift, [
          { store: target.api, policy: 'algorithm_view', live: viewedBy, config: 'public' },
          { store: target.api, policy: 'min_reviewers', live: 2, config: 1 },
          { store: target.api, policy: 'allowed_reviewers', live: null, config: ['anna'] },
        ]);
        const shown = await fedctl(['plan', config(), '--no-color']);
        assert.match(shown.stdout, new RegExp(`! ${target.api.replace(/[.]/g, '\\.')} algorithm_view: "${viewedBy}" -> "public"`));
        const out = path.join(db.dir, 'store-policies');
        const written = await runCli(['store-policies', config(), '--out', out], { cwd: db.dir });
        assert.equal(written.code, 0, written.stderr);
        const file = readdirSync(out).map((name) => path.join(out, name))[0] as string;
        const deployed = load(readFileSync(file, 'utf8')) as { policies?: Record<string, unknown>; store?: { policies: Record<string, unknown> } };
        if (hq) {
          assert.deepEqual(deployed.store?.policies, { algorithmView: 'public', minReviewers: 1, assignReviewOwnAlgorithm: false, allowedReviewers: ['anna'] });
        } else {
          assert.deepEqual(deployed.policies?.allowed_reviewers, [{ username: 'anna', server: server.api }]);
          // The file, deployed: a store started with it has the config's policies. A 4.15 store takes the users of a
          // policy only from servers it already whitelists (it sets policies before whitelisting its root's server): a second start.
          const deployedDb = `sqlite:///${path.join(db.dir, 'deployed.sqlite')}`;
          await (await startRealStore(release, deployedDb, path.join(db.dir, 'deployed'), { rootOf: server.api, policies: deployed.policies })).stop();
          const fresh = await startRealStore(release, deployedDb, path.join(db.dir, 'deployed'), { rootOf: server.api, policies: deployed.policies });
          try {
            const { status, body } = await storeCall<Record<string, unknown>>(fresh, 'GET', '/policy', { token, server: server.api });
            assert.equal(status, 200);
            // The 4.15 store lists a number it was configured with as text ("1"), its defaults as numbers: fedctl reads both as numbers.
            assert.deepEqual([body.algorithm_view, Number(body.min_reviewers), body.assign_review_own_algorithm, body.allowed_reviewers],
              ['public', 1, false, [`anna|${server.api}`]]);
            // And fedctl reads them back as the config says them: linked, the deployed store shows no policy drift.
            write([TRIAL], [{ ...own(both.slice(0, 1)), policies: { algorithm_view: viewedBy, min_reviewers: 2 } }, { url: fresh.api, collaborations: [STUDY], policies: wanted }]);
            const linked = await apply();
            assert.equal(linked.code, 0, linked.stderr);
            assert.equal((await planJson()).policyDrift, undefined);
            const [link] = (await links()).filter((l) => linkedUrl(l) === fresh.api);
            await root.request('DELETE', `/algorithmstore/${link?.id}?server_url=${encodeURIComponent(server.api)}`);
          } finally {
            await fresh.stop();
          }
        }
        write([TRIAL], [{ ...own(both.slice(0, 1)), policies: { algorithm_view: viewedBy, min_reviewers: 2 } }]);
        assert.equal((await planJson()).policyDrift, undefined);

        // The rest of the suite is about the first store: this one is pruned. A 4.x store then deletes its users of the
        // server, fedctl's account (its root) among them, and the plan says so; a 5.x store's users are Keycloak's, and stay.
        write([TRIAL]);
        const unlinking = ['--prune', 'algorithm_stores', '--allow-destroy'];
        const pruning = await planJson(config(), unlinking);
        assert.deepEqual(pruning.changes.map((c) => [c.action, c.kind, c.address]), [['delete', 'algorithm_store', target.api]]);
        assert.deepEqual(pruning.storesDeletingUsers, hq ? undefined : [target.api]);
        const unlinked = await apply(unlinking);
        assert.equal(unlinked.code, 0, unlinked.stderr);
        if (hq) {
          assert.deepEqual(await storeRoles('anna'), ['Approver ✓ & co', 'Reviewer']);
        } else {
          assert.match(unlinked.stdout, /! Unlinking http:\/\/127\.0\.0\.1:\d+\/api makes the store delete its users of this server with their store roles, fedctl's account too when it is the store's root/);
          // Linked again (the store not restarted first), fedctl's account, its root until then, is only the Server Manager that whitelisting made it.
          write([TRIAL], [{ url: target.api, collaborations: [STUDY] }]);
          assert.equal((await apply()).code, 0);
          const { status, body } = await storeCall<{ msg: string }>(target, 'GET', '/role', { token, server: server.api });
          assert.deepEqual([status, body.msg], [401, 'You are not allowed to perform the operation \'view\' on resource \'role\'']);
          const [link] = (await links()).filter((l) => linkedUrl(l) === target.api);
          await root.request('DELETE', `/algorithmstore/${link?.id}?server_url=${encodeURIComponent(server.api)}`);
          write([TRIAL]);
        }
      });
    }

    it('export adopts the links: planning the exported config shows no changes', async () => {
      const exported = await fedctl(['export']);
      assert.equal(exported.code, 0, exported.stderr);
      assert.match(exported.stdout, /algorithm_stores:/);
      const file = path.join(db.dir, 'exported.yaml');
      writeFileSync(file, exported.stdout);
      await noChanges(file);
    });

    if (!hq) {
      it('a store that refuses the server, or does not answer, stops the apply at its first call, before anything else is changed', async () => {
        for (const url of [refusing?.api as string, 'http://127.0.0.1:9/api']) {
          write([TRIAL], [{ url, collaborations: [TRIAL] }]);
          const config0 = await planJson();
          assert.deepEqual(config0.changes.map((c) => c.kind), ['algorithm_store']);
          // Something else to do, which must stay undone.
          const withOrganization = path.join(db.dir, 'federation.yaml');
          writeFileSync(withOrganization, `${(await import('node:fs')).readFileSync(withOrganization, 'utf8')}`.replace('organizations:\n', 'organizations:\n  - name: Nieuw\n'));
          const applied = await apply();
          assert.equal(applied.code, 1);
          assert.match(applied.stderr, new RegExp(`apply stopped at create algorithm_store "${url.replace(/[.]/g, '\\.')}": .*; nothing was changed`));
          assert.equal((await planJson()).changes.length, 2);
        }
        write([TRIAL]);
        await noChanges();
      });

      it('the server\'s database: the same links read, a rename made, and linking refused with the reason', async () => {
        const database = ['--database', db.url];
        const direct = (args: string[]): Promise<CliResult> => runCli(args, { cwd: db.dir });
        const planned = await direct(['plan', config(), '--json', ...database]);
        assert.equal(planned.code, 0, planned.stderr);
        assert.deepEqual((JSON.parse(planned.stdout) as Plan).changes, []);
        write([TRIAL], [], 'Renamed in the database');
        assert.equal((await direct(['apply', config(), '--auto-approve', ...database])).code, 0);
        await noChanges();
        write([TRIAL], [{ url: 'https://store.example.org/api', collaborations: 'all' }], 'Renamed in the database');
        const refused = await direct(['plan', config(), '--no-color', ...database]);
        assert.equal(refused.code, 1);
        assert.match(refused.stdout, /! create algorithm_store "https:\/\/store\.example\.org\/api": linking a store makes the server whitelist itself at the store, which the server's database cannot do/);
      });
    }

    it('prune unlinks a store left out of the config (4.x: and the store no longer answers the server\'s users)', async () => {
      write(null);
      const unmanaged = await planJson();
      assert.deepEqual(unmanaged.changes, []);
      assert.deepEqual(unmanaged.unmanaged.filter((u) => u.kind === 'algorithm_store').map((u) => u.address), [store.api]);
      const refused = await apply(['--prune', 'algorithm_stores']);
      assert.equal(refused.code, 1, 'a delete needs --allow-destroy');
      const pruned = await apply(['--prune', 'algorithm_stores', '--allow-destroy']);
      assert.equal(pruned.code, 0, pruned.stderr);
      assert.deepEqual(await links(), []);
      if (!hq) assert.equal((await asUser('anna')).store, 403);
      await noChanges();
    });

    // Last: it links the managed store to its own collaboration, which the tests above need unlinked.
    if (hq) it(`a federation on a real ${FOUR_RELEASE} server (filled through its API, by fedctl and by hand) with a linked store of its release, moved to HQ and this 5.x store by the steps of docs/moving-to-vantage6-5.md: nothing refused, then no changes; every user invited, logs in and sees what they saw; the 5.x store gives each the store roles they had`, { skip: fourUnavailable }, async () => {
      const reader = await readerAt(managed as RealStore);
      await fourApiToFive(server, FOUR_RELEASE, { five: managed as RealStore, rolesAt: reader.rolesOf }, path.join(db.dir, 'four-api-to-five'));
    });

    if (hq) it(`the same from an older line, a real ${OLDER_RELEASE} server (filled through its API, by fedctl and by hand), moved to HQ by the same steps: nothing refused, then no changes; every user invited, logs in and sees what they saw`, { skip: olderUnavailable }, async () => {
      await fourApiToFive(server, OLDER_RELEASE, null, path.join(db.dir, 'older-api-to-five'));
    });
  });
}
