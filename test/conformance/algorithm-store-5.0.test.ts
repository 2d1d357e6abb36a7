/**
 * What vantage6 5's HQ and algorithm store do when a store is linked to
 * collaborations and unlinked (what the store carries of its own is asked by
 * the store-links suite, of its store): the facts fedctl's store support is built on for vantage6 5, asked of the real
 * packages (HQ 5.0.3 and store 5.0.3 beside one Keycloak) through their
 * HTTP APIs only.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { availableServers, availableStore } from '../real-server/conformance-env.js';
import { startRealHq } from '../real-server/real-hq.js';
import type { RealServer } from '../real-server/real-server.js';
import { startRealHqStore, storeCall, type RealStore } from '../real-server/real-store.js';
import { ApiError, type ServerSession } from '../real-server/server-api.js';
import { HQ_RELEASE } from '../real-server/server-environment.js';

const unavailable = (await availableServers([HQ_RELEASE])).get(HQ_RELEASE) || await availableStore(HQ_RELEASE);

interface Link { id: number; name: string; url: string; api_path: string; collaborations: string | null }

describe(`vantage6 ${HQ_RELEASE}: HQ and its algorithm stores, as fedctl will manage them`, { skip: unavailable }, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fedctl-hq-store-facts-'));
  let hq: RealServer;
  let store: RealStore;
  let admin: ServerSession;
  const collaborations: Record<string, number> = {};
  const links = async (query = ''): Promise<Link[]> => (await admin.list<Link>(`/algorithmstore${query}`)) ?? [];
  /** HQ's link call as its UI makes it: the store's URL without its API path, and the path apart. */
  const link = (target: RealStore, collaboration?: string): Promise<number> => admin.request('POST', '/algorithmstore', {
    name: 'Community store 🧪', algorithm_store_url: target.api.replace(/\/api$/, ''), api_path: '/api',
    ...(collaboration === undefined ? {} : { collaboration_id: collaborations[collaboration] }),
  }).then(() => 201, (error: unknown) => {
    if (error instanceof ApiError) return error.status;
    throw error;
  });

  before(async () => {
    hq = await startRealHq(`sqlite:///${path.join(dir, 'hq.sqlite')}`, path.join(dir, 'hq'));
    store = await startRealHqStore(HQ_RELEASE, `sqlite:///${path.join(dir, 'store.sqlite')}`, path.join(dir, 'store'), hq);
    admin = await hq.login.admin();
    const me = await admin.request<{ organization: { id: number } }>('GET', '/user/me');
    for (const name of ['Colorectal Cancer Survival', 'صحة القلب']) {
      collaborations[name] = (await admin.request<{ id: number }>('POST', '/collaboration', { name, organization_ids: [me.organization.id], encrypted: false })).id;
    }
  });

  after(async () => {
    await store?.stop();
    await hq?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a link is a row at HQ only: the URL without the API path, the path apart; the store trusts Keycloak\'s tokens and whitelists nothing', async () => {
    assert.equal(await link(store, 'Colorectal Cancer Survival'), 201);
    const [made] = await links();
    assert.equal(made?.url, store.api.replace(/\/api$/, ''));
    assert.equal(made?.api_path, '/api');
    assert.deepEqual((await links(`?collaboration_id=${collaborations['Colorectal Cancer Survival']}`)).map((l) => l.id), [made?.id]);
    assert.deepEqual(await links(`?collaboration_id=${collaborations['صحة القلب']}`), []);
    assert.equal((await storeCall(store, 'GET', '/vantage6-server', { token: await admin.bearer(), server: hq.api })).status, 404);
    assert.equal((await storeCall(store, 'GET', '/user', { token: await admin.bearer(), server: hq.api })).status, 200);
  });

  it('links of several collaborations, and to every collaboration', async () => {
    assert.equal(await link(store, 'صحة القلب'), 201);
    assert.equal((await links()).length, 2);
    assert.equal(await link(store, 'صحة القلب'), 400, 'the same link twice is refused');
    assert.equal(await link(store), 201);
    assert.deepEqual((await links()).map((l) => l.collaborations), [null], 'a link to every collaboration replaces the others');
  });

  it('deleting a link deletes every link of the store', async () => {
    await admin.request('DELETE', `/algorithmstore/${(await links())[0]?.id}`);
    assert.deepEqual(await links(), []);
    assert.equal(await link(store, 'Colorectal Cancer Survival'), 201);
    assert.equal(await link(store, 'صحة القلب'), 201);
    const [first] = await links(`?collaboration_id=${collaborations['Colorectal Cancer Survival']}`);
    await admin.request('DELETE', `/algorithmstore/${first?.id}`);
    assert.deepEqual(await links(), []);
  });

  it('a store that does not answer is refused before any link is made', async () => {
    const gone: RealStore = { ...store, api: 'http://127.0.0.1:9/api' };
    assert.equal(await link(gone, 'Colorectal Cancer Survival'), 400);
    assert.deepEqual(await links(), []);
  });
});
