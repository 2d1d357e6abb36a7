import { isIP } from 'node:net';
import { DEFAULT_CLAIMS, FILLABLE_FIELDS, filledField, type DesiredUser, type IdentityProvider, type IdentityProviderType, type SignIn } from '../../federation.js';
import { referencedVariable } from '../interpolate.js';
import { CheckContext, isRecord, list, text, type Entry } from './check-context.js';

/** Whether Keycloak (its realms' default, SSL required for external requests) takes a plain-HTTP URL of this host: loopback and private addresses. */
function localHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host === '::1') return true;
  if (isIP(host) !== 4) return false;
  const [a = 0, b = 0] = host.split('.').map(Number);
  return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}

/** A plain-HTTP URL Keycloak refuses unless the realm requires no SSL: warned at its line (the realm's setting is Keycloak's). */
function checkTransport(ctx: CheckContext, entry: Entry, field: string, url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    ctx.error(entry, [field], `${JSON.stringify(url)} is not a URL`, 'write the whole URL, https://…');
    return;
  }
  if (parsed.protocol === 'http:' && !localHost(parsed.hostname)) {
    ctx.warning(entry, [field], `Keycloak refuses a provider reached over plain HTTP at ${parsed.host} ("requires secure connections") unless the realm requires no SSL`,
      'use its https:// URL');
  }
}

/** What each type of provider takes: OpenID Connect a discovery document and a client, SAML its metadata. */
const FIELDS: Readonly<Record<IdentityProviderType, { readonly required: readonly string[]; readonly foreign: readonly string[] }>> = {
  oidc: { required: ['discovery', 'client_id', 'client_secret'], foreign: ['metadata'] },
  saml: { required: ['metadata'], foreign: ['discovery', 'client_id', 'client_secret'] },
};

function checkFieldsOfType(ctx: CheckContext, entry: Entry, type: IdentityProviderType): void {
  const name = type === 'oidc' ? 'an OpenID Connect provider' : 'a SAML provider';
  for (const field of FIELDS[type].required) {
    if (entry.value[field] === undefined) ctx.error(entry, [], `${name} needs ${field}:`, type === 'oidc' ? 'give discovery: (its …/.well-known/openid-configuration), client_id: and client_secret: ${ENV_VAR}' : 'give metadata: (the URL of its SAML metadata)');
  }
  for (const field of FIELDS[type].foreign) {
    if (entry.value[field] !== undefined) ctx.error(entry, [field], `${name} takes no ${field}:`, `remove it${type === 'saml' ? ' (SAML reads what it needs from the metadata)' : ' (OpenID Connect reads what it needs from the discovery document)'}`);
  }
}

/** `fills:` as `field=claim`, sorted: a list takes the standard claims of the provider's type. */
function fillsOf(value: unknown, type: IdentityProviderType): string[] {
  const named: [string, unknown][] = Array.isArray(value) ? value.map((field) => [String(field), undefined])
    : isRecord(value) ? Object.entries(value) : [];
  return named.flatMap(([field, claim]) => {
    const known = FILLABLE_FIELDS.find((f) => f === field);
    if (known === undefined) return [];
    return [`${known}=${typeof claim === 'string' ? claim : DEFAULT_CLAIMS[type][known]}`];
  }).sort();
}

/** A client secret: only a `${VAR}` reference, set in the environment (plans compare the secret Keycloak holds with it). */
function clientSecret(ctx: CheckContext, entry: Entry): string | null {
  const secret = text(entry.value.client_secret);
  if (secret === null) return null;
  const variable = referencedVariable(secret);
  if (variable === null) {
    ctx.error(entry, ['client_secret'], 'a client secret must not be written in the config', 'write ${ENV_VAR} to read it from the environment');
    return null;
  }
  if (ctx.env[variable] === undefined) {
    ctx.error(entry, ['client_secret'], `environment variable ${variable} is not set`,
      'plan and apply read the client\'s secret from it (plan compares it with the one Keycloak holds); set it where fedctl runs');
  }
  return secret;
}

/**
 * The config's identity providers (vantage6 5): unique aliases, known
 * organizations, secrets only as `${VAR}` set in the environment (plans
 * compare the secret Keycloak holds with it).
 */
export function checkIdentityProviders(ctx: CheckContext, entries: Entry[], orgNames: ReadonlySet<string>): IdentityProvider[] {
  if (entries.length > 0 && !ctx.server.keycloak) {
    for (const entry of entries) {
      ctx.error(entry, [], `${ctx.serverName} has no identity providers: they are Keycloak's, on vantage6 5`,
        'keep identity_providers: in a file given only to vantage6 5');
    }
    return [];
  }
  const byAlias = ctx.unique('identity provider', (e) => text(e.value.alias), String, entries, 'alias', (a) => JSON.stringify(a));
  const providers: IdentityProvider[] = [];
  for (const entry of entries) {
    const alias = text(entry.value.alias);
    const type = entry.value.type === 'oidc' || entry.value.type === 'saml' ? entry.value.type as IdentityProviderType : null;
    if (type !== null) checkFieldsOfType(ctx, entry, type);
    const metadata = text(type === 'oidc' ? entry.value.discovery : entry.value.metadata);
    const organizations = list(entry.value.organizations).filter((o, index): o is string =>
      typeof o === 'string' && ctx.reference(entry, ['organizations', index], 'organization', o, orgNames));
    if (metadata !== null) checkTransport(ctx, entry, type === 'oidc' ? 'discovery' : 'metadata', metadata);
    const secret = type === 'oidc' ? clientSecret(ctx, entry) : null;
    if (alias === null || type === null || metadata === null || byAlias.get(alias) !== entry) continue;
    providers.push({
      alias, type, metadata,
      displayName: text(entry.value.display_name),
      clientId: type === 'oidc' ? text(entry.value.client_id) : null,
      clientSecret: type === 'oidc' ? secret : null,
      organizations: [...new Set(organizations)].sort(),
      required: entry.value.required === true,
      fills: fillsOf(entry.value.fills, type),
      onLoginPage: entry.value.on_login_page !== false,
      enabled: entry.value.enabled !== false,
      drift: [],
    });
  }
  return providers;
}

/**
 * A user's `sign_in:`: a provider of the config that serves the user's
 * organization; no password of vantage6's beside it, since the user signs
 * in at the provider alone.
 */
export function signInOf(ctx: CheckContext, entry: Entry, organization: string | null, providers: ReadonlyMap<string, IdentityProvider>): SignIn | null {
  const value = entry.value.sign_in;
  if (!isRecord(value)) return null;
  const provider = text(value.provider);
  const subject = typeof value.subject === 'string' && value.subject !== '' ? value.subject : null;
  if (!ctx.server.keycloak) {
    ctx.error(entry, ['sign_in'], `${ctx.serverName} has no identity providers: signing in through one is Keycloak's, on vantage6 5`,
      'keep sign_in: in a file given only to vantage6 5');
    return null;
  }
  if (typeof entry.value.password === 'string') {
    ctx.error(entry, ['password'], 'a user who signs in through an identity provider has no vantage6 password',
      'remove password: (a password they had is removed when the link is made)');
  }
  if (list(entry.value.required_actions).includes('update_password')) {
    ctx.error(entry, ['required_actions'], 'a user who signs in through an identity provider sets no vantage6 password', 'remove update_password');
  }
  if (provider === null || subject === null) return null;
  const known = providers.get(provider);
  if (known === undefined) {
    ctx.reference(entry, ['sign_in', 'provider'], 'identity provider', provider, new Set(providers.keys()));
    return null;
  }
  for (const fill of known.fills) {
    const field = filledField(fill);
    if (entry.value[field] !== undefined) {
      ctx.error(entry, [field], `identity provider ${JSON.stringify(provider)} fills in the ${field} of its users at every sign-in (fills:)`,
        `remove ${field}: here, or take it out of the provider's fills:`);
    }
  }
  if (organization !== null && !known.organizations.includes(organization)) {
    ctx.error(entry, ['sign_in', 'provider'], `identity provider ${JSON.stringify(provider)} does not serve organization ${JSON.stringify(organization)}, the user's`,
      `add ${JSON.stringify(organization)} to its organizations:, or link the user through a provider of their organization`);
    return null;
  }
  return { provider, subject };
}

/**
 * What Keycloak's links refuse (one identity at a provider linked to two
 * users), and what a provider that is `required` asks: every user of its
 * organizations signs in through a provider.
 */
export function checkSignIns(ctx: CheckContext, entries: readonly Entry[], users: readonly DesiredUser[], providers: readonly IdentityProvider[]): void {
  const entryOf = new Map(entries.map((entry) => [text(entry.value.username), entry]));
  const linked = new Map<string, string>();
  for (const user of users) {
    const entry = entryOf.get(user.username);
    if (entry === undefined) continue;
    if (user.signIn !== undefined) {
      const key = JSON.stringify([user.signIn.provider, user.signIn.subject]);
      const first = linked.get(key);
      if (first !== undefined) {
        ctx.error(entry, ['sign_in', 'subject'], `${JSON.stringify(user.signIn.subject)} at ${JSON.stringify(user.signIn.provider)} already signs in as user ${JSON.stringify(first)}`,
          'Keycloak links one identity to one user: give each user their own subject');
      } else {
        linked.set(key, user.username);
      }
      continue;
    }
    const requiring = providers.find((p) => p.required && user.organization !== null && p.organizations.includes(user.organization));
    if (requiring !== undefined) {
      ctx.error(entry, [], `users of organization ${JSON.stringify(user.organization)} sign in through identity provider ${JSON.stringify(requiring.alias)} (required: true), user ${JSON.stringify(user.username)} does not`,
        'add sign_in: { provider: …, subject: … } with who the user is there');
    }
  }
}
