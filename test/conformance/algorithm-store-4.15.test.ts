/**
 * What a vantage6 4.15 server and algorithm store do when a store is linked
 * to collaborations and unlinked (what the store carries of its own is asked
 * by the store-links suite, of its store):
 * the facts fedctl's store support is built on, asked of the real packages
 * through their HTTP APIs only (no fedctl yet: these hold the knowledge, so
 * that a release that behaves otherwise is noticed).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { availableServers, availableStore } from '../real-server/conformance-env.js';
import { startRealServer, type RealServer } from '../real-server/real-server.js';
import { startRealStore, storeCall, type RealStore } from '../real-server/real-store.js';
import { ServerSession, call, isSession } from '../real-server/server-api.js';

const RELEASE = '4.15.2';
const unavailable = (await availableServers([RELEASE])).get(RELEASE) || await availableStore(RELEASE);

interface Link { id: number; name: string; url: string; collaborations: string | null }

describe(`vantage6 ${RELEASE}: a server and its algorithm stores, as fedctl will manage them`, { skip: unavailable }, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fedctl-store-facts-'));
  let server: RealServer;
  let store: RealStore;
  let refusing: RealStore;
  let root: ServerSession;
  const collaborations: Record<string, number> = {};
  const links = (query = ''): Promise<Link[] | null> => root.list<Link>(`/algorithmstore${query}`);
  /** The servers the store has whitelisted, as a user of `server` sees them; null when the store does not know `server` (it cannot check the user's token). */
  const whitelisted = async (): Promise<string[] | null> => {
    const { status, body } = await storeCall<{ url: string }[]>(store, 'GET', '/vantage6-server', { token: await rootToken(), server: server.api });
    if (status === 403) return null;
    assert.equal(status, 200, JSON.stringify(body));
    return body.map((s) => s.url);
  };
  const rootToken = async (): Promise<string> => {
    const { text } = await call(server.api, 'POST', '/token/user', null, { username: 'root', password: 'root' });
    return (JSON.parse(text) as { access_token: string }).access_token;
  };
  /** The server's link call, as its UI makes it for a store on this machine (`force`: a localhost URL is refused without). */
  const link = (target: RealStore, collaboration?: string): Promise<{ status: number; body: unknown }> => root.request<unknown>('POST', '/algorithmstore', {
    name: 'Community store 🧪', algorithm_store_url: target.api, server_url: server.api, force: true,
    ...(collaboration === undefined ? {} : { collaboration_id: collaborations[collaboration] }),
  }).then((body) => ({ status: 201, body }), (error: { status: number; body: string }) => ({ status: error.status, body: error.body }));

  before(async () => {
    server = await startRealServer(RELEASE, `sqlite:///${path.join(dir, 'server.sqlite')}`, path.join(dir, 'server'));
    store = await startRealStore(RELEASE, `sqlite:///${path.join(dir, 'store.sqlite')}`, path.join(dir, 'store'));
    refusing = await startRealStore(RELEASE, `sqlite:///${path.join(dir, 'refusing.sqlite')}`, path.join(dir, 'refusing'),
      { policies: { allowed_servers: ['https://v6.elsewhere.example.org/api'] } });
    const session = await ServerSession.user(server.api, 'root', 'root');
    assert.ok(isSession(session));
    root = session;
    for (const name of ['Colorectal Cancer Survival', 'صحة القلب']) {
      const made = await root.request<{ id: number }>('POST', '/collaboration', { name, organization_ids: [1], encrypted: false });
      collaborations[name] = made.id;
    }
  });

  after(async () => {
    await Promise.all([server?.stop(), store?.stop(), refusing?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a link to one collaboration whitelists the server at the store; the store is listed for that collaboration only', async () => {
    assert.equal(await whitelisted(), null);
    assert.equal((await link(store, 'Colorectal Cancer Survival')).status, 201);
    assert.deepEqual(await whitelisted(), [server.api]);
    const [made] = (await links()) ?? [];
    assert.equal(made?.url, store.api);
    assert.match(made?.collaborations ?? 'null', /^\/api\/collaboration\?algorithm_store_id=\d+$/);
    assert.deepEqual((await links(`?collaboration_id=${collaborations['Colorectal Cancer Survival']}`))?.map((l) => l.url), [store.api]);
    assert.deepEqual(await links(`?collaboration_id=${collaborations['صحة القلب']}`), []);
  });

  it('a second collaboration is a second link of the same store; a link to every collaboration replaces them with one', async () => {
    assert.equal((await link(store, 'صحة القلب')).status, 201);
    assert.equal((await links())?.length, 2);
    assert.equal((await link(store, 'صحة القلب')).status, 400, 'the same link twice is refused');
    assert.equal((await link(store)).status, 201);
    const all = (await links()) ?? [];
    assert.equal(all.length, 1);
    assert.equal(all[0]?.collaborations, null, 'a link to every collaboration names none');
    assert.deepEqual((await links(`?collaboration_id=${collaborations['صحة القلب']}`))?.map((l) => l.url), [store.api]);
    assert.equal((await link(store, 'صحة القلب')).status, 400, 'a store that serves every collaboration is not linked to one');
  });

  it('deleting one link deletes every link of the store and its whitelisting: taking one collaboration out is a delete, then the rest linked again', async () => {
    await root.request('DELETE', `/algorithmstore/${(await links())?.[0]?.id}?server_url=${encodeURIComponent(server.api)}`);
    assert.deepEqual(await links(), []);
    assert.equal(await whitelisted(), null);
    assert.equal((await link(store, 'Colorectal Cancer Survival')).status, 201);
    assert.equal((await link(store, 'صحة القلب')).status, 201);
    const first = (await links(`?collaboration_id=${collaborations['Colorectal Cancer Survival']}`))?.[0];
    await root.request('DELETE', `/algorithmstore/${first?.id}?server_url=${encodeURIComponent(server.api)}`);
    assert.deepEqual(await links(), [], 'the other collaboration\'s link went with it');
    assert.equal(await whitelisted(), null);
  });

  it('a store whose policy does not allow the server refuses it, and the server makes no link', async () => {
    const refused = await link(refusing, 'Colorectal Cancer Survival');
    assert.equal(refused.status, 403);
    assert.match(String(refused.body), /not allowed to be whitelisted/);
    assert.deepEqual(await links(), []);
  });

  it('a store that does not answer is refused before any link is made', async () => {
    const gone: RealStore = { ...store, api: 'http://127.0.0.1:9/api' };
    assert.equal((await link(gone, 'Colorectal Cancer Survival')).status, 404);
    assert.deepEqual(await links(), []);
  });
});
