import { v4ApiUrlOf, type DesiredState } from '../federation.js';

/** What of a config says which stores fedctl reaches, and where it logs in for them. */
export type StoresOfConfig = Pick<DesiredState, 'managedStores' | 'secrets'>;
import { FedctlError } from '../errors.js';
import { usesKeycloak, serverMinor } from '../catalog/vantage6-versions.js';
import { Vantage6Api } from '../backends/api/vantage6-api.js';
import type { Backend, LoadedLiveState } from '../backends/backend.js';
import type { StoreChange } from '../plan/plan.js';
import { isStoreKind } from '../federation.js';
import type { LiveState } from '../state/live-state.js';
import { applyToStore } from './algorithm-store/apply-to-store.js';
import { readStoreState, readUnlinkedStoreState, type StoreState } from './algorithm-store/read-store-state.js';
import { StoreApi } from './algorithm-store/store-api.js';
import type { Component } from './component.js';

/** The stores a config manages the users, roles or policies of, reached as fedctl's account of the server. */
interface Stores {
  readonly apis: readonly StoreApi[];
  readonly serverUrl: string | null;
  readonly account: string;
}

/**
 * Where fedctl's account of the server logs in, for its stores: the server's
 * API it reaches (`--server`), else the config's `server:` (a database
 * gives no account).
 */
function serverApiOf(backend: Backend, desired: StoresOfConfig): string {
  if (backend.kind === 'api') return backend.display;
  const address = desired.secrets.server;
  if (address === null) {
    throw new FedctlError('STORE_ACCOUNT', 'the config manages the users or roles of an algorithm store, which fedctl reaches as its account of the server, but names no server to log in at',
      'add server: { url: … } (the server\'s API), or reach the server through its API (--server URL); the account comes from the environment as for the API');
  }
  return v4ApiUrlOf(address);
}

async function connectStores(backend: Backend, desired: StoresOfConfig, env: NodeJS.ProcessEnv): Promise<Stores> {
  const server = await Vantage6Api.connect(serverApiOf(backend, desired), env);
  const minor = serverMinor(server.version);
  const keycloak = minor !== null && usesKeycloak(minor);
  const address = desired.secrets.server;
  // A 4.x store knows the server by the URL it whitelisted: where the config's server: says its stores reach it, as linking it sent.
  const serverUrl = keycloak ? null : address === null ? server.url : v4ApiUrlOf(address);
  // A 5.x store knows fedctl's account as the Keycloak user of its client's service account (Keycloak writes usernames in lower case).
  const account = keycloak ? `service-account-${(env.FEDCTL_CLIENT_ID ?? '').toLowerCase()}` : server.account.username;
  return { apis: desired.managedStores.map((store) => new StoreApi(store.url, server.bearer, serverUrl)), serverUrl, account };
}

/** The live state with the stores' roles, users and policies. */
function merged(live: LiveState, states: readonly StoreState[]): LiveState {
  return {
    ...live, storeRoles: states.flatMap((s) => s.roles), storeUsers: states.flatMap((s) => s.users),
    storePolicies: states.map((s) => ({ store: s.url, policies: s.policies, ...(s.onlyPublicPolicies ? { onlyPublic: true as const } : {}) })),
  };
}

/**
 * A backend that also reaches the algorithm stores whose users, roles or
 * policies the config manages: it reads them into the live state, and
 * applies a plan to the server first (through the backend it wraps), then to
 * each store. Nothing else knows the stores are there.
 */
export async function withStores(backend: Backend, desired: StoresOfConfig, env: NodeJS.ProcessEnv): Promise<Component> {
  if (desired.managedStores.length === 0) return { backend, addTo: (loaded) => Promise.resolve(loaded) };
  const stores = await connectStores(backend, desired, env);
  /** The stores' states; a 4.x store the server is not linked to does not know the server: only what it shows anyone. */
  const readAll = (linked: (url: string) => boolean): Promise<StoreState[]> => Promise.all(stores.apis.map((api) => (stores.serverUrl === null || linked(api.url)
    ? readStoreState(api, stores.serverUrl, stores.account)
    : readUnlinkedStoreState(api, stores.serverUrl))));
  const addStores = async (loaded: LoadedLiveState): Promise<LoadedLiveState> => {
    const linked = new Set(loaded.live.algorithmStores.map((store) => store.url));
    return { ...loaded, live: merged(loaded.live, await readAll((url) => linked.has(url))) };
  };
  return {
    addTo: addStores,
    backend: {
      kind: backend.kind,
      display: backend.display,
      capabilities: backend.capabilities,
      fingerprint: (live) => backend.fingerprint(live),
      read: async (options) => addStores(await backend.read(options)),
      async apply(plan, resolve, options) {
        const linking = new Set(plan.changes.flatMap((c) => (c.kind === 'algorithm_store' && c.action === 'create' ? [c.address] : [])));
        const before = await readAll((url) => !linking.has(url));
        const result = await backend.apply(plan, (live) => resolve(merged(live, before)), options);
        const changes = result.plan.changes.filter((c): c is StoreChange => isStoreKind(c.kind));
        if (changes.length === 0) return result;
        // Read again for the ids: the server's part may have linked a store just now.
        const states = await readAll(() => true);
        for (const [i, api] of stores.apis.entries()) {
          const own = changes.filter((c) => (c.action === 'delete' ? c.before : c.after).store === api.url);
          if (own.length > 0) await applyToStore(api, states[i] as StoreState, own);
        }
        return result;
      },
    },
  };
}
