import got, { HTTPError, RequestError, type Got } from 'got';
import pLimit from 'p-limit';
import { serverMinor, usesKeycloak } from '../../catalog/vantage6-versions.js';
import { FedctlError, isFedctlError } from '../../errors.js';
import { listAllPages, refusal } from './paged-json.js';

/** Requests in flight at once: the server's workers answer them side by side. */
const PARALLEL_REQUESTS = 6;

/** The account fedctl acts as, from the environment: never printed, never in a plan. */
export interface ApiCredentials {
  readonly username: string;
  readonly password: string;
}

/** The account's credentials from FEDCTL_API_USERNAME and FEDCTL_API_PASSWORD, or an error saying what to set. */
export function credentialsFrom(env: NodeJS.ProcessEnv): ApiCredentials {
  const username = env.FEDCTL_API_USERNAME;
  const password = env.FEDCTL_API_PASSWORD;
  if (!username || !password) {
    throw new FedctlError('SERVER_LOGIN', 'no account to reach the server\'s API with: FEDCTL_API_USERNAME and FEDCTL_API_PASSWORD are not both set',
      'set them to an administrator\'s username and password (in CI, as secrets); they are never printed');
  }
  return { username, password };
}

/** A Keycloak client whose service account is fedctl's account on vantage6 5 (HQ). */
export interface ClientCredentials {
  /** Keycloak's base URL, e.g. `https://auth.v6.example.org`. */
  readonly keycloakUrl: string;
  readonly realm: string;
  readonly clientId: string;
  readonly clientSecret: string;
}

/**
 * The Keycloak client of a vantage6 5 account from FEDCTL_KEYCLOAK_URL,
 * FEDCTL_KEYCLOAK_REALM (default `vantage6`), FEDCTL_CLIENT_ID and
 * FEDCTL_CLIENT_SECRET, or an error saying what to set.
 */
export function clientCredentialsFrom(env: NodeJS.ProcessEnv, server: string): ClientCredentials {
  const missing = ['FEDCTL_KEYCLOAK_URL', 'FEDCTL_CLIENT_ID', 'FEDCTL_CLIENT_SECRET'].filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new FedctlError('SERVER_LOGIN', `${server} is vantage6 5, whose accounts log in through Keycloak, and ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not set`,
      'create fedctl\'s account in HQ as a service account (POST /user with is_service_account: true gives its client secret), give it the Root role, '
      + 'and set FEDCTL_KEYCLOAK_URL (Keycloak\'s URL), FEDCTL_CLIENT_ID (USERNAME-user-client) and FEDCTL_CLIENT_SECRET; they are never printed');
  }
  return {
    keycloakUrl: (env.FEDCTL_KEYCLOAK_URL as string).replace(/\/+$/, ''), realm: env.FEDCTL_KEYCLOAK_REALM || 'vantage6',
    clientId: env.FEDCTL_CLIENT_ID as string, clientSecret: env.FEDCTL_CLIENT_SECRET as string,
  };
}

/**
 * Where the API may be: a URL with a path is the API's own; without one,
 * `/api` (vantage6 4) or `/hq` (vantage6 5), in that order.
 */
export function apiBaseUrls(url: string): string[] {
  const base = apiBaseUrl(url);
  return new URL(url).pathname.replace(/\/+$/, '') === '' ? [base, base.replace(/\/api$/, '/hq')] : [base];
}

/** `https://v6.example.org` → `https://v6.example.org/api`; a URL with a path is the API's own. */
export function apiBaseUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new FedctlError('SERVER_UNREACHABLE', `not a server URL: ${url}`, 'give the API\'s URL, e.g. https://v6.example.org/api');
  }
  if (!/^https?:$/.test(parsed.protocol) || parsed.username || parsed.password || parsed.search) {
    throw new FedctlError('SERVER_UNREACHABLE', `not a server URL: ${parsed.protocol}//${parsed.host}${parsed.pathname}`,
      'give the API\'s URL, e.g. https://v6.example.org/api; the account comes from FEDCTL_API_USERNAME and FEDCTL_API_PASSWORD');
  }
  const path = parsed.pathname.replace(/\/+$/, '');
  return `${parsed.origin}${path === '' ? '/api' : path}`;
}

/** Renewed before it expires: Keycloak's tokens live minutes (HQ's realm: 5), and an apply may take longer. */
export class KeycloakToken {
  private current: { token: string; renewAt: number } | null = null;
  private pending: Promise<string> | null = null;

  constructor(private readonly credentials: ClientCredentials) {}

  get clientId(): string {
    return this.credentials.clientId;
  }

  async get(): Promise<string> {
    if (this.current !== null && Date.now() < this.current.renewAt) return this.current.token;
    this.pending ??= this.fetch().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  private async fetch(): Promise<string> {
    const { keycloakUrl, realm, clientId, clientSecret } = this.credentials;
    const endpoint = `${keycloakUrl}/realms/${encodeURIComponent(realm)}/protocol/openid-connect/token`;
    let answer: { access_token?: unknown; expires_in?: unknown };
    try {
      answer = await got.post(endpoint, {
        form: { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }, timeout: { request: 60_000 }, retry: { limit: 2 },
      }).json();
    } catch (error) {
      const said = error instanceof HTTPError ? JSON.stringify(error.response.body).slice(0, 300) : refusal(error);
      throw new FedctlError('SERVER_LOGIN', `Keycloak at ${keycloakUrl} (realm ${realm}) refused the client ${clientId}: ${said}`,
        'check FEDCTL_KEYCLOAK_URL, FEDCTL_KEYCLOAK_REALM, FEDCTL_CLIENT_ID and FEDCTL_CLIENT_SECRET');
    }
    if (typeof answer.access_token !== 'string') throw new FedctlError('SERVER_LOGIN', `Keycloak at ${keycloakUrl} gave no token for ${clientId}`);
    const lifetime = typeof answer.expires_in === 'number' ? answer.expires_in : 60;
    // Renewed at three quarters of its life, so that no request carries a token about to expire.
    this.current = { token: answer.access_token, renewAt: Date.now() + lifetime * 750 };
    return answer.access_token;
  }
}

/**
 * A logged-in session with a vantage6 4.x server's REST API. Reads come page
 * by page, side by side; a GET is retried on a dropped connection or a busy
 * server, a write never (the next plan shows whether it happened).
 */
export class Vantage6Api {
  private readonly limit = pLimit(PARALLEL_REQUESTS);

  private constructor(
    private readonly http: Got,
    /** The API's URL, as plans and messages name the server. */
    readonly url: string,
    /** The server's release, as `/version` gives it (`4.14.0`). */
    readonly version: string,
    /** The account fedctl acts as. */
    readonly account: { readonly id: number; readonly username: string },
    /** The account's current token: what a 4.x store checks with the server, and a 5.x store with Keycloak. */
    readonly bearer: () => Promise<string>,
  ) {}

  /**
   * Ask the server its version, then log in as the account of the
   * environment: a 4.x account's username and password, or on vantage6 5 a
   * Keycloak client's credentials. `onRequest` sees every request (the
   * benchmark counts them).
   */
  static async connect(url: string, env: NodeJS.ProcessEnv, onRequest?: () => void): Promise<Vantage6Api> {
    const hooks = onRequest ? { hooks: { beforeRequest: [() => onRequest()] } } : {};
    let found: { base: string; version: string; anonymous: Got } | null = null;
    let failure: unknown = null;
    for (const base of apiBaseUrls(url)) {
      const anonymous = got.extend({ prefixUrl: base, responseType: 'json', timeout: { request: 60_000 }, retry: { limit: 2 }, ...hooks });
      try {
        const { version } = await anonymous.get('version').json<{ version?: unknown }>();
        if (typeof version === 'string') {
          found = { base, version, anonymous };
          break;
        }
      } catch (error) {
        failure ??= error;
      }
    }
    if (found === null) {
      throw new FedctlError('SERVER_UNREACHABLE', `cannot reach a vantage6 server at ${apiBaseUrl(url)}${failure === null ? '' : `: ${refusal(failure)}`}`,
        'check the URL (the API\'s, e.g. https://v6.example.org/api, or HQ\'s, https://v6.example.org/hq) and that the server runs');
    }
    const { base, version, anonymous } = found;
    const minor = serverMinor(version);
    if (minor !== null && usesKeycloak(minor)) {
      const token = new KeycloakToken(clientCredentialsFrom(env, base));
      const http = anonymous.extend({ hooks: { beforeRequest: [async (options) => {
        options.headers.authorization = `Bearer ${await token.get()}`;
      }] } });
      const me = await http.get('user/me').json<{ id?: unknown; username?: unknown }>().catch((error: unknown) => {
        if (isFedctlError(error)) throw error;
        throw new FedctlError('SERVER_LOGIN', `${base} does not take the Keycloak client ${token.clientId} for an account: ${refusal(error)}`,
          'use the client of a user HQ made as a service account (USERNAME-user-client)');
      });
      return new Vantage6Api(http, base, version, { id: Number(me.id), username: String(me.username) }, () => token.get());
    }
    const credentials = credentialsFrom(env);
    let login: { access_token?: string; user_url?: string };
    try {
      login = await anonymous.post('token/user', { json: credentials, retry: { limit: 0 } }).json();
    } catch (error) {
      const said = refusal(error);
      if (/mfa|two.?factor|2fa|authenticat(or|ion) code/i.test(said)) {
        throw new FedctlError('SERVER_LOGIN', `the account ${credentials.username} uses two-factor authentication, which a run without a person cannot answer`,
          'give fedctl an account of its own without a second factor (with the roles it needs), and keep its password in your CI\'s secrets');
      }
      throw new FedctlError('SERVER_LOGIN', `the server at ${base} refused the login of ${credentials.username}: ${said}`,
        'check FEDCTL_API_USERNAME and FEDCTL_API_PASSWORD');
    }
    if (typeof login.access_token !== 'string') {
      throw new FedctlError('SERVER_LOGIN', `the server at ${base} gave no token for ${credentials.username}`, 'is this a vantage6 4.x server?');
    }
    const id = Number(login.user_url?.split('/').pop());
    const http = anonymous.extend({ headers: { authorization: `Bearer ${login.access_token}` } });
    const token = login.access_token;
    return new Vantage6Api(http, base, version, { id, username: credentials.username }, () => Promise.resolve(token));
  }

  /**
   * Every item of a list endpoint, page by page, by id: without an order the
   * database may return rows in any order, and pages may skip or repeat some.
   */
  async list<T>(path: string, filter: Readonly<Record<string, string | number>> = {}): Promise<T[]> {
    return this.limit(() => this.call(`GET ${path}`, () => listAllPages<T>(this.http, path, { ...filter, sort: 'id' })));
  }

  async get<T>(path: string): Promise<T> {
    return this.limit(() => this.call(`GET ${path}`, () => this.http.get(path).json<T>()));
  }

  /** One write; a refusal is an error carrying the server's message. */
  async write<T>(method: 'POST' | 'PATCH' | 'DELETE', path: string, json?: unknown): Promise<T> {
    return this.call(`${method} ${path}`, () => this.http(path, { method, ...(json === undefined ? {} : { json }), retry: { limit: 0 } }).json<T>());
  }

  private async call<T>(what: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      if (error instanceof HTTPError) {
        throw new FedctlError('SERVER_REFUSED', `${this.url} refused ${what}: ${refusal(error)}`,
          error.response.statusCode === 401 || error.response.statusCode === 403
            ? `the account ${this.account.username} lacks the permission; give it a role with the rules fedctl needs (Root has them all)`
            : 'the server\'s log says more', { cause: error });
      }
      if (error instanceof RequestError) {
        throw new FedctlError('SERVER_UNREACHABLE', `lost ${this.url} during ${what}: ${refusal(error)}`, 'check the network and run fedctl again',
          { cause: error });
      }
      throw error;
    }
  }
}
