import got, { HTTPError, RequestError } from 'got';
import { FedctlError } from '../../errors.js';
import type { IdentityProvider, SignIn } from '../../federation.js';
import type { KeycloakChange } from '../../plan/plan.js';
import { isDigestOf, secretDigest, variableOf } from './client-secret.js';
import { UPDATE_PASSWORD, type KeycloakAdmin, type KeycloakUser } from './keycloak-admin.js';
import {
  DENY_ACCESS_AUTHENTICATOR, FIRST_LOGIN_FLOW, ORGANIZATIONS_KEY, REQUIRED_KEY, SECRET_DIGEST_KEY,
  driftOf, fillMapper, fillsOfMappers, isFillMapper, keptSettings, oidcSettings, providerRepresentation, samlSettings,
  type KeycloakMapper, type KeycloakProvider, type ProviderSettings,
} from './provider-settings.js';

export type LiveIdentityProvider = IdentityProvider & { readonly id: number };

/** What an OpenID Connect provider's discovery document or a SAML provider's metadata says, as Keycloak's settings; an error naming the provider when it cannot be read. */
export async function metadataSettings(provider: Pick<IdentityProvider, 'alias' | 'type' | 'metadata'>): Promise<ProviderSettings> {
  const what = provider.type === 'oidc' ? 'discovery document' : 'metadata';
  try {
    const text = await got(provider.metadata, { timeout: { request: 30_000 }, retry: { limit: 2 } }).text();
    return provider.type === 'oidc' ? oidcSettings(JSON.parse(text), provider.metadata) : samlSettings(text, provider.metadata);
  } catch (error) {
    const reason = error instanceof HTTPError ? `HTTP ${error.response.statusCode}` : error instanceof RequestError ? error.code : (error as Error).message;
    throw new FedctlError('SERVER_UNREACHABLE', `cannot read the ${what} of identity provider ${JSON.stringify(provider.alias)} at ${provider.metadata}: ${reason}`,
      `check its ${provider.type === 'oidc' ? 'discovery' : 'metadata'}: URL in the config, and that the provider answers from where fedctl runs`, { cause: error });
  }
}

/** The settings fedctl keeps of each provider of the config, read from their metadata at once. */
export async function keptSettingsOf(providers: readonly IdentityProvider[]): Promise<Map<string, ProviderSettings>> {
  const read = await Promise.all(providers.map(async (p) => [p.alias, keptSettings(p, await metadataSettings(p))] as const));
  return new Map(read);
}

function parsedList(value: string | undefined): string[] {
  try {
    const parsed: unknown = JSON.parse(value ?? '[]');
    return Array.isArray(parsed) ? parsed.filter((v): v is string => typeof v === 'string').sort() : [];
  } catch {
    return [];
  }
}

/**
 * A provider as Keycloak keeps it, in the config's terms: its client secret
 * the config's reference when the digest fedctl wrote is of the secret that
 * reference names now (`env`); its drift against `kept` (the config's
 * providers only).
 */
export function liveProvider(
  provider: KeycloakProvider, mappers: readonly KeycloakMapper[], id: number, want: IdentityProvider | undefined, kept: ProviderSettings | undefined, env: NodeJS.ProcessEnv,
): LiveIdentityProvider {
  const config = provider.config ?? {};
  const type = provider.providerId === 'saml' ? 'saml' : 'oidc';
  const reference = want?.clientSecret ?? null;
  const secret = reference === null ? undefined : env[variableOf(reference)];
  const clientSecret = config.clientSecret === undefined || config.clientSecret === '' ? null
    : reference !== null && secret !== undefined && isDigestOf(config[SECRET_DIGEST_KEY], secret) ? reference : '(another secret)';
  return {
    id, alias: provider.alias, type,
    displayName: provider.displayName === undefined || provider.displayName === '' ? null : provider.displayName,
    metadata: config.metadataDescriptorUrl ?? '',
    clientId: type === 'oidc' ? config.clientId ?? null : null,
    clientSecret: type === 'oidc' ? clientSecret : null,
    organizations: parsedList(config[ORGANIZATIONS_KEY]),
    required: config[REQUIRED_KEY] === 'true',
    fills: fillsOfMappers(type, mappers),
    onLoginPage: provider.hideOnLogin !== true,
    enabled: provider.enabled !== false,
    drift: kept === undefined ? [] : driftOf(provider, kept),
  };
}

/**
 * Whether the realm's first-login flow for providers is fedctl's: it
 * exists, and denies (its one step Deny Access, required). Any other step
 * could make an account for, or link by e-mail, someone the config did not
 * link.
 */
export async function checkFirstLoginFlow(admin: KeycloakAdmin, grant: string): Promise<void> {
  const steps = await admin.flowExecutions(FIRST_LOGIN_FLOW);
  if (steps === null) {
    throw new FedctlError('KEYCLOAK_ACCOUNT', `realm ${admin.realm} has no authentication flow ${FIRST_LOGIN_FLOW}, the first login fedctl holds identity providers to (it denies anyone the config did not link); nothing was changed`, grant);
  }
  const denies = steps.length === 1 && steps[0]?.providerId === DENY_ACCESS_AUTHENTICATOR && steps[0]?.requirement === 'REQUIRED';
  if (!denies) {
    const said = steps.map((s) => `${s.providerId ?? 'a sub-flow'} (${s.requirement ?? '?'})`).join(', ') || 'no step';
    throw new FedctlError('KEYCLOAK_ACCOUNT', `authentication flow ${FIRST_LOGIN_FLOW} of realm ${admin.realm} must only deny (one step, Deny Access, required), but has ${said}: someone the config did not link could get in; nothing was changed`,
      `in Keycloak's admin console, Authentication → ${FIRST_LOGIN_FLOW}: leave only the step Deny Access, Required`);
  }
}

/** What Keycloak says of the users' sign-ins: their link to each provider the config keeps, and whether those who sign in through one still hold a password. */
export interface SignIns {
  readonly byUser: ReadonlyMap<string, SignIn>;
  readonly holdingPassword: ReadonlySet<string>;
}

/**
 * The links of the users linked to the providers `aliases` (a call per
 * provider and per linked user), by Keycloak user id; and which of the
 * users `signingIn` (Keycloak ids) still hold a password.
 */
export async function readSignIns(admin: KeycloakAdmin, aliases: readonly string[], signingIn: readonly KeycloakUser[]): Promise<SignIns> {
  const linked = new Map<string, KeycloakUser>();
  for (const users of await Promise.all(aliases.map((alias) => admin.linkedUsers(alias)))) for (const user of users) linked.set(user.id, user);
  const keep = new Set(aliases);
  const byUser = new Map<string, SignIn>();
  await Promise.all([...linked.values()].map(async (user) => {
    const link = (await admin.links(user.id)).filter((l) => keep.has(l.identityProvider)).sort((a, b) => (a.identityProvider < b.identityProvider ? -1 : 1))[0];
    if (link !== undefined) byUser.set(user.id, { provider: link.identityProvider, subject: link.userId });
  }));
  // A password, or HQ's request for one at the next login: either lets a password in beside the provider.
  const holding = await Promise.all(signingIn.map(async (user) =>
    ((user.requiredActions ?? []).includes(UPDATE_PASSWORD) || (await admin.passwords(user.id)).length > 0 ? [user.id] : [])));
  return { byUser, holdingPassword: new Set(holding.flat()) };
}

/** The secret a provider's client gets, and the digest kept beside it; null for none (SAML). */
function secretOf(provider: IdentityProvider, env: NodeJS.ProcessEnv): { value: string; digest: string } | null {
  if (provider.clientSecret === null) return null;
  const variable = variableOf(provider.clientSecret);
  const value = env[variable];
  if (value === undefined) {
    throw new FedctlError('APPLY_STOPPED', `environment variable ${variable}, the client secret of identity provider ${JSON.stringify(provider.alias)}, is not set`, 'set it and run fedctl apply again');
  }
  return { value, digest: secretDigest(value) };
}

/**
 * Make and update the providers a plan changes, each written whole from the
 * config and its metadata read anew (safe to repeat); deletes are
 * `deleteProviders`', after the users' links are changed.
 */
export async function writeProviders(admin: KeycloakAdmin, changes: readonly KeycloakChange[], env: NodeJS.ProcessEnv): Promise<void> {
  const writes = changes.filter((c) => c.action !== 'delete');
  if (writes.length === 0) return;
  const kept = await keptSettingsOf(writes.map((c) => c.after as IdentityProvider));
  for (const change of writes) {
    const provider = change.after as IdentityProvider;
    const current = await admin.identityProvider(provider.alias);
    const representation = providerRepresentation(provider, kept.get(provider.alias) as ProviderSettings, current, secretOf(provider, env));
    await admin.writeIdentityProvider(provider.alias, representation, current !== null);
    await writeFillMappers(admin, provider);
  }
}

/** fedctl's mappers of a provider as its `fills:` says: those that differ deleted, those missing made (the admin's own left alone). */
async function writeFillMappers(admin: KeycloakAdmin, provider: IdentityProvider): Promise<void> {
  const wanted = new Map(provider.fills.map((fill) => [fill, fillMapper(provider.alias, provider.type, fill)]));
  const present = new Set<string>();
  for (const mapper of (await admin.providerMappers(provider.alias)).filter(isFillMapper)) {
    const fill = fillsOfMappers(provider.type, [mapper])[0] ?? '';
    if (wanted.has(fill) && !present.has(fill)) present.add(fill);
    else if (mapper.id !== undefined) await admin.deleteProviderMapper(provider.alias, mapper.id);
  }
  for (const [fill, mapper] of wanted) if (!present.has(fill)) await admin.addProviderMapper(provider.alias, mapper);
}

export async function deleteProviders(admin: KeycloakAdmin, changes: readonly KeycloakChange[]): Promise<void> {
  for (const change of changes) if (change.action === 'delete') await admin.deleteIdentityProvider(change.address);
}
