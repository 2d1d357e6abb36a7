import { CookieJar } from 'tough-cookie';
import { keycloakToken } from './keycloak.js';

/** Where the UI's client sends people back to with their code: never reached, the test reads the code from the redirect. */
const CALLBACK = 'http://127.0.0.1/callback';

/** How a sign-in ended: a token of vantage6's realm, or the page Keycloak (or the provider) stopped at, as text. */
export type SignInResult = { readonly token: string } | { readonly refusal: string };

const text = (page: string): string => page.replace(/<script[\s\S]*?<\/script>|<style[\s\S]*?<\/style>/g, ' ').replace(/<[^>]+>/g, ' ')
  .replace(/&amp;/g, '&').replace(/&#39;|&apos;/g, '\'').replace(/&quot;/g, '"').replace(/\s+/g, ' ').trim();
const unescaped = (href: string): string => href.replace(/&amp;/g, '&');

/** The hidden inputs of a form (SAML's auto-posting forms carry SAMLRequest or SAMLResponse and RelayState). */
function hiddenInputs(form: string): URLSearchParams {
  const fields = new URLSearchParams();
  for (const input of form.matchAll(/<input[^>]*>/g)) {
    const tag = input[0];
    const name = /name="([^"]*)"/.exec(tag)?.[1];
    const value = /value="([^"]*)"/.exec(tag)?.[1] ?? '';
    if (name !== undefined && /type="hidden"/i.test(tag)) fields.set(name, unescaped(value));
  }
  return fields;
}

/**
 * Sign in to vantage6 as a person does in a browser: HQ's login page (the
 * UI's public client, the authorization code flow), the button of identity
 * provider `alias`, the provider's own login form with the person's
 * username and password, back through SAML's auto-posting forms where
 * there are any, to the UI's callback, whose code is exchanged for a token.
 * Cookies are kept per path, as a browser keeps them (each realm has its
 * own). Ends with the token, or the text of the page it stopped at.
 */
export async function signInThrough(keycloak: { url: string; realm: string }, alias: string, username: string, password: string): Promise<SignInResult> {
  const jar = new CookieJar();
  const start = new URL(`${keycloak.url}/realms/${encodeURIComponent(keycloak.realm)}/protocol/openid-connect/auth`);
  for (const [key, value] of Object.entries({ client_id: 'public_client', redirect_uri: CALLBACK, response_type: 'code', scope: 'openid', state: 'fedctl-test' })) start.searchParams.set(key, value);
  let request: { url: string; form?: URLSearchParams } = { url: start.toString() };
  let signedIn = false;
  for (let step = 0; step < 30; step += 1) {
    if (request.url.startsWith(CALLBACK)) {
      const code = new URL(request.url).searchParams.get('code');
      if (code === null) return { refusal: `back at the UI without a code: ${request.url}` };
      const answer = await keycloakToken(keycloak.url, keycloak.realm, { grant_type: 'authorization_code', client_id: 'public_client', redirect_uri: CALLBACK, code });
      return 'access_token' in answer ? { token: answer.access_token } : { refusal: `${answer.error}: ${answer.error_description ?? ''}` };
    }
    const response = await fetch(request.url, {
      method: request.form ? 'POST' : 'GET', body: request.form, redirect: 'manual', signal: AbortSignal.timeout(60_000),
      headers: { cookie: await jar.getCookieString(request.url), ...(request.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
    });
    for (const cookie of response.headers.getSetCookie()) await jar.setCookie(cookie, request.url, { ignoreError: true });
    const location = response.headers.get('location');
    const page = await response.text();
    const from = request.url;
    const resolve = (href: string): string => new URL(unescaped(href), from).toString();
    if (location !== null) {
      request = { url: resolve(location) };
      continue;
    }
    const button = new RegExp(`href="([^"]*/broker/${alias}/login[^"]*)"`).exec(page)?.[1];
    const form = /<form[^>]*action="([^"]*)"[\s\S]*?<\/form>/.exec(page);
    if (page.includes('name="password"') && form !== null && !signedIn && !from.includes(`/realms/${keycloak.realm}/`)) {
      // The provider's own login form.
      signedIn = true;
      request = { url: resolve(form[1] as string), form: new URLSearchParams({ username, password, credentialId: '' }) };
    } else if (button !== undefined && from.includes(`/realms/${keycloak.realm}/protocol/openid-connect/auth`)) {
      request = { url: resolve(button) };
    } else if (form !== null && /SAMLRequest|SAMLResponse/.test(form[0])) {
      request = { url: resolve(form[1] as string), form: hiddenInputs(form[0]) };
    } else {
      return { refusal: `HTTP ${response.status} at ${from}: ${text(page).slice(0, 400)}` };
    }
  }
  return { refusal: 'the sign-in does not end' };
}
