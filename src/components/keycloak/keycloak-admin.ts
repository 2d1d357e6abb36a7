import got, { HTTPError, RequestError, type Got } from 'got';
import { refusal } from '../../backends/api/paged-json.js';
import { FedctlError } from '../../errors.js';

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

/** Users per page: Keycloak's listing has no total, so pages are read until one comes back short. */
const PAGE = 500;

/**
 * A session with Keycloak's admin REST API for one realm, as fedctl's
 * account: the service account of its client (vantage6 5), with the token
 * it logs in to HQ with.
 */
export class KeycloakAdmin {
  private readonly http: Got;

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
   * Set some fields of a user. Keycloak's update replaces the user's
   * attributes with those it is given: the whole representation is read
   * first and sent back with the fields changed (HQ's `organization_id`
   * among the attributes kept).
   */
  async update(id: string, fields: KeycloakUserFields): Promise<void> {
    const path = `users/${encodeURIComponent(id)}`;
    const current = await this.call(`GET ${path}`, () => this.http.get(path).json<KeycloakUser>());
    const requiredActions = [...new Set([...(current.requiredActions ?? []), ...(fields.requiredActions ?? [])])];
    await this.call(`PUT ${path}`, () => this.http.put(path, { json: { ...current, ...fields, requiredActions }, retry: { limit: 0 } }));
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
    for (const credential of await this.passwords(id)) {
      await this.call(`DELETE ${path}/credentials`, () => this.http.delete(`${path}/credentials/${encodeURIComponent(credential)}`));
    }
  }

  /** A request, its refusal one error naming what was refused; `otherwise`: the hint when the account's roles are not the cause. */
  private async call<T>(what: string, request: () => Promise<T>, otherwise = 'Keycloak\'s log says more'): Promise<T> {
    try {
      return await request();
    } catch (error) {
      if (error instanceof HTTPError) {
        const status = error.response.statusCode;
        throw new FedctlError('KEYCLOAK_REFUSED', `Keycloak at ${this.url} (realm ${this.realm}) refused ${what}: ${refusal(error)}`,
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
