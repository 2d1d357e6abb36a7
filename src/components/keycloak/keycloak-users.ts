import type { KeycloakUserField } from '../../catalog/vantage6-versions.js';
import type { KeptUser, SignIn } from '../../federation.js';
import type { Change } from '../../plan/plan.js';
import type { LiveState } from '../../state/live-state.js';
import type { KeycloakUser, KeycloakUserFields } from './keycloak-admin.js';
import type { SignIns } from './keycloak-providers.js';

/** Keycloak's name of the required action `configure_totp`. */
const CONFIGURE_TOTP = 'CONFIGURE_TOTP';

/** Keycloak writes usernames in lower case: a user of HQ is found there so. */
export const keycloakKey = (username: string): string => username.toLowerCase();

/** Names and e-mail are fedctl's to keep where the config says them; left out, they are the user's own. */
const OPTIONAL: readonly Exclude<KeycloakUserField, 'enabled'>[] = ['firstname', 'lastname', 'email'];

/**
 * The form Keycloak keeps a value in: e-mail addresses in lower case. A live
 * value that is the config's in that form is the config's, so that a plan
 * after an apply is empty (and a create shows what the config says).
 */
const KEPT_FORM: Readonly<Record<(typeof OPTIONAL)[number], (value: string) => string>> = {
  email: (value) => value.toLowerCase(),
  firstname: (value) => value,
  lastname: (value) => value,
};

/** What a saved plan keeps of the config's users: only those that keep something in Keycloak. */
export function keptUsersOf(users: readonly KeptUser[]): KeptUser[] {
  return users.filter((user) => keepsKeycloakFields([user]))
    .map(({ username, firstname, lastname, email, enabled, requiredActions, password, signIn }) => ({
      username, firstname, lastname, email, enabled, ...(requiredActions ? { requiredActions } : {}), ...(invited({ password }) ? { password } : {}),
      ...(signIn ? { signIn } : {}),
    }));
}

/** Whether a user's password is an invitation by e-mail. */
export const invited = (user: Pick<KeptUser, 'password'>): boolean => user.password?.from === 'invite';

/** Whether a config keeps anything of its users in Keycloak: names, e-mail, a disabled user, what a new user must do first, or an invitation. */
export function keepsKeycloakFields(users: readonly KeptUser[]): boolean {
  return users.some((user) => !user.enabled || (user.requiredActions?.length ?? 0) > 0 || invited(user) || user.signIn !== undefined
    || OPTIONAL.some((field) => user[field] !== null));
}

/**
 * The invited users of a config whose Keycloak account may still await its
 * invitation (the password HQ set is still to be changed): only these are
 * asked for their passwords, so a no-op plan costs a call per user who has
 * not yet accepted, none for the rest.
 */
export function mayAwaitInvitation(keycloak: readonly KeycloakUser[], desired: readonly KeptUser[]): KeycloakUser[] {
  const invitedUsers = new Set(desired.filter(invited).map((user) => keycloakKey(user.username)));
  return keycloak.filter((user) => invitedUsers.has(keycloakKey(user.username)) && (user.requiredActions ?? []).includes('UPDATE_PASSWORD'));
}

/**
 * The live state with what Keycloak keeps of HQ's users: whether each is
 * enabled, and the names and e-mail the config keeps (`desired`; null: all
 * of them, as export adopts them). A user Keycloak does not have is left as
 * HQ gave it. `awaiting`: the Keycloak keys of invited users whose
 * invitation was never sent.
 */
export function withKeycloakFields(
  live: LiveState, keycloak: readonly KeycloakUser[], desired: readonly KeptUser[] | null, awaiting: ReadonlySet<string> = new Set(), signIns: SignIns | null = null,
): LiveState {
  const found = new Map(keycloak.map((user) => [keycloakKey(user.username), user]));
  const wanted = desired === null ? null : new Map(desired.map((user) => [user.username, user]));
  return {
    ...live,
    users: live.users.map((user) => {
      const account = found.get(keycloakKey(user.username));
      if (account === undefined) return user;
      const want = wanted?.get(user.username);
      const kept = (field: (typeof OPTIONAL)[number], value: string | undefined): string | null => {
        if (wanted !== null && (want === undefined || want[field] === null)) return null;
        const desired = want?.[field] ?? null;
        return desired !== null && value !== undefined && KEPT_FORM[field](desired) === value ? desired : value || null;
      };
      return {
        ...user,
        firstname: kept('firstname', account.firstName), lastname: kept('lastname', account.lastName), email: kept('email', account.email),
        enabled: account.enabled !== false,
        twoFactor: account.totp === true || (account.requiredActions ?? []).includes(CONFIGURE_TOTP),
        ...(awaiting.has(keycloakKey(user.username)) ? { awaitingInvitation: true as const } : {}),
        ...signInFields(account.id, signIns),
      };
    }),
  };
}

/** A user's link and whether they hold a password, where read. */
function signInFields(id: string, signIns: SignIns | null): { signIn?: SignIn; holdsPassword?: boolean } {
  if (signIns === null) return {};
  const signIn = signIns.byUser.get(id);
  return { ...(signIn === undefined ? {} : { signIn }), holdsPassword: signIns.holdingPassword.has(id) };
}

/**
 * What a plan changes of one user in Keycloak: fields, whether the user is
 * sent their invitation (after the fields: it goes to the e-mail address),
 * their link to an identity provider (`unlink` the provider of the one they
 * had), and whether their passwords are removed (they sign in through it).
 */
export interface KeycloakWrite {
  readonly fields: KeycloakUserFields;
  readonly invite: boolean;
  readonly unlink?: string;
  readonly link?: SignIn;
  readonly removePasswords?: true;
}

/**
 * What of each user a plan changes in Keycloak, by username: a created
 * user's names, e-mail, state and required actions (Keycloak's names, added
 * to those HQ set), and their invitation; an updated user's changed fields,
 * `configure_totp` newly required, and an invitation owed.
 */
export function keycloakWrites(changes: readonly Change[]): Map<string, KeycloakWrite> {
  const writes = new Map<string, KeycloakWrite>();
  for (const change of changes) {
    if (change.kind !== 'user' || change.action === 'delete') continue;
    const { after } = change;
    const changed = (field: KeycloakUserField): boolean => change.action === 'create'
      ? (field === 'enabled' ? !after.enabled : after[field] !== null)
      : change.fields.some((f) => f.field === field);
    const added = change.action === 'update' ? change.fields.flatMap((f) => ('added' in f && f.field === 'required_actions' ? f.added : [])) : [];
    const fields: KeycloakUserFields = {
      ...(added.length > 0 ? { requiredActions: added.map((action) => action.toUpperCase()) } : {}),
      ...(changed('firstname') ? { firstName: after.firstname ?? '' } : {}),
      ...(changed('lastname') ? { lastName: after.lastname ?? '' } : {}),
      ...(changed('email') ? { email: after.email ?? '' } : {}),
      ...(changed('enabled') ? { enabled: after.enabled } : {}),
      ...(change.action === 'create' && (after.requiredActions?.length ?? 0) > 0
        ? { requiredActions: (after.requiredActions ?? []).map((action) => action.toUpperCase()) } : {}),
    };
    const invite = change.action === 'create' ? invited(after) : change.fields.some((f) => f.field === 'invitation');
    const relinked = change.action === 'create' ? after.signIn !== undefined : change.fields.some((f) => f.field === 'sign_in');
    const unlink = change.action === 'update' && relinked ? change.before.signIn?.provider : undefined;
    const link = relinked ? after.signIn : undefined;
    // HQ gave a created user a password nobody knows; one who comes to sign in through a provider had one.
    const removePasswords = after.signIn !== undefined && (change.action === 'create' || change.fields.some((f) => f.field === 'password' && 'secret' in f && f.secret === 'remove'));
    const links = { ...(unlink === undefined ? {} : { unlink }), ...(link === undefined ? {} : { link }), ...(removePasswords ? { removePasswords: true as const } : {}) };
    if (Object.keys(fields).length > 0 || invite || Object.keys(links).length > 0) writes.set(after.username, { fields, invite, ...links });
  }
  return writes;
}
