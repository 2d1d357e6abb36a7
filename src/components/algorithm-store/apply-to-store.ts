import { FedctlError, messageOf } from '../../errors.js';
import type { StoreChange } from '../../plan/plan.js';
import type { StoreApi } from './store-api.js';
import type { StoreState } from './read-store-state.js';

/**
 * Make a store match its part of a plan: roles first (users refer to them),
 * then users; deletes of users before those of roles. Each call is one a
 * fresh plan would repeat; ids of roles made on the way are kept.
 */
export async function applyToStore(api: StoreApi, state: StoreState, changes: readonly StoreChange[]): Promise<void> {
  const roleIds = new Map(state.roles.map((role) => [role.name, role.id]));
  const ruleIds = (keys: readonly string[]): number[] => keys.map((key) => {
    const id = state.rules.get(key);
    if (id === undefined) throw new FedctlError('STORE_REFUSED', `algorithm store ${api.url} has no rule ${key}`, 'the store is of another release than the config was checked against');
    return id;
  });
  const roleIdsOf = (names: readonly string[]): number[] => names.map((name) => {
    const id = roleIds.get(name);
    if (id === undefined) throw new FedctlError('STORE_REFUSED', `algorithm store ${api.url} has no role ${JSON.stringify(name)}`, 'declare it under the store\'s roles');
    return id;
  });
  const order = [
    ...changes.filter((c) => c.kind === 'store_role' && c.action !== 'delete'),
    ...changes.filter((c) => c.kind === 'store_user' && c.action !== 'delete'),
    ...changes.filter((c) => c.kind === 'store_user' && c.action === 'delete'),
    ...changes.filter((c) => c.kind === 'store_role' && c.action === 'delete'),
  ];
  let done = 0;
  for (const change of order) {
    try {
      await make(change);
    } catch (error) {
      const made = done === 0 ? 'none of its changes were made' : `${done} of its ${order.length} changes were made, the other ${order.length - done} not`;
      throw new FedctlError('APPLY_STOPPED', `the apply stopped at ${change.action} ${change.kind} ${JSON.stringify(change.address)}: ${messageOf(error)}; at algorithm store ${api.url} ${made}`,
        'what the server was to change is made; run fedctl plan to see what is left', { cause: error });
    }
    done++;
  }

  async function make(change: StoreChange): Promise<void> {
    if (change.action === 'delete') {
      await api.write('DELETE', `${change.kind === 'store_role' ? 'role' : 'user'}/${change.id}`);
    } else if (change.kind === 'store_role') {
      const { name, description, rules } = change.after;
      const body = { description: description ?? '', rules: ruleIds(rules) };
      if (change.action === 'create') roleIds.set(name, (await api.write<{ id: number }>('POST', 'role', { name, ...body })).id);
      else await api.write('PATCH', `role/${change.id}`, body);
    } else if (change.action === 'create') {
      await api.write('POST', 'user', { username: change.after.username, roles: roleIdsOf(change.after.roles) });
    } else {
      await api.write('PATCH', `user/${change.id}`, { roles: roleIdsOf(change.after.roles) });
    }
  }
}
