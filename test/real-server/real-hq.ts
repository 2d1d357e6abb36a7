import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loggingConfig, type RealServer } from './real-server.js';
import { ServerSession, call, isSession, type Refusal, type ServerLogin } from './server-api.js';
import { HQ_RELEASE, serverEnvironment } from './server-environment.js';
import { freePort, runModule, startProcess, waitForAnswer } from './server-process.js';
import { keycloakAdmin, keycloakToken, startKeycloak, type RunningKeycloak } from './keycloak.js';
import { startMailbox, type Mailbox } from './mailbox.js';

const LAUNCHER = path.join(path.dirname(new URL(import.meta.url).pathname), 'launch-hq.py');

const REALM = 'vantage6';
/** HQ's administrator in Keycloak (KEYCLOAK_ADMIN_USERNAME): HQ makes it Root in organization root at its first start. */
const ADMIN = { username: 'admin', password: 'Fedctl-test-admin-1!' };
/** The confidential client HQ manages Keycloak users and clients with (KEYCLOAK_ADMIN_CLIENT). */
const BACKEND_CLIENT = { clientId: 'backend-admin-client', secret: 'fedctl-test-backend-admin-client-secret' };
/**
 * The test's stand-in for a person at the login page: a client that takes
 * passwords directly (HQ's own public_client uses the device flow, which
 * needs a browser), with the claim HQ requires of a user's token.
 */
const PASSWORD_CLIENT = 'fedctl-test-password-login';

/** The claim HQ reads to tell a user's token from a node's. */
function clientTypeMapper(type: 'user' | 'node'): Record<string, unknown> {
  return {
    name: 'vantage6_client_type', protocol: 'openid-connect', protocolMapper: 'oidc-hardcoded-claim-mapper',
    config: { 'claim.name': 'vantage6_client_type', 'claim.value': type, 'jsonType.label': 'String', 'access.token.claim': 'true' },
  };
}

/**
 * The realm HQ expects, as vantage6's own charts make it: the administrator,
 * the backend's admin client with the realm-management roles HQ uses, the
 * UI's public client, and the test's password client; its e-mail sent to
 * `mailbox`.
 */
function hqRealm(mailbox: Mailbox): Record<string, unknown> {
  return {
    realm: REALM,
    enabled: true,
    // Where its e-mail (invitations) goes: the test's mail server, without TLS or login on 127.0.0.1.
    smtpServer: { host: mailbox.host, port: String(mailbox.port), from: 'hq@example.org', fromDisplayName: 'vantage6 HQ' },
    users: [
      {
        username: ADMIN.username, enabled: true, email: 'admin@example.org', emailVerified: true, firstName: 'HQ', lastName: 'Administrator',
        credentials: [{ type: 'password', value: ADMIN.password, temporary: false }],
      },
      {
        username: `service-account-${BACKEND_CLIENT.clientId}`, enabled: true, serviceAccountClientId: BACKEND_CLIENT.clientId,
        clientRoles: { 'realm-management': ['view-users', 'manage-users', 'view-clients', 'manage-clients', 'create-client'] },
      },
    ],
    clients: [
      {
        clientId: BACKEND_CLIENT.clientId, enabled: true, publicClient: false, secret: BACKEND_CLIENT.secret,
        serviceAccountsEnabled: true, standardFlowEnabled: false, directAccessGrantsEnabled: false,
      },
      {
        clientId: 'public_client', enabled: true, publicClient: true, standardFlowEnabled: true, redirectUris: ['http://127.0.0.1/*'],
        attributes: { 'oauth2.device.authorization.grant.enabled': 'true' }, protocolMappers: [clientTypeMapper('user')],
      },
      {
        clientId: PASSWORD_CLIENT, enabled: true, publicClient: true, standardFlowEnabled: false, directAccessGrantsEnabled: true,
        protocolMappers: [clientTypeMapper('user')],
      },
    ],
  };
}

interface UserProfile { attributes: Record<string, unknown>[] }

/** Import the realm, and declare the `organization_id` attribute HQ writes (Keycloak drops undeclared ones). */
async function importRealm(keycloak: RunningKeycloak, mailbox: Mailbox): Promise<void> {
  await keycloakAdmin(keycloak, 'POST', '', hqRealm(mailbox));
  const profile = await keycloakAdmin<UserProfile>(keycloak, 'GET', `/${REALM}/users/profile`);
  profile.attributes.push({ name: 'organization_id', displayName: 'Organization', permissions: { view: ['admin', 'user'], edit: ['admin'] }, multivalued: false });
  await keycloakAdmin(keycloak, 'PUT', `/${REALM}/users/profile`, profile);
}

interface KeycloakUser { id: string; username: string; requiredActions?: string[]; attributes?: Record<string, string[]> }

/**
 * Logins through Keycloak. HQ gives every user it creates a temporary
 * password and no profile, so Keycloak answers a right password with
 * "Account is not fully set up" (a wrong one with "Invalid user
 * credentials") until the first login, in a browser, has set a new password
 * and filled in the profile. The test does that first login as its user
 * would, keeping the password, and then logs in for real.
 */
function hqLogin(api: string, keycloak: RunningKeycloak): ServerLogin {
  /** A token of the realm for a grant, or what Keycloak said. */
  const grant = async (form: Readonly<Record<string, string>>): Promise<string | Refusal> => {
    const answer = await keycloakToken(keycloak.url, REALM, form);
    return 'access_token' in answer ? answer.access_token : { refusal: `${answer.error}: ${answer.error_description ?? ''}` };
  };
  const passwordToken = (username: string, password: string): Promise<string | Refusal> =>
    grant({ grant_type: 'password', client_id: PASSWORD_CLIENT, username, password, scope: 'openid' });
  const firstLogin = async (username: string): Promise<void> => {
    // The search gives the whole representation (attributes too), which the update must carry.
    const [user] = await keycloakAdmin<KeycloakUser[]>(keycloak, 'GET', `/${REALM}/users?exact=true&briefRepresentation=false&username=${encodeURIComponent(username)}`);
    if (!user) throw new Error(`Keycloak has no user ${username}`);
    await keycloakAdmin(keycloak, 'PUT', `/${REALM}/users/${user.id}`, {
      ...user, requiredActions: [], firstName: 'First', lastName: 'Login', email: `user-${user.id}@example.org`, emailVerified: true,
    });
  };
  const session = async (token: () => Promise<string | Refusal>, me: '/user/me' | '/node/me'): Promise<ServerSession | Refusal> => {
    const first = await token();
    if (typeof first !== 'string') return first;
    const renew = async (): Promise<string> => {
      const fresh = await token();
      if (typeof fresh !== 'string') throw new Error(`a new token: ${fresh.refusal}`);
      return fresh;
    };
    const { status, text } = await call(api, 'GET', me, first);
    if (status !== 200) return { refusal: `HQ refused the Keycloak token at ${me}: HTTP ${status} ${text.slice(0, 300)}` };
    return new ServerSession(api, renew, (JSON.parse(text) as { id: number }).id);
  };
  return {
    api,
    async user(username, password) {
      const first = await passwordToken(username, password);
      if (typeof first !== 'string' && /Account is not fully set up/.test(first.refusal)) await firstLogin(username);
      return session(() => passwordToken(username, password), '/user/me');
    },
    node(name, key) {
      return session(() => grant({ grant_type: 'client_credentials', client_id: `${name}-node-client`, client_secret: key }), '/node/me');
    },
    async admin() {
      const admin = await session(() => passwordToken(ADMIN.username, ADMIN.password), '/user/me');
      if (!isSession(admin)) throw new Error(`HQ's administrator logs in: ${admin.refusal}`);
      return admin;
    },
  };
}

/** HQ's administrator makes fedctl's account as vantage6 5 documents it: a service-account user with the Root role. */
async function fedctlAccount(login: ServerLogin, keycloak: RunningKeycloak): Promise<Record<string, string>> {
  const admin = await login.admin();
  const me = await admin.request<{ organization: { id: number } }>('GET', '/user/me');
  const [root] = (await admin.list<{ id: number }>('/role?name=Root')) ?? [];
  if (!root) throw new Error('HQ has no Root role');
  const made = await admin.request<{ client_secret: string }>('POST', '/user', {
    username: 'fedctl', is_service_account: true, organization_id: me.organization.id, roles: [root.id],
  });
  return { FEDCTL_KEYCLOAK_URL: keycloak.url, FEDCTL_KEYCLOAK_REALM: REALM, FEDCTL_CLIENT_ID: 'fedctl-user-client', FEDCTL_CLIENT_SECRET: made.client_secret };
}

/**
 * vantage6 HQ 5.0.3 with a Keycloak of its own, on 127.0.0.1, against
 * `database` (a SQLAlchemy URL): Keycloak first (HQ reads its realm's key at
 * start), the realm imported, then HQ as its image starts it (init_db, then
 * the app), and fedctl's service account made. Logs in `dir`.
 */
export async function startRealHq(database: string, dir: string): Promise<RealServer> {
  const python = await serverEnvironment(HQ_RELEASE);
  mkdirSync(dir, { recursive: true });
  const mailbox = await startMailbox(python, path.join(dir, 'mail'));
  let keycloak: RunningKeycloak;
  try {
    keycloak = await startKeycloak(dir);
  } catch (error) {
    await mailbox.process.stop();
    throw error;
  }
  try {
    await importRealm(keycloak, mailbox);
    const port = await freePort();
    const config = path.join(dir, 'hq.yaml');
    writeFileSync(config, [
      'api_path: /hq',
      `uri: ${JSON.stringify(database)}`,
      'directories:',
      `  log: ${JSON.stringify(path.join(dir, 'log'))}`,
      `  data: ${JSON.stringify(path.join(dir, 'data'))}`,
      ...loggingConfig(),
      '',
    ].join('\n'));
    const backendEnv = {
      KEYCLOAK_URL: keycloak.url, KEYCLOAK_REALM: REALM, KEYCLOAK_ADMIN_USERNAME: ADMIN.username,
      // Checked to be set, never used by HQ: it manages Keycloak through the client's secret.
      KEYCLOAK_ADMIN_PASSWORD: 'unused-by-hq',
      KEYCLOAK_ADMIN_CLIENT: BACKEND_CLIENT.clientId, KEYCLOAK_ADMIN_CLIENT_SECRET: BACKEND_CLIENT.secret,
    };
    const env = { PATH: process.env.PATH, HOME: dir, PYTHONUNBUFFERED: '1', ...backendEnv };
    await runModule('HQ\'s init_db', python, 'vantage6.hq.init_db', [config], { cwd: dir, env });
    // Flask-SocketIO's own server stops on Ctrl-C.
    const hq = startProcess(python, [LAUNCHER, config, String(port)], { cwd: dir, env, logFile: path.join(dir, 'hq-console.log'), signal: 'SIGINT' });
    const api = `http://127.0.0.1:${port}/hq`;
    const stop = async (): Promise<void> => {
      await hq.stop();
      await keycloak.process.stop();
      await mailbox.process.stop();
    };
    try {
      await waitForAnswer(`vantage6 HQ ${HQ_RELEASE}`, hq, `${api}/version`, 120_000);
      const login = hqLogin(api, keycloak);
      return {
        release: HQ_RELEASE, api, login, account: await fedctlAccount(login, keycloak),
        keycloak: {
          url: keycloak.url, realm: REALM, passwordClient: PASSWORD_CLIENT, backendEnv,
          admin: (method, route, body) => keycloakAdmin(keycloak, method, route, body), mailbox,
        },
        log: () => `${hq.log().slice(-3000)}\n--- Keycloak ---\n${keycloak.process.log().slice(-1000)}`, stop,
      };
    } catch (error) {
      await stop();
      throw error;
    }
  } catch (error) {
    await keycloak.process.stop();
    await mailbox.process.stop();
    throw error;
  }
}
