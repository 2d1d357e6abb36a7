import { DEFAULT_ROLE_NAMES } from '../../catalog/rule-catalog.js';
import { DOTTED_LOGIN_REFUSED, formatMinor } from '../../catalog/vantage6-versions.js';
import {
  FOREIGN_ROLE_REFUSAL, REQUIRED_ACTIONS, isForeignRole, roleRefKey, sortRoleRefs, type DesiredUser, type IdentityProvider, type PasswordSource, type RequiredAction, type Role, type RoleRef,
} from '../../federation.js';
import type { DocumentPath } from '../../diagnostic.js';
import { referencedVariable } from '../interpolate.js';
import { didYouMean } from '../../suggest.js';
import { idna2003Ascii, idna2008Ascii, idnaFormsDiffer } from '../../email-domain.js';
import { CheckContext, isRecord, list, optionalText, text, type Entry } from './check-context.js';
import { signInOf } from './check-identity-providers.js';

/** `throughApi`: the config names the server's API as its way in (`server: manage: api`). */
export function checkUsers(
  ctx: CheckContext, entries: Entry[], orgNames: ReadonlySet<string>, roles: readonly Role[], throughApi: boolean, providers: ReadonlyMap<string, IdentityProvider>,
): DesiredUser[] {
  const byName = ctx.unique('username', (e) => text(e.value.username), String, entries, 'username', (n) => JSON.stringify(n));
  ctx.unique('email', (e) => text(e.value.email), String, entries, 'email', (n) => JSON.stringify(n));
  const roleKeys = new Set(roles.map(roleRefKey));
  const roleNames = new Set([...roles.map((r) => r.name), ...DEFAULT_ROLE_NAMES]);
  const users: DesiredUser[] = [];
  // Every entry is checked, also one without a usable username (a schema error) or a duplicate, so that every error shows at once.
  for (const entry of entries) {
    const identified = byName.get(text(entry.value.username) ?? '') === entry;
    const named = text(entry.value.organization);
    const organization = named !== null && ctx.reference(entry, ['organization'], 'organization', named, orgNames) ? named : null;
    // The rest is checked also for a user whose organization is unknown, so that every error shows at once.
    const userRoles: RoleRef[] = [];
    list(entry.value.roles).forEach((item, index) => {
      const resolved = resolveRole(ctx, entry, ['roles', index], item, organization, roleKeys, roleNames);
      if (resolved) userRoles.push(resolved);
      if (resolved && throughApi && organization !== null && isForeignRole(resolved, organization)) {
        ctx.warning(entry, ['roles', index], `${FOREIGN_ROLE_REFUSAL}: role ${JSON.stringify(resolved.name)} is of organization ${JSON.stringify(resolved.organization)}, the user of ${JSON.stringify(organization)}`,
          'a plan through the server\'s API (server: manage: api) refuses this; give a role of the user\'s organization, or apply through the database');
      }
    });
    const rules = ctx.expandRules(entry, ['rules'], entry.value.rules);
    const password = passwordSource(ctx, entry);
    checkDottedLogin(ctx, entry);
    checkMailDomain(ctx, entry);
    checkDisabling(ctx, entry);
    const requiredActions = checkRequiredActions(ctx, entry);
    const signIn = signInOf(ctx, entry, organization, providers);
    if (organization === null || !identified) continue;
    users.push({
      username: entry.value.username as string,
      organization,
      firstname: optionalText(entry.value.firstname),
      lastname: optionalText(entry.value.lastname),
      email: text(entry.value.email),
      enabled: entry.value.enabled !== false,
      roles: sortRoleRefs(userRoles),
      rules,
      password,
      ...(requiredActions.length > 0 ? { requiredActions } : {}),
      ...(signIn === null ? {} : { signIn }),
    });
  }
  return users;
}

/**
 * A bare name means: the user's organization's role, else a role without
 * organization, else a built-in role. When the user's organization is
 * unknown (null), which role is meant cannot be told: a name that some role
 * has passes, and only a name no role has is an error.
 */
function resolveRole(ctx: CheckContext, entry: Entry, sub: DocumentPath, item: unknown, userOrganization: string | null, roleKeys: ReadonlySet<string>, roleNames: ReadonlySet<string>): RoleRef | null {
  const candidates: RoleRef[] = [];
  let name: string | null = null;
  if (typeof item === 'string') {
    name = item;
    if (userOrganization === null && roleNames.has(name)) return null;
    candidates.push(...(userOrganization === null ? [] : [{ name, organization: userOrganization }]), { name, organization: null });
  } else if (isRecord(item) && typeof item.name === 'string') {
    name = item.name;
    candidates.push({ name, organization: typeof item.organization === 'string' ? item.organization : null });
  }
  if (name === null) return null;
  for (const candidate of candidates) {
    if (roleKeys.has(roleRefKey(candidate))) return candidate;
    if (candidate.organization === null && DEFAULT_ROLE_NAMES.has(candidate.name)) return candidate;
  }
  ctx.error(entry, sub, `unknown role ${JSON.stringify(name)}`, didYouMean(name, roleNames) ?? 'declare it under roles, or use a built-in role');
  return null;
}

/**
 * Keycloak (vantage6 5) mails a user at the IDNA 2003 form of their
 * domain, in which ß, final ς and joiners are other letters than in the
 * IDNA 2008 form browsers and mail servers use: another domain.
 */
function checkMailDomain(ctx: CheckContext, entry: Entry): void {
  const email = text(entry.value.email);
  const domain = email?.slice(email.lastIndexOf('@') + 1) ?? '';
  if (!ctx.server.keycloak || !idnaFormsDiffer(domain)) return;
  ctx.warning(entry, ['email'], `Keycloak sends mail for ${JSON.stringify(email)} to ${idna2003Ascii(domain) ?? ''} (IDNA 2003, where ß is ss and ς is σ), not to ${idna2008Ascii(domain) ?? ''}, the domain as written`,
    'check that the user receives mail there, or give an address without ß, final ς or joiners in its domain');
}

/** Disabling keeps a user and their history but takes every power: only vantage6 5's Keycloak can; a 4.x server has no such state. */
function checkDisabling(ctx: CheckContext, entry: Entry): void {
  if (ctx.server.keycloak || entry.value.enabled !== false) return;
  ctx.error(entry, ['enabled'], `${ctx.serverName} cannot disable a user: a 4.x server keeps no such state`,
    'remove enabled: false, and take the user\'s roles and rules (they keep their history), or delete the user');
}

/** What a new user must do at the first login: Keycloak's required actions, which only vantage6 5 has. */
function checkRequiredActions(ctx: CheckContext, entry: Entry): RequiredAction[] {
  const listed = list(entry.value.required_actions).filter((a): a is RequiredAction => REQUIRED_ACTIONS.includes(a as RequiredAction));
  if (listed.length > 0 && !ctx.server.keycloak) {
    ctx.error(entry, ['required_actions'], `${ctx.serverName} has no required actions at the first login: they are Keycloak's, on vantage6 5`,
      'remove required_actions: here; a config shared with 4.x servers can keep it in a file given only to vantage6 5');
    return [];
  }
  return [...new Set(listed)].sort();
}

/** A username the server's login may refuse: a warning, since the user is still created and the server can be upgraded. */
function checkDottedLogin(ctx: CheckContext, entry: Entry): void {
  const username = text(entry.value.username);
  if (!ctx.server.refusesDottedLogins || username === null || !username.includes('.')) return;
  const { minor, patches, fixedIn } = DOTTED_LOGIN_REFUSED;
  const releases = patches.map((patch) => `${formatMinor(minor)}.${patch}`).join(' and ');
  ctx.warning(entry, ['username'], `${JSON.stringify(username)} cannot log in to vantage6 ${releases}, which refuse a username with a dot `
    + `("Only letters, numbers, hyphens and underscores are allowed"); ${ctx.serverName} may be one of them`,
  `upgrade the server to ${fixedIn} or later (4.0 to 4.2 and ${fixedIn} onwards accept it), or rename the user without the dot (previous_usernames keeps its id)`);
}

function passwordSource(ctx: CheckContext, entry: Entry): PasswordSource {
  const raw = entry.value.password;
  if (typeof raw !== 'string') return null;
  if (raw === 'generate') return { from: 'generate' };
  if (raw === 'invite') return invitation(ctx, entry);
  const variable = referencedVariable(raw);
  if (variable === null) {
    ctx.error(entry, ['password'], 'a password must not be written in the config', 'write ${ENV_VAR} to read it from the environment at apply time, or generate');
    return null;
  }
  if (ctx.env[variable] === undefined) {
    ctx.warning(entry, ['password'], `environment variable ${variable} is not set`, 'it must be set when apply creates this user');
  }
  return { from: 'env', variable };
}

/** An invitation: Keycloak's e-mail to the user's address, which only vantage6 5 has. */
function invitation(ctx: CheckContext, entry: Entry): PasswordSource {
  if (!ctx.server.keycloak) {
    ctx.error(entry, ['password'], `${ctx.serverName} sends no invitations: they are Keycloak's, on vantage6 5`,
      'write password: generate (or ${ENV_VAR}); a config shared with 4.x servers can keep the invitation in a file given only to vantage6 5');
    return null;
  }
  if (text(entry.value.email) === null) {
    ctx.error(entry, ['password'], 'an invitation is e-mailed to the user, who has no email: here', 'add email: (the address Keycloak sends the link to)');
    return null;
  }
  return { from: 'invite' };
}
