import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { isProcessRunning } from '../../src/process-running.js';
import { environmentCache, readIfExists } from './server-environment.js';
import { freePort, startProcess, waitForAnswer, type ServerProcess } from './server-process.js';

const run = promisify(execFile);

/** The Keycloak server HQ runs beside, from Maven Central: the newest 26.x served there. */
export const KEYCLOAK_VERSION = '26.7.3';
const ARTIFACT = `org.keycloak:keycloak-quarkus-dist:${KEYCLOAK_VERSION}:tar.gz`;
const READY = '.fedctl-ready';

/** Keycloak 26 needs Java 21 or newer. */
const JAVA_MINIMUM = 21;

/** The major version of a JDK from its `release` file (`JAVA_VERSION="25.0.3"`); null when it is no JDK. */
function javaMajor(home: string): number | null {
  try {
    const match = /^JAVA_VERSION="(\d+)/m.exec(readFileSync(path.join(home, 'release'), 'utf8'));
    return match && existsSync(path.join(home, 'bin', 'java')) ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/**
 * A JDK for Keycloak: FEDCTL_JAVA_HOME, else JAVA_HOME, else the newest in
 * /usr/lib/jvm, if it is Java 21 or newer (the machine's default is 17).
 */
export function findJava(env: NodeJS.ProcessEnv = process.env): string | null {
  const installed = existsSync('/usr/lib/jvm') ? readdirSync('/usr/lib/jvm').map((name) => path.join('/usr/lib/jvm', name)) : [];
  const candidates = [env.FEDCTL_JAVA_HOME, env.JAVA_HOME, ...installed.sort((a, b) => (javaMajor(b) ?? 0) - (javaMajor(a) ?? 0))];
  return candidates.find((home): home is string => home !== undefined && home !== '' && (javaMajor(home) ?? 0) >= JAVA_MINIMUM) ?? null;
}

/** Why a Keycloak folder is not this version's whole distribution, or null: the same check after an install and on every use. */
function distributionFault(home: string): string | null {
  if (readIfExists(path.join(home, READY)) !== `${ARTIFACT}\n`) return `not marked as ${ARTIFACT}`;
  const missing = ['bin/kc.sh', 'lib/quarkus-run.jar'].filter((file) => !existsSync(path.join(home, file)));
  return missing.length === 0 ? null : `${missing.join(' and ')} missing`;
}

/**
 * Keycloak's server distribution, downloaded from Maven Central (with the
 * machine's Maven) and unpacked into the cache beside the vantage6
 * environments on first use; like them built aside and moved into place, so
 * that a partial one is never used. Returns its folder.
 */
export async function keycloakDistribution(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const cache = path.join(path.dirname(environmentCache(env)), 'keycloak');
  const ready = path.join(cache, KEYCLOAK_VERSION);
  if (distributionFault(ready) === null) return ready;
  if (findJava(env) === null) throw new Error(`no Java ${JAVA_MINIMUM} or newer on this machine for Keycloak (set FEDCTL_JAVA_HOME to one)`);
  mkdirSync(cache, { recursive: true });
  for (const name of readdirSync(cache)) {
    const partial = /^\.(.+)\.partial-(\d+)-[0-9a-f]+$/.exec(name);
    if (partial && !isProcessRunning(Number(partial[2]))) rmSync(path.join(cache, name), { recursive: true, force: true });
  }
  if (existsSync(ready)) rmSync(ready, { recursive: true, force: true });
  const building = path.join(cache, `.${KEYCLOAK_VERSION}.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const download = path.join(building, 'download');
    await run('mvn', ['-q', '-B', 'dependency:copy', `-Dartifact=${ARTIFACT}`, `-DoutputDirectory=${download}`], { timeout: 15 * 60_000, maxBuffer: 16 * 1024 * 1024 });
    const archive = path.join(download, `keycloak-quarkus-dist-${KEYCLOAK_VERSION}.tar.gz`);
    await run('tar', ['-xzf', archive, '-C', building, '--strip-components=1']);
    rmSync(download, { recursive: true, force: true });
    writeFileSync(path.join(building, READY), `${ARTIFACT}\n`);
    const fault = distributionFault(building);
    if (fault !== null) throw new Error(`the archive is not a Keycloak distribution: ${fault}`);
    try {
      renameSync(building, ready);
    } catch (error) {
      if (distributionFault(ready) !== null) throw error;
      rmSync(building, { recursive: true, force: true });
    }
    return ready;
  } catch (error) {
    rmSync(building, { recursive: true, force: true });
    const output = (error as { stderr?: string; stdout?: string }).stdout ?? '';
    throw new Error(`cannot install Keycloak ${KEYCLOAK_VERSION} from Maven Central: ${(error as Error).message.split('\n')[0]}${output ? `\n${output.slice(-2000)}` : ''}`);
  }
}

/** A Keycloak server in development mode (in-memory database) on 127.0.0.1. */
export interface RunningKeycloak {
  /** Its base URL, as HQ's KEYCLOAK_URL takes it. */
  readonly url: string;
  readonly process: ServerProcess;
  /** A token of the master realm's administrator, for the admin REST API. */
  adminToken(): Promise<string>;
}

const MASTER_ADMIN = { username: 'fedctl-test-master', password: 'fedctl-test-master-password' };

/** Keycloak's token endpoint: the form of a grant, and the JSON answer or the error Keycloak gave. */
export async function keycloakToken(url: string, realm: string, form: Readonly<Record<string, string>>): Promise<{ access_token: string } | { error: string; error_description?: string }> {
  const response = await fetch(`${url}/realms/${encodeURIComponent(realm)}/protocol/openid-connect/token`, {
    method: 'POST', body: new URLSearchParams(form), signal: AbortSignal.timeout(60_000),
  });
  return response.json() as Promise<{ access_token: string } | { error: string; error_description?: string }>;
}

/** Start Keycloak from the cached distribution, its logs in `dir`; the first start on a machine also builds it (about a minute). */
export async function startKeycloak(dir: string): Promise<RunningKeycloak> {
  const home = await keycloakDistribution();
  const java = findJava() as string;
  const [port, management] = [await freePort(), await freePort()];
  const keycloak = startProcess(path.join(home, 'bin', 'kc.sh'), [
    'start-dev', '--db=dev-mem', '--http-host=127.0.0.1', `--http-port=${port}`, `--http-management-port=${management}`,
  ], {
    cwd: dir,
    env: {
      PATH: process.env.PATH, HOME: dir, JAVA_HOME: java,
      KC_BOOTSTRAP_ADMIN_USERNAME: MASTER_ADMIN.username, KC_BOOTSTRAP_ADMIN_PASSWORD: MASTER_ADMIN.password,
    },
    logFile: path.join(dir, 'keycloak.log'),
    graceMs: 10_000,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForAnswer(`Keycloak ${KEYCLOAK_VERSION}`, keycloak, `${url}/realms/master`, 240_000);
  let admin: { token: string; until: number } | null = null;
  return {
    url,
    process: keycloak,
    async adminToken() {
      if (admin !== null && Date.now() < admin.until) return admin.token;
      const answer = await keycloakToken(url, 'master', { grant_type: 'password', client_id: 'admin-cli', ...MASTER_ADMIN });
      if (!('access_token' in answer)) throw new Error(`Keycloak's master administrator logs in: ${JSON.stringify(answer)}`);
      // The master realm's tokens live a minute: taken anew well before.
      admin = { token: answer.access_token, until: Date.now() + 30_000 };
      return answer.access_token;
    },
  };
}

/** A call of Keycloak's admin REST API; its JSON answer (null when empty), or an error with what Keycloak said. */
export async function keycloakAdmin<T>(keycloak: RunningKeycloak, method: 'GET' | 'POST' | 'PUT' | 'DELETE', route: string, body?: unknown): Promise<T> {
  const response = await fetch(`${keycloak.url}/admin/realms${route}`, {
    method,
    headers: { authorization: `Bearer ${await keycloak.adminToken()}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`Keycloak ${method} ${route}: HTTP ${response.status} ${text.slice(0, 500)}`);
  return (text === '' ? null : JSON.parse(text)) as T;
}

/** The link of Keycloak's execute-actions e-mail (its plain-text part carries it on a line of its own). */
export function invitationLink(mail: string): string {
  const link = /^(https?:\/\/\S+\/login-actions\/action-token\?key=\S+)$/m.exec(mail)?.[1];
  if (link === undefined) throw new Error(`no invitation link in the mail:\n${mail.slice(0, 1500)}`);
  return link;
}

/**
 * Follow an invitation's link as its user does in a browser: Keycloak's page
 * with the actions asked, "click here to proceed", the form that sets a new
 * password, sent; cookies kept between the pages. Returns the last page's
 * text; throws when a page is not one the user could go on from.
 */
export async function acceptInvitation(link: string, password: string): Promise<string> {
  const cookies = new Map<string, string>();
  let request: { url: string; form?: URLSearchParams } | null = { url: link };
  let page = '';
  for (let step = 0; request !== null; step += 1) {
    if (step > 10) throw new Error(`the invitation's pages do not end:\n${page.slice(0, 1500)}`);
    const response: Response = await fetch(request.url, {
      method: request.form ? 'POST' : 'GET', body: request.form, redirect: 'manual', signal: AbortSignal.timeout(60_000),
      headers: { cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; ') },
    });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';');
      const at = pair.indexOf('=');
      cookies.set(pair.slice(0, at), pair.slice(at + 1));
    }
    page = await response.text();
    const from: string = request.url;
    const location = response.headers.get('location');
    const unescape = (href: string): string => new URL(href.replaceAll('&amp;', '&'), from).toString();
    const form = /<form[^>]*action="([^"]*)"/.exec(page)?.[1];
    const proceed = /href="([^"]*\/login-actions\/[^"]*)"/.exec(page)?.[1];
    if (response.status >= 400) throw new Error(`Keycloak answered HTTP ${response.status} at ${from}:\n${page.slice(0, 1500)}`);
    if (location !== null) request = { url: unescape(location) };
    else if (form !== undefined && page.includes('name="password-new"')) {
      request = { url: unescape(form), form: new URLSearchParams({ 'password-new': password, 'password-confirm': password }) };
    } else if (proceed !== undefined && !request.form) request = { url: unescape(proceed) };
    else request = null;
  }
  return page.replace(/<script[\s\S]*?<\/script>/g, ' ').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
}
