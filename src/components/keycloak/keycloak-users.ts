import type { KeycloakUserField } from '../../catalog/vantage6-versions.js';
import type { KeptUser } from '../../federation.js';
import type { Change } from '../../plan/plan.js';
import type { LiveState } from '../../state/live-state.js';
import type { KeycloakUser, KeycloakUserFields } from './keycloak-admin.js';

/** Keycloak writes usernames in lower case: a user of HQ is found there so. */
export const keycloakKey = (username: string): string => username.toLowerCase();

/** Names and e-mail are fedctl's to keep where the config says them; left out, they are the user's own. */
const OPTIONAL: readonly Exclude<KeycloakUserField, 'enabled'>[] = ['firstname', 'lastname', 'email'];

/** What a saved plan keeps of the config's users: only those that keep something in Keycloak. */
export function keptUsersOf(users: readonly KeptUser[]): KeptUser[] {
  return users.filter((user) => keepsKeycloakFields([user]))
    .map(({ username, firstname, lastname, email, enabled, requiredActions }) => ({ username, firstname, lastname, email, enabled, ...(requiredActions ? { requiredActions } : {}) }));
}

/** Whether a config keeps anything of its users in Keycloak: names, e-mail, a disabled user, or what a new user must do first. */
export function keepsKeycloakFields(users: readonly KeptUser[]): boolean {
  return users.some((user) => !user.enabled || (user.requiredActions?.length ?? 0) > 0 || OPTIONAL.some((field) => user[field] !== null));
}

/**
 * The live state with what Keycloak keeps of HQ's users: whether each is
 * enabled, and the names and e-mail the config keeps (`desired`; null: all
 * of them, as export adopts them). A user Keycloak does not have is left as
 * HQ gave it.
 */
export function withKeycloakFields(live: LiveState, keycloak: readonly KeycloakUser[], desired: readonly KeptUser[] | null): LiveState {
  const found = new Map(keycloak.map((user) => [keycloakKey(user.username), user]));
  const wanted = desired === null ? null : new Map(desired.map((user) => [user.username, user]));
  return {
    ...live,
    users: live.users.map((user) => {
      const account = found.get(keycloakKey(user.username));
      if (account === undefined) return user;
      const want = wanted?.get(user.username);
      const kept = (field: (typeof OPTIONAL)[number], value: string | undefined): string | null =>
        (wanted === null || (want !== undefined && want[field] !== null) ? value || null : null);
      return {
        ...user,
        firstname: kept('firstname', account.firstName), lastname: kept('lastname', account.lastName), email: kept('email', account.email),
        enabled: account.enabled !== false,
      };
    }),
  };
}

/**
 * What of each user a plan changes in Keycloak, by username: a created
 * user's names, e-mail, state and required actions (Keycloak's names, added
 * to those HQ set); an updated user's changed fields.
 */
export function keycloakWrites(changes: readonly Change[]): Map<string, KeycloakUserFields> {
  const writes = new Map<string, KeycloakUserFields>();
  for (const change of changes) {
    if (change.kind !== 'user' || change.action === 'delete') continue;
    const { after } = change;
    const changed = (field: KeycloakUserField): boolean => change.action === 'create'
      ? (field === 'enabled' ? !after.enabled : after[field] !== null)
      : change.fields.some((f) => f.field === field);
    const fields: KeycloakUserFields = {
      ...(changed('firstname') ? { firstName: after.firstname ?? '' } : {}),
      ...(changed('lastname') ? { lastName: after.lastname ?? '' } : {}),
      ...(changed('email') ? { email: after.email ?? '' } : {}),
      ...(changed('enabled') ? { enabled: after.enabled } : {}),
      ...(change.action === 'create' && (after.requiredActions?.length ?? 0) > 0
        ? { requiredActions: (after.requiredActions ?? []).map((action) => action.toUpperCase()) } : {}),
    };
    if (Object.keys(fields).length > 0) writes.set(after.username, fields);
  }
  return writes;
}
