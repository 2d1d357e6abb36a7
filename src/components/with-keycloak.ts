import { clientCredentialsFrom, KeycloakToken } from '../backends/api/vantage6-api.js';
import type { Backend, LoadedLiveState } from '../backends/backend.js';
import { FedctlError } from '../errors.js';
import {
  FLOWS_READ_ROLE, KeycloakAdmin, PROVIDERS_READ_ROLE, PROVIDERS_WRITE_ROLE, READ_ROLE, WRITE_ROLE, type KeycloakUser,
} from './keycloak/keycloak-admin.js';
import type { IdentityProvider, KeptUser } from '../federation.js';
import type { KeycloakChange } from '../plan/plan.js';
import {
  checkFirstLoginFlow, deleteProviders, keptSettingsOf, liveProvider, readSignIns, writeProviders, type LiveIdentityProvider, type SignIns,
} from './keycloak/keycloak-providers.js';
import { FIRST_LOGIN_FLOW } from './keycloak/provider-settings.js';
import { keepsKeycloakFields, keycloakKey, keycloakWrites, mayAwaitInvitation, withKeycloakFields } from './keycloak/keycloak-users.js';
import { profileLimits } from './keycloak/user-profile.js';
import type { LiveState } from '../state/live-state.js';
import type { Component } from './component.js';

/** The one step an admin takes, as errors and the README say it: the roles for users, and for identity providers where the config keeps any. */
function grant(providers: boolean): string {
  const roles = [READ_ROLE, WRITE_ROLE, ...(providers ? [PROVIDERS_READ_ROLE, PROVIDERS_WRITE_ROLE, FLOWS_READ_ROLE] : [])];
  return 'in Keycloak, give the service account of fedctl\'s client (Clients → FEDCTL_CLIENT_ID → Service account roles → Assign role → '
    + `filter by clients) the realm-management roles ${roles.join(', ')}${providers ? `; and make the flow ${FIRST_LOGIN_FLOW} (docs/identity-providers.md)` : ''}`;
}

/** The account's roles, checked once per run: one line naming the first role it lacks. */
async function requireRole(admin: KeycloakAdmin, role: string, why: string, providers = false): Promise<void> {
  if ((await admin.grantedRoles()).includes(role)) return;
  throw new FedctlError('KEYCLOAK_ACCOUNT', `fedctl's account lacks the Keycloak role realm-management ${role}, which ${why}; nothing was changed`, grant(providers));
}

/** Which identity providers are read: the config's (and the rest of Keycloak's, to be listed as unmanaged or pruned), or all of them as export adopts them (`config` null). */
interface ProvidersToRead {
  readonly config: readonly IdentityProvider[] | null;
}

/** The roles reading identity providers needs (beyond view-users), and the first-login flow checked where the config keeps any. */
async function requireProviderReading(admin: KeycloakAdmin, providers: ProvidersToRead): Promise<void> {
  await requireRole(admin, PROVIDERS_READ_ROLE, 'reading identity providers needs', true);
  if (providers.config === null || providers.config.length === 0) return;
  await requireRole(admin, FLOWS_READ_ROLE, `reading the first-login flow ${FIRST_LOGIN_FLOW} identity providers are held to needs`, true);
  await checkFirstLoginFlow(admin, grant(true));
}

export interface KeycloakOptions {
  /** Where export says what it leaves out. */
  readonly warn?: (line: string) => void;
  /** Read Keycloak for users' two-factor authentication even when the config keeps nothing there. */
  readonly readsTwoFactor?: boolean;
  /** The config's identity providers (absent: none); null: all of Keycloak's, as export adopts them. */
  readonly providers?: readonly IdentityProvider[] | null;
  /** The config prunes identity providers: Keycloak's are read though the config keeps none. */
  readonly pruneProviders?: boolean;
}

/**
 * What Keycloak keeps of HQ's users and what its user profile refuses, read
 * once: added to a live state of HQ (the one a plan is made from, and the
 * one an apply checks the plan against). With `providers`: the identity
 * providers, and the users' links to them.
 */
async function readKeycloak(admin: KeycloakAdmin, kept: readonly KeptUser[] | null, providers: ProvidersToRead | null, env: NodeJS.ProcessEnv): Promise<(live: LiveState) => LiveState> {
  // Export (no config kept: `kept` null) writes nothing, so what Keycloak would refuse is not asked.
  const [users, limits] = await Promise.all([
    admin.users(),
    kept === null ? [] : Promise.all([admin.userProfile(), admin.realmSettings()]).then(([profile, realm]) => profileLimits(profile, realm)),
  ]);
  const awaiting = await awaitingInvitation(admin, users, kept ?? []);
  const read = providers === null ? null : await readProviders(admin, providers, users, kept ?? [], env);
  return (live) => {
    const withUsers = withKeycloakFields(live, users, kept, awaiting, read?.signIns ?? null);
    return {
      ...withUsers, server: { ...withUsers.server, limits: [...withUsers.server.limits, ...limits] },
      ...(read === null ? {} : { identityProviders: read.providers }),
    };
  };
}

/** Keycloak's identity providers in the config's terms (sorted by alias: their ids are their places), and the users' links to those fedctl keeps. */
async function readProviders(admin: KeycloakAdmin, providers: ProvidersToRead, users: readonly KeycloakUser[], kept: readonly KeptUser[], env: NodeJS.ProcessEnv): Promise<{ providers: LiveIdentityProvider[]; signIns: SignIns }> {
  const [all, settings] = await Promise.all([admin.identityProviders(), keptSettingsOf(providers.config ?? [])]);
  const representations = [...all].sort((a, b) => (a.alias < b.alias ? -1 : a.alias > b.alias ? 1 : 0));
  const mappers = await Promise.all(representations.map((p) => admin.providerMappers(p.alias)));
  const wanted = new Map((providers.config ?? []).map((p) => [p.alias, p]));
  const live = representations.map((p, index) => liveProvider(p, mappers[index] ?? [], index + 1, wanted.get(p.alias), settings.get(p.alias), env));
  const aliases = representations.map((p) => p.alias).filter((alias) => providers.config === null || wanted.has(alias));
  const signingIn = new Set(kept.filter((user) => user.signIn !== undefined).map((user) => keycloakKey(user.username)));
  return { providers: live, signIns: await readSignIns(admin, aliases, users.filter((user) => signingIn.has(keycloakKey(user.username)))) };
}

/** The Keycloak keys of invited users whose invitation was never sent: they still have the password HQ set, which the invitation removes. */
async function awaitingInvitation(admin: KeycloakAdmin, users: readonly KeycloakUser[], kept: readonly KeptUser[]): Promise<Set<string>> {
  const candidates = mayAwaitInvitation(users, kept);
  const owed = await Promise.all(candidates.map(async (user) => (await admin.passwords(user.id)).length > 0));
  return new Set(candidates.filter((_, index) => owed[index]).map((user) => keycloakKey(user.username)));
}

/**
 * A backend that also keeps what vantage6 5 keeps of its users in Keycloak
 * (names, e-mail, enabled): read into HQ's users, written after HQ's own
 * changes (HQ makes the Keycloak user a created user needs). `kept`: the
 * config's users, whose fields say which are fedctl's; null: every field
 * (export), where an account that may not read users only leaves them out.
 * Engaged only where users' identities live in Keycloak (HQ), and only when
 * the config keeps something there or its guardrails ask who has
 * two-factor authentication.
 */
export function withKeycloak(backend: Backend, kept: readonly KeptUser[] | null, env: NodeJS.ProcessEnv, options: KeycloakOptions = {}): Component {
  const warn = options.warn ?? (() => undefined);
  const configProviders = options.providers === undefined ? [] : options.providers;
  const providers: ProvidersToRead | null = configProviders === null || configProviders.length > 0 || options.pruneProviders === true
    ? { config: configProviders } : null;
  const engaged = kept === null || keepsKeycloakFields(kept) || options.readsTwoFactor === true || providers !== null;
  if (backend.capabilities.identities !== 'keycloak' || !engaged) return { backend, addTo: (loaded) => Promise.resolve(loaded) };
  let session: KeycloakAdmin | null = null;
  const admin = (): KeycloakAdmin => {
    if (session === null) {
      const credentials = clientCredentialsFrom(env, backend.display);
      const token = new KeycloakToken(credentials);
      session = new KeycloakAdmin(credentials.keycloakUrl, credentials.realm, () => token.get());
    }
    return session;
  };
  /** What is read: export leaves out (and says) what the account may not read. */
  const reading = async (): Promise<ProvidersToRead | null> => {
    if (providers?.config !== null) return providers;
    if ((await admin().grantedRoles()).includes(PROVIDERS_READ_ROLE)) return providers;
    warn(`identity providers and users' sign-ins left out: fedctl's account lacks the Keycloak role realm-management ${PROVIDERS_READ_ROLE}`);
    return null;
  };
  const addTo = async (loaded: LoadedLiveState): Promise<LoadedLiveState> => {
    if (kept === null && !(await admin().grantedRoles()).includes(READ_ROLE)) {
      warn(`users' names, e-mail and state left out: fedctl's account lacks the Keycloak role realm-management ${READ_ROLE}`);
      return loaded;
    }
    await requireRole(admin(), READ_ROLE, 'reading users\' names, e-mail and state needs', providers !== null);
    const read = await reading();
    if (read !== null) await requireProviderReading(admin(), read);
    return { ...loaded, live: (await readKeycloak(admin(), kept, read, env))(loaded.live) };
  };
  return {
    addTo,
    backend: {
      kind: backend.kind,
      display: backend.display,
      capabilities: backend.capabilities,
      fingerprint: (live) => backend.fingerprint(live),
      read: async (options) => addTo(await backend.read(options)),
      async apply(plan, resolve, options) {
        const providerChanges = (changes: typeof plan.changes): KeycloakChange[] => changes.filter((c): c is KeycloakChange => c.kind === 'identity_provider');
        if (keycloakWrites(plan.changes).size > 0) await requireRole(admin(), WRITE_ROLE, 'changing users\' names, e-mail, state and sign-ins needs', providers !== null);
        if (providerChanges(plan.changes).length > 0) await requireRole(admin(), PROVIDERS_WRITE_ROLE, 'changing identity providers needs', true);
        await requireRole(admin(), READ_ROLE, 'reading users\' names, e-mail and state needs', providers !== null);
        if (providers !== null) await requireProviderReading(admin(), providers);
        // The plan is checked against the server's state as it was planned: with what Keycloak keeps.
        const withKeycloakState = await readKeycloak(admin(), kept, providers, env);
        const result = await backend.apply(plan, (live) => resolve(withKeycloakState(live)), options);
        const changed = providerChanges(result.plan.changes);
        // Providers first (links name them), deleted last (after the links to them are moved).
        await writeProviders(admin(), changed, env);
        const writes = keycloakWrites(result.plan.changes);
        if (writes.size === 0) {
          await deleteProviders(admin(), changed);
          return result;
        }
        // Read now: HQ has just made the Keycloak users of the users it created.
        const ids = new Map((await admin().users()).map((user) => [keycloakKey(user.username), user.id]));
        for (const [username, { fields, invite, unlink, link, removePasswords }] of writes) {
          const id = ids.get(keycloakKey(username));
          if (id === undefined) {
            throw new FedctlError('APPLY_STOPPED', `Keycloak has no user ${JSON.stringify(username)} after HQ's changes; its names, e-mail and state were not written`,
              'run fedctl apply again: the plan shows what is left');
          }
          if (Object.keys(fields).length > 0) await admin().update(id, username, fields);
          if (invite) await admin().invite(id);
          if (unlink !== undefined) await admin().unlink(id, unlink);
          if (link !== undefined) await admin().link(id, username, link.provider, link.subject);
          if (removePasswords === true) await admin().withoutPassword(id, username);
        }
        await deleteProviders(admin(), changed);
        return result;
      },
    },
  };
}
