import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startRealServer } from './real-server.js';
import { startRealHq } from './real-hq.js';
import { startRealHqStore, startRealStore, storeCall, type RealStore } from './real-store.js';
import { ServerSession, isSession } from './server-api.js';
import { isHq } from './server-environment.js';

/** A store rule as its API lists it: a resource and an operation (a store's rules have no scope). */
export interface StoreRule {
  readonly name: string;
  readonly operation: string;
  readonly description: string;
}

/** A built-in store role and its rules, as `name:operation`, sorted. */
export interface StoreRole {
  readonly name: string;
  readonly description: string;
  readonly rules: readonly string[];
}

/** What a store release's first start makes, as `reference/algorithm-store-X.Y/` holds it. */
export interface StoreReference {
  readonly rules: readonly StoreRule[];
  readonly defaultRoles: readonly StoreRole[];
}

/** `reference/algorithm-store-X.Y/` of a store release X.Y.Z. */
export function storeReferenceDir(release: string): string {
  return path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../reference', `algorithm-store-${release.split('.').slice(0, 2).join('.')}`);
}

export function readStoreReference(release: string): StoreReference {
  const dir = storeReferenceDir(release);
  return {
    rules: JSON.parse(readFileSync(path.join(dir, 'rules.json'), 'utf8')) as StoreRule[],
    defaultRoles: JSON.parse(readFileSync(path.join(dir, 'default_roles.json'), 'utf8')) as StoreRole[],
  };
}

interface Page<T> { data: T[] }

/** The rules and built-in roles a running store lists to a user with every rule (its root). */
export async function listStoreReference(store: RealStore, auth: { token: string; server: string }): Promise<StoreReference> {
  const get = async <T>(route: string): Promise<T[]> => {
    const { status, body } = await storeCall<Page<T>>(store, 'GET', route, auth);
    if (status !== 200) throw new Error(`GET ${route} at the store: HTTP ${status} ${JSON.stringify(body)}`);
    return body.data;
  };
  const rules = (await get<StoreRule & { id: number }>('/rule?per_page=500')).map(({ name, operation, description }) => ({ name, operation, description }));
  const roles = (await get<{ id: number; name: string; description: string; is_default_role: boolean }>('/role?per_page=500')).filter((r) => r.is_default_role);
  const defaultRoles = await Promise.all(roles.map(async (role) => ({
    name: role.name,
    description: role.description,
    rules: (await get<StoreRule>(`/rule?role_id=${role.id}&per_page=500`)).map((r) => `${r.name}:${r.operation}`).sort(),
  })));
  return { rules, defaultRoles };
}

/** Start a store release beside a server of the same line (4.x, or HQ and its Keycloak), as its root user, for as long as `work` runs. */
export async function withStoreRoot<T>(release: string, dir: string, work: (store: RealStore, auth: { token: string; server: string }) => Promise<T>): Promise<T> {
  const database = (name: string): string => `sqlite:///${path.join(dir, `${name}.sqlite`)}`;
  const server = isHq(release) ? await startRealHq(database('hq'), path.join(dir, 'hq')) : await startRealServer(release, database('server'), path.join(dir, 'server'));
  try {
    const store = isHq(release)
      ? await startRealHqStore(release, database('store'), path.join(dir, 'store'), server)
      : await startRealStore(release, database('store'), path.join(dir, 'store'), { rootOf: server.api });
    try {
      const root = isHq(release) ? await server.login.admin() : await ServerSession.user(server.api, 'root', 'root');
      if (!isSession(root)) throw new Error(`the server's root logs in: ${root.refusal}`);
      return await work(store, { token: await root.bearer(), server: server.api });
    } finally {
      await store.stop();
    }
  } finally {
    await server.stop();
  }
}
