import { FEATURES, formatMinor } from '../../catalog/vantage6-versions.js';
import {
  isLoopback, sortedUnique, type AlgorithmStore, type DesiredState, type ManagedStore, type StorePolicies, type StorePolicyValue, type StoreRole, type StoreUser,
} from '../../federation.js';
import { didYouMean } from '../../suggest.js';
import { STORE_POLICIES, storeCatalog, storeReleaseFor, storeRuleKey, whitelistsAtStore, type StoreRuleKey } from '../../catalog/store-catalog.js';
import { ownValue } from '../../own-property.js';
import { CheckContext, isRecord, list, optionalText, text, type Entry } from './check-context.js';

/**
 * Stores by URL (as the server compares them: without a trailing slash),
 * linked to declared collaborations; their own roles and users, checked
 * against the store release the server's line links to.
 */
export function checkAlgorithmStores(ctx: CheckContext, entries: Entry[], collaborationNames: ReadonlySet<string>): Pick<DesiredState, 'algorithmStores' | 'storeRoles' | 'storeUsers' | 'managedStores' | 'storePolicies'> {
  const none = { algorithmStores: [], storeRoles: [], storeUsers: [], managedStores: [], storePolicies: [] };
  const byUrl = ctx.unique('algorithm store', (e) => text(e.value.url), String, entries, 'url', (url) => url);
  if (!ctx.server.algorithmStores) {
    for (const entry of byUrl.values()) {
      ctx.error(entry, ['url'], `${ctx.serverName} has no algorithm stores`,
        `algorithm stores come with vantage6 ${formatMinor(FEATURES.algorithmStores.since)}; remove the store or upgrade the server first`);
    }
    return none;
  }
  const result: { algorithmStores: AlgorithmStore[]; storeRoles: StoreRole[]; storeUsers: StoreUser[]; managedStores: ManagedStore[]; storePolicies: StorePolicies[] } = {
    algorithmStores: [], storeRoles: [], storeUsers: [], managedStores: [], storePolicies: [],
  };
  for (const entry of byUrl.values()) {
    const url = entry.value.url as string;
    if (isLoopback(url) && whitelistsAtStore(ctx.server.keycloak)) {
      ctx.warning(entry, ['url'], `store ${url} is on this machine: fedctl links it with the server's force flag`,
        'fit for a development server only; give the address the server reaches the store at');
    }
    const all = entry.value.collaborations === 'all';
    const collaborations: string[] = [];
    list(entry.value.collaborations).forEach((item, index) => {
      const name = text(item);
      if (name !== null && ctx.reference(entry, ['collaborations', index], 'collaboration', name, collaborationNames)) collaborations.push(name);
    });
    result.algorithmStores.push({
      url,
      name: text(entry.value.name) ?? new URL(url).host,
      everyCollaboration: all,
      collaborations: sortedUnique(collaborations),
    });
    const users = Array.isArray(entry.value.users);
    const roles = Array.isArray(entry.value.roles);
    const policies = isRecord(entry.value.policies);
    if (!users && !roles && !policies) continue;
    result.managedStores.push({ url, users, roles, policies });
    if (policies) result.storePolicies.push({ store: url, policies: checkStorePolicies(ctx, entry, entry.value.policies as Record<string, unknown>) });
    const storeRoles = checkStoreRoles(ctx, entry, url);
    result.storeRoles.push(...storeRoles);
    result.storeUsers.push(...checkStoreUsers(ctx, entry, url, new Set(storeRoles.map((r) => r.name))));
  }
  return result;
}

/** A store's policies, as the store release the server's line links to takes them: each a value of its line. */
function checkStorePolicies(ctx: CheckContext, store: Entry, policies: Readonly<Record<string, unknown>>): Record<string, StorePolicyValue> {
  const release = storeReleaseFor(ctx.server.keycloak);
  const known = STORE_POLICIES[release];
  const checked: Record<string, StorePolicyValue> = {};
  for (const [name, value] of Object.entries(policies)) {
    const allowed = ownValue(known, name);
    if (allowed === undefined) {
      const other = release === '5.0' ? '4.x' : 'vantage6 5';
      ctx.error(store, ['policies', name], `algorithm store ${release} has no policy ${name}`, `it is a policy of ${other}'s stores; this store takes: ${Object.keys(known).join(', ')}`);
      continue;
    }
    if (allowed !== null && !allowed.includes(String(value))) {
      ctx.error(store, ['policies', name], `algorithm store ${release} takes no ${name} ${JSON.stringify(value)}`, `it takes: ${allowed.join(', ')}`);
      continue;
    }
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') checked[name] = value;
    else if (Array.isArray(value)) checked[name] = sortedUnique(value.filter((item): item is string => typeof item === 'string'));
  }
  return checked;
}

/** A store's own roles: unique names that are not built-in ones, and rules its release has. */
function checkStoreRoles(ctx: CheckContext, store: Entry, url: string): StoreRole[] {
  const catalog = storeCatalog(storeReleaseFor(ctx.server.keycloak));
  const builtIn = new Set(catalog.defaultRoles.map((r) => r.name));
  const entries = list(store.value.roles).flatMap((item, index) => (isRecord(item) ? [{ document: store.document, path: [...store.path, 'roles', index], value: item }] : []));
  const byName = ctx.unique('store role', (e) => text(e.value.name), String, entries, 'name', (n) => JSON.stringify(n));
  const roles: StoreRole[] = [];
  for (const entry of byName.values()) {
    const name = entry.value.name as string;
    if (builtIn.has(name)) {
      ctx.error(entry, ['name'], `${JSON.stringify(name)} is a built-in role of algorithm store ${catalog.release}`, 'give it to store users without declaring it, or choose another name');
      continue;
    }
    const rules: StoreRuleKey[] = [];
    list(entry.value.rules).forEach((item, index) => {
      if (!isRecord(item) || typeof item.resource !== 'string') return;
      const resource = item.resource;
      const available = catalog.rules.filter((rule) => rule.resource === resource).map((rule) => rule.operation);
      if (available.length === 0) {
        ctx.error(entry, ['rules', index, 'resource'], `algorithm store ${catalog.release} has no rules for ${resource}`,
          `its resources: ${[...new Set(catalog.rules.map((rule) => rule.resource))].join(', ')}`);
        return;
      }
      const operations = item.operation === 'all' ? available : list(item.operation).length > 0 ? list(item.operation) : [item.operation];
      for (const operation of operations) {
        if (typeof operation !== 'string') continue;
        if (available.includes(operation)) rules.push(storeRuleKey(resource, operation));
        else ctx.error(entry, ['rules', index, 'operation'], `algorithm store ${catalog.release} has no rule to ${operation} ${resource}`, `${resource} has: ${available.join(', ')}`);
      }
    });
    roles.push({ store: url, name, description: optionalText(entry.value.description), rules: sortedUnique(rules) });
  }
  return roles;
}

/** A store's users: each once, holding built-in roles or the store's own declared ones. */
function checkStoreUsers(ctx: CheckContext, store: Entry, url: string, customRoles: ReadonlySet<string>): StoreUser[] {
  const catalog = storeCatalog(storeReleaseFor(ctx.server.keycloak));
  const known = new Set([...catalog.defaultRoles.map((r) => r.name), ...customRoles]);
  const entries = list(store.value.users).flatMap((item, index) => (isRecord(item) ? [{ document: store.document, path: [...store.path, 'users', index], value: item }] : []));
  const byName = ctx.unique('store user', (e) => text(e.value.username), String, entries, 'username', (n) => JSON.stringify(n));
  return [...byName.values()].map((entry) => {
    const roles: string[] = [];
    list(entry.value.roles).forEach((item, index) => {
      const role = text(item);
      if (role === null) return;
      if (known.has(role)) roles.push(role);
      else ctx.error(entry, ['roles', index], `unknown store role ${JSON.stringify(role)}`, didYouMean(role, known) ?? 'declare it under the store\'s roles, or use a built-in store role');
    });
    return { store: url, username: entry.value.username as string, roles: sortedUnique(roles) };
  });
}
