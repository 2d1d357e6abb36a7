import { clientCredentialsFrom, KeycloakToken } from '../backends/api/vantage6-api.js';
import type { Backend, LoadedLiveState } from '../backends/backend.js';
import { FedctlError } from '../errors.js';
import { KeycloakAdmin, READ_ROLE, WRITE_ROLE, type KeycloakUser } from './keycloak/keycloak-admin.js';
import type { KeptUser } from '../federation.js';
import { keepsKeycloakFields, keycloakKey, keycloakWrites, mayAwaitInvitation, withKeycloakFields } from './keycloak/keycloak-users.js';
import { profileLimits } from './keycloak/user-profile.js';
import type { LiveState } from '../state/live-state.js';
import type { Component } from './component.js';

/** The one step an admin takes, as errors and the README say it. */
const GRANT = 'in Keycloak, give the service account of fedctl\'s client (Clients → FEDCTL_CLIENT_ID → Service account roles → Assign role → '
  + `filter by clients) the realm-management roles ${READ_ROLE} and ${WRITE_ROLE}`;

/** The account's roles, checked once per run: one line naming the first role it lacks. */
async function requireRole(admin: KeycloakAdmin, role: string, why: string): Promise<void> {
  if ((await admin.grantedRoles()).includes(role)) return;
  throw new FedctlError('KEYCLOAK_ACCOUNT', `fedctl's account lacks the Keycloak role realm-management ${role}, which ${why}; nothing was changed`, GRANT);
}

export interface KeycloakOptions {
  /** Where export says what it leaves out. */
  readonly warn?: (line: string) => void;
  /** Read Keycloak for users' two-factor authentication even when the config keeps nothing there. */
  readonly readsTwoFactor?: boolean;
}

/**
 * What Keycloak keeps of HQ's users and what its user profile refuses, read
 * once: added to a live state of HQ (the one a plan is made from, and the
 * one an apply checks the plan against).
 */
async function readKeycloak(admin: KeycloakAdmin, kept: readonly KeptUser[] | null): Promise<(live: LiveState) => LiveState> {
  // Export (no config kept: `kept` null) writes nothing, so what Keycloak would refuse is not asked.
  const [users, limits] = await Promise.all([
    admin.users(),
    kept === null ? [] : Promise.all([admin.userProfile(), admin.realmSettings()]).then(([profile, realm]) => profileLimits(profile, realm)),
  ]);
  const awaiting = await awaitingInvitation(admin, users, kept ?? []);
  return (live) => {
    const read = withKeycloakFields(live, users, kept, awaiting);
    return { ...read, server: { ...read.server, limits: [...read.server.limits, ...limits] } };
  };
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
  const engaged = kept === null || keepsKeycloakFields(kept) || options.readsTwoFactor === true;
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
  const addTo = async (loaded: LoadedLiveState): Promise<LoadedLiveState> => {
    if (kept === null && !(await admin().grantedRoles()).includes(READ_ROLE)) {
      warn(`users' names, e-mail and state left out: fedctl's account lacks the Keycloak role realm-management ${READ_ROLE}`);
      return loaded;
    }
    await requireRole(admin(), READ_ROLE, 'reading users\' names, e-mail and state needs');
    return { ...loaded, live: (await readKeycloak(admin(), kept))(loaded.live) };
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
        if (keycloakWrites(plan.changes).size > 0) await requireRole(admin(), WRITE_ROLE, 'changing users\' names, e-mail and state needs');
        await requireRole(admin(), READ_ROLE, 'reading users\' names, e-mail and state needs');
        // The plan is checked against the server's state as it was planned: with what Keycloak keeps.
        const withKeycloakState = await readKeycloak(admin(), kept);
        const result = await backend.apply(plan, (live) => resolve(withKeycloakState(live)), options);
        const writes = keycloakWrites(result.plan.changes);
        if (writes.size === 0) return result;
        // Read now: HQ has just made the Keycloak users of the users it created.
        const ids = new Map((await admin().users()).map((user) => [keycloakKey(user.username), user.id]));
        for (const [username, { fields, invite }] of writes) {
          const id = ids.get(keycloakKey(username));
          if (id === undefined) {
            throw new FedctlError('APPLY_STOPPED', `Keycloak has no user ${JSON.stringify(username)} after HQ's changes; its names, e-mail and state were not written`,
              'run fedctl apply again: the plan shows what is left');
          }
          if (Object.keys(fields).length > 0) await admin().update(id, username, fields);
          if (invite) await admin().invite(id);
        }
        return result;
      },
    },
  };
}
