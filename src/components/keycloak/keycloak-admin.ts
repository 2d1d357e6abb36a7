import got, { HTTPError, RequestError, type Got } from 'got';
import pLimit from 'p-limit';
import { refusal } from '../../backends/api/paged-json.js';
import { FedctlError, isFedctlError } from '../../errors.js';
import type { KeycloakUserProfile, RealmSettings } from './user-profile.js';
import type { KeycloakMapper, KeycloakProvider } from './provider-settings.js';

/** A Keycloak user as its admin REST API gives one; the full representation (attributes too) when read by id. */
export interface KeycloakUser {
  readonly id: string;
  readonly username: string;
  readonly firstName?: string;
  readonly lastName?: string;
  readonly email?: string;
  readonly enabled?: boolean;
  readonly requiredActions?: readonly string[];
  /** Whether the user has configured a one-time-password app (only in the full representation). */
  readonly totp?: boolean;
  readonly attributes?: Readonly<Record<string, readonly string[]>>;
}

/** What fedctl writes of a Keycloak user; `requiredActions` are added to the user's own. */
export type KeycloakUserFields = Partial<Pick<KeycloakUser, 'firstName' | 'lastName' | 'email' | 'enabled' | 'requiredActions'>>;

/** The realm-management roles fedctl's account needs: to read users, and to change them. Nothing more. */
export const READ_ROLE = 'view-users';
export const WRITE_ROLE = 'manage-users';
/** Where the config keeps identity providers: to read them, to read the first-login flow fedctl holds them to, and to change them. */
export const PROVIDERS_READ_ROLE = 'view-identity-providers';
export const FLOWS_READ_ROLE = 'view-realm';
export const PROVIDERS_WRITE_ROLE = 'manage-identity-providers';

/** A user's link to their identity at a provider, as Keycloak keeps it. */
export interface FederatedIdentity {
  readonly identityProvider: string;
  readonly userId: string;
  readonly userName?: string;
}

/** One step of an authentication flow. */
export interface FlowExecution {
  readonly providerId?: string;
  readonly requirement?: string;
  readonly level?: number;
}

/** What Keycloak says of a refusal: its user profile's field and message key, one or several; an OAuth error; else the status. */
function keycloakReason(error: HTTPError): string {
  const body = error.response.body as { field?: unknown; errorMessage?: unknown; errors?: unknown; error?: unknown; error_description?: unknown } | string | undefined;
  if (typeof body !== 'object' || body === null) return refusal(error);
  const fieldError = (entry: unknown): string | null => {
    const { field, errorMessage } = (entry ?? {}) as { field?: unknown; errorMessage?: unknown };
    if (typeof errorMessage !== 'string') return null;
    return typeof field === 'string' ? `${field}: ${errorMessage}` : errorMessage;
  };
  const said = [fieldError(body), ...(Array.isArray(body.errors) ? body.errors.map(fieldError) : [])].filter((s): s is string => s !== null);
  if (typeof body.error === 'string') said.push(typeof body.error_description === 'string' ? `${body.error}: ${body.error_description}` : body.error);
  return said.length > 0 ? `HTTP ${error.response.statusCode} ${said.join('; ')}` : refusal(error);
}

/** Keycloak's required action of a new password, which HQ sets for every user it makes. */
export const UPDATE_PASSWORD = 'UPDATE_PASSWORD';

const PARALLEL_REQUESTS = 8;

/** Users per page: Keycloak's listing has no total, so pages are read until one comes back short. */
const PAGE = 500;

/**
 * A session with Keycloak's admin REST API for one realm, as fedctl's
 * account: the service account of its client (vantage6 5), with the token
 * it logs in to HQ with.
 */
export class KeycloakAdmin {
  private readonly http: Got;
  /** Reads per user (links, passwords) run side by side, a few at a time: enough to be quick, never a flood on Keycloak. */
  private readonly limit = pLimit(PARALLEL_REQUESTS);

  constructor(readonly url: string, readonly realm: string, private readonly token: () => Promise<string>) {
    this.http = got.extend({
      prefixUrl: `${url}/admin/realms/${encodeURIComponent(realm)}`, responseType: 'json', timeout: { request: 60_000 }, retry: { limit: 2 },
      hooks: { beforeRequest: [async (options) => {
        options.headers.authorization = `Bearer ${await this.token()}`;
      }] },
    });
  }

  /** The realm-management roles the account holds, as its token says them (composite roles expanded). */
  async grantedRoles(): Promise<readonly string[]> {
    const [, payload = ''] = (await this.token()).split('.');
    try {
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { resource_access?: Record<string, { roles?: unknown }> };
      const roles = claims.resource_access?.['realm-management']?.roles;
      return Array.isArray(roles) ? roles.filter((r): r is string => typeof r === 'string') : [];
    } catch {
      return [];
    }
  }

  /** Every user of the realm, page by page (names, e-mail, enabled, and the required actions the brief representation leaves out). */
  async users(): Promise<KeycloakUser[]> {
    const all: KeycloakUser[] = [];
    for (let first = 0; ; first += PAGE) {
      const page = await this.call('GET users', () => this.http.get('users', { searchParams: { first, max: PAGE, briefRepresentation: false } }).json<KeycloakUser[]>());
      all.push(...page);
      if (page.length < PAGE) return all;
    }
  }

  /**
   * Set some fields of user `username`. Keycloak's update replaces the
   * user's attributes with those it is given: the whole representation is
   * read first and sent back with the fields changed (HQ's `organization_id`
   * among the attributes kept).
   */
  async update(id: string, username: string, fields: KeycloakUserFields): Promise<void> {
    const path = `users/${encodeURIComponent(id)}`;
    const current = await this.call(`GET ${path}`, () => this.http.get(path).json<KeycloakUser>());
    const requiredActions = [...new Set([...(current.requiredActions ?? []), ...(fields.requiredActions ?? [])])];
    await this.call(`the ${Object.keys(fields).join(', ')} of user ${JSON.stringify(username)} (PUT ${path})`,
      () => this.http.put(path, { json: { ...current, ...fields, requiredActions }, retry: { limit: 0 } }));
  }

  /** Every identity provider of the realm, whole. */
  async identityProviders(): Promise<KeycloakProvider[]> {
    return this.call('GET identity-provider/instances', () => this.http.get('identity-provider/instances', { searchParams: { briefRepresentation: false, max: 10_000 } }).json<KeycloakProvider[]>());
  }

  async identityProvider(alias: string): Promise<KeycloakProvider | null> {
    const path = `identity-provider/instances/${encodeURIComponent(alias)}`;
    return this.unlessGone(`GET ${path}`, () => this.http.get(path).json<KeycloakProvider>());
  }

  /** Make or replace a provider (the whole representation). */
  async writeIdentityProvider(alias: string, representation: Record<string, unknown>, exists: boolean): Promise<void> {
    const path = `identity-provider/instances${exists ? `/${encodeURIComponent(alias)}` : ''}`;
    await this.call(`identity provider ${JSON.stringify(alias)} (${exists ? 'PUT' : 'POST'} ${path})`,
      () => (exists ? this.http.put(path, { json: representation, retry: { limit: 0 } }) : this.http.post(path, { json: representation, retry: { limit: 0 } })));
  }

  /** Delete a provider; Keycloak deletes its users' links with it. One already gone is no error (a repeated apply). */
  async deleteIdentityProvider(alias: string): Promise<void> {
    const path = `identity-provider/instances/${encodeURIComponent(alias)}`;
    await this.unlessGone(`DELETE ${path}`, () => this.http.delete(path));
  }

  /** A provider's mappers (what it fills in of its users). */
  async providerMappers(alias: string): Promise<KeycloakMapper[]> {
    const path = `identity-provider/instances/${encodeURIComponent(alias)}/mappers`;
    return this.call(`GET ${path}`, () => this.http.get(path).json<KeycloakMapper[]>());
  }

  async addProviderMapper(alias: string, mapper: KeycloakMapper): Promise<void> {
    const path = `identity-provider/instances/${encodeURIComponent(alias)}/mappers`;
    await this.call(`mapper ${JSON.stringify(mapper.name)} of identity provider ${JSON.stringify(alias)} (POST ${path})`, () => this.http.post(path, { json: mapper, retry: { limit: 0 } }));
  }

  async deleteProviderMapper(alias: string, id: string): Promise<void> {
    const path = `identity-provider/instances/${encodeURIComponent(alias)}/mappers/${encodeURIComponent(id)}`;
    await this.unlessGone(`DELETE ${path}`, () => this.http.delete(path));
  }

  /** The ids of the users linked to a provider, page by page. */
  async linkedUsers(alias: string): Promise<KeycloakUser[]> {
    const all: KeycloakUser[] = [];
    for (let first = 0; ; first += PAGE) {
      const page = await this.call(`GET users?idpAlias=${alias}`, () => this.http.get('users', { searchParams: { idpAlias: alias, first, max: PAGE, briefRepresentation: true } }).json<KeycloakUser[]>());
      all.push(...page);
      if (page.length < PAGE) return all;
    }
  }

  async links(id: string): Promise<FederatedIdentity[]> {
    const path = `users/${encodeURIComponent(id)}/federated-identity`;
    return this.call(`GET ${path}`, () => this.http.get(path).json<FederatedIdentity[]>());
  }

  /** Link a user to their identity at a provider; Keycloak refuses an identity linked to another user already. */
  async link(id: string, username: string, alias: string, subject: string): Promise<void> {
    const path = `users/${encodeURIComponent(id)}/federated-identity/${encodeURIComponent(alias)}`;
    await this.call(`the link of user ${JSON.stringify(username)} to ${JSON.stringify(alias)} (POST ${path})`,
      () => this.http.post(path, { json: { identityProvider: alias, userId: subject, userName: subject }, retry: { limit: 0 } }));
  }

  /** Remove a user's link to a provider; one already gone is no error. */
  async unlink(id: string, alias: string): Promise<void> {
    const path = `users/${encodeURIComponent(id)}/federated-identity/${encodeURIComponent(alias)}`;
    await this.unlessGone(`DELETE ${path}`, () => this.http.delete(path));
  }

  /** The steps of a top-level flow, or null when the realm has none of that alias. */
  async flowExecutions(alias: string): Promise<FlowExecution[] | null> {
    const path = `authentication/flows/${encodeURIComponent(alias)}/executions`;
    return this.unlessGone(`GET ${path}`, () => this.http.get(path).json<FlowExecution[]>());
  }

  /** Remove every password of a user. */
  async removePasswords(id: string): Promise<void> {
    const path = `users/${encodeURIComponent(id)}`;
    for (const credential of await this.passwords(id)) {
      await this.call(`DELETE ${path}/credentials`, () => this.http.delete(`${path}/credentials/${encodeURIComponent(credential)}`));
    }
  }

  /**
   * A user who signs in through an identity provider: no password, and not
   * asked for one (HQ asks every user it makes to set one) at their sign-in.
   */
  async withoutPassword(id: string, username: string): Promise<void> {
    await this.removePasswords(id);
    const path = `users/${encodeURIComponent(id)}`;
    const current = await this.call(`GET ${path}`, () => this.http.get(path).json<KeycloakUser>());
    if (!(current.requiredActions ?? []).includes(UPDATE_PASSWORD)) return;
    const requiredActions = (current.requiredActions ?? []).filter((action) => action !== UPDATE_PASSWORD);
    await this.call(`the required actions of user ${JSON.stringify(username)} (PUT ${path})`, () => this.http.put(path, { json: { ...current, requiredActions }, retry: { limit: 0 } }));
  }

  /** The realm's user profile: the validators Keycloak runs on every write of a user. */
  async userProfile(): Promise<KeycloakUserProfile> {
    return this.call('GET users/profile', () => this.http.get('users/profile').json<KeycloakUserProfile>());
  }

  /** What the realm's checks depend on, as far as the account may read the realm (view-users gives a few fields; view-realm its mail server). */
  async realmSettings(): Promise<RealmSettings> {
    const realm = await this.call('GET the realm', () => this.http.get('').json<{ registrationEmailAsUsername?: boolean; smtpServer?: Readonly<Record<string, string>> }>());
    const smtp = realm.smtpServer;
    return {
      realm: this.realm,
      registrationEmailAsUsername: realm.registrationEmailAsUsername === true,
      utf8LocalParts: smtp === undefined ? null : Object.keys(smtp).length === 0 || smtp.allowutf8 === 'true',
    };
  }

  /** The ids of a user's passwords (the representation has no sign of them). */
  async passwords(id: string): Promise<string[]> {
    const path = `users/${encodeURIComponent(id)}/credentials`;
    const credentials = await this.call(`GET ${path}`, () => this.http.get(path).json<{ id: string; type: string }[]>());
    return credentials.filter((credential) => credential.type === 'password').map((credential) => credential.id);
  }

  /**
   * Send a user the realm's e-mail with a link to do their required actions
   * (setting a password first): Keycloak's execute-actions e-mail, valid as
   * long as the realm's actionTokenGeneratedByAdminLifespan says. Then the
   * password nobody knows is removed, which tells the next plan that the
   * invitation went out (a stop in between sends a second one: harmless).
   */
  async invite(id: string): Promise<void> {
    const path = `users/${encodeURIComponent(id)}`;
    const current = await this.call(`GET ${path}`, () => this.http.get(path).json<KeycloakUser>());
    const actions = [...new Set(['UPDATE_PASSWORD', ...(current.requiredActions ?? [])])];
    await this.call(`PUT ${path}/execute-actions-email`, () => this.http.put(`${path}/execute-actions-email`, { json: actions, retry: { limit: 0 } }),
      'Keycloak sends invitations with the realm\'s e-mail server (Realm settings → Email; its log says why the mail failed); once it works, fedctl apply sends the invitation');
    await this.removePasswords(id);
  }

  /** A request of something that may be gone (deleted by an apply stopped after, not made yet): null where Keycloak says 404, else as `call`. */
  private async unlessGone<T>(what: string, request: () => Promise<T>): Promise<T | null> {
    try {
      return await this.call(what, request);
    } catch (error) {
      if (isFedctlError(error) && error.cause instanceof HTTPError && error.cause.response.statusCode === 404) return null;
      throw error;
    }
  }

  /** A request, its refusal one error naming what was refused; `otherwise`: the hint when the account's roles are not the cause. */
  private async call<T>(what: string, request: () => Promise<T>, otherwise = 'Keycloak\'s log says more'): Promise<T> {
    try {
      return await this.limit(request);
    } catch (error) {
      if (error instanceof HTTPError) {
        const status = error.response.statusCode;
        throw new FedctlError('KEYCLOAK_REFUSED', `Keycloak at ${this.url} (realm ${this.realm}) refused ${what}: ${keycloakReason(error)}`,
          status === 401 || status === 403
            ? `fedctl's account needs the realm-management roles ${READ_ROLE} and ${WRITE_ROLE} (see the README's "Users in Keycloak")`
            : otherwise, { cause: error });
      }
      if (error instanceof RequestError) {
        throw new FedctlError('SERVER_UNREACHABLE', `cannot reach Keycloak at ${this.url} (${what}): ${refusal(error)}`, 'check FEDCTL_KEYCLOAK_URL and that Keycloak runs', { cause: error });
      }
      throw error;
    }
  }
}
