import { XMLParser } from 'fast-xml-parser';
import { filledField, type IdentityProvider, type IdentityProviderType } from '../../federation.js';

/**
 * The first-login flow fedctl holds every provider it keeps to: one step,
 * Deny Access. Keycloak runs a provider's first-login flow for an identity
 * it has no link for; with this one nobody the config did not link gets an
 * account, or is linked to one by e-mail. A realm administrator makes it
 * once (the README's step); fedctl checks it before it plans.
 */
export const FIRST_LOGIN_FLOW = 'fedctl-deny-unlinked';
export const DENY_ACCESS_AUTHENTICATOR = 'deny-access-authenticator';

/** Keycloak's values of one provider that fedctl keeps: top-level fields, and `config.` ones. */
export type ProviderSettings = Readonly<Record<string, string>>;

/** What a provider's discovery document or metadata says, as Keycloak's settings. */
export type MetadataSettings = ProviderSettings;

/** Keys of fedctl's own in a provider's Keycloak config: which organizations it serves, whether it is required, and the digest of its secret. */
export const ORGANIZATIONS_KEY = 'fedctl.organizations';
export const REQUIRED_KEY = 'fedctl.required';
export const SECRET_DIGEST_KEY = 'fedctl.clientSecretDigest';

/** What fedctl holds every provider to whatever the admin's console says: no trust in the provider's e-mail, a first login that denies. */
const SAFEGUARDS: ProviderSettings = {
  trustEmail: 'false', linkOnly: 'false', storeToken: 'false', firstBrokerLoginFlowAlias: FIRST_LOGIN_FLOW,
  // Names and e-mail are the config's or the user's: the provider fills in nothing (links are made by fedctl, so no first login imports anything).
  'config.syncMode': 'IMPORT',
};

/** An OpenID Connect discovery document's endpoints, as Keycloak's settings of a provider. */
export function oidcSettings(document: unknown, discovery: string): MetadataSettings {
  const d = (typeof document === 'object' && document !== null ? document : {}) as Record<string, unknown>;
  const url = (key: string): string | null => (typeof d[key] === 'string' ? d[key] as string : null);
  const required = ['issuer', 'authorization_endpoint', 'token_endpoint', 'jwks_uri'].filter((key) => url(key) === null);
  if (required.length > 0) throw new Error(`the discovery document at ${discovery} has no ${required.join(', ')}`);
  return {
    'config.metadataDescriptorUrl': discovery,
    'config.issuer': url('issuer') as string,
    'config.authorizationUrl': url('authorization_endpoint') as string,
    'config.tokenUrl': url('token_endpoint') as string,
    'config.jwksUrl': url('jwks_uri') as string,
    'config.useJwksUrl': 'true',
    'config.validateSignature': 'true',
    ...(url('userinfo_endpoint') === null ? {} : { 'config.userInfoUrl': url('userinfo_endpoint') as string }),
    ...(url('end_session_endpoint') === null ? {} : { 'config.logoutUrl': url('end_session_endpoint') as string }),
    'config.clientAuthMethod': 'client_secret_post',
    'config.pkceEnabled': 'true',
    'config.pkceMethod': 'S256',
  };
}

const SAML_BINDING = 'urn:oasis:names:tc:SAML:2.0:bindings:';
const PERSISTENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';

type XmlNode = Record<string, unknown>;
const nodes = (value: unknown): XmlNode[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]).filter((v): v is XmlNode => typeof v === 'object' && v !== null);
const textOf = (value: unknown): string => (typeof value === 'string' ? value : typeof value === 'object' && value !== null && typeof (value as XmlNode)['#text'] === 'string' ? (value as XmlNode)['#text'] as string : '');

/**
 * A SAML IdP's metadata, as Keycloak's settings of a provider: its entity
 * id, where to send people (HTTP-POST where it takes it, else Redirect),
 * where to log out, and the certificates its assertions are signed with.
 * Persistent NameIDs: a link must name the same person at every login.
 */
export function samlSettings(xml: string, metadata: string): MetadataSettings {
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', removeNSPrefix: true, htmlEntities: true });
  const root = parser.parse(xml) as XmlNode;
  const descriptor = nodes(root.EntityDescriptor)[0] ?? nodes(nodes(root.EntitiesDescriptor)[0]?.EntityDescriptor)[0];
  const idp = nodes(descriptor?.IDPSSODescriptor)[0];
  if (descriptor === undefined || idp === undefined) throw new Error(`the metadata at ${metadata} describes no SAML identity provider (no IDPSSODescriptor)`);
  const service = (kind: string, binding: string): string | null =>
    nodes(idp[kind]).find((s) => s['@Binding'] === `${SAML_BINDING}${binding}` && typeof s['@Location'] === 'string')?.['@Location'] as string | undefined ?? null;
  const post = service('SingleSignOnService', 'HTTP-POST');
  const sso = post ?? service('SingleSignOnService', 'HTTP-Redirect');
  if (sso === null) throw new Error(`the metadata at ${metadata} gives no SingleSignOnService with the HTTP-POST or HTTP-Redirect binding`);
  const certificates = nodes(idp.KeyDescriptor).filter((k) => k['@use'] === undefined || k['@use'] === 'signing')
    .flatMap((k) => nodes(k.KeyInfo).flatMap((info) => nodes(info.X509Data).map((data) => textOf(data.X509Certificate).replace(/\s+/g, ''))))
    .filter((cert) => cert !== '');
  if (certificates.length === 0) throw new Error(`the metadata at ${metadata} gives no signing certificate: Keycloak could not check what the provider signs`);
  const logout = service('SingleLogoutService', 'HTTP-POST') ?? service('SingleLogoutService', 'HTTP-Redirect');
  return {
    'config.metadataDescriptorUrl': metadata,
    'config.idpEntityId': String(descriptor['@entityID'] ?? ''),
    'config.singleSignOnServiceUrl': sso,
    'config.postBindingAuthnRequest': String(post !== null),
    'config.postBindingResponse': 'true',
    ...(logout === null ? {} : { 'config.singleLogoutServiceUrl': logout }),
    'config.signingCertificate': [...new Set(certificates)].join(','),
    'config.validateSignature': 'true',
    'config.wantAuthnRequestsSigned': 'false',
    'config.nameIDPolicyFormat': PERSISTENT,
    'config.principalType': 'SUBJECT',
  };
}

/** Everything fedctl keeps of a provider but its own fields: what its metadata says, and the safeguards. */
export function keptSettings(provider: Pick<IdentityProvider, 'clientId'>, metadata: MetadataSettings): ProviderSettings {
  return { ...metadata, ...(provider.clientId === null ? {} : { 'config.clientId': provider.clientId }), ...SAFEGUARDS };
}

/** A provider as Keycloak's admin API gives it (the parts fedctl reads). */
export interface KeycloakProvider {
  readonly alias: string;
  readonly providerId: string;
  readonly displayName?: string;
  readonly enabled?: boolean;
  readonly hideOnLogin?: boolean;
  readonly trustEmail?: boolean;
  readonly linkOnly?: boolean;
  readonly storeToken?: boolean;
  readonly firstBrokerLoginFlowAlias?: string;
  readonly config?: Readonly<Record<string, string>>;
}

/** One of Keycloak's values of a provider, by fedctl's key (`config.x` in its config), as a string; '' where it has none. */
export function settingOf(provider: KeycloakProvider, key: string): string {
  if (key.startsWith('config.')) return provider.config?.[key.slice('config.'.length)] ?? '';
  const value = (provider as unknown as Readonly<Record<string, unknown>>)[key];
  return value === undefined || value === null ? '' : String(value);
}

/** What Keycloak keeps otherwise than `kept` says, as `setting=value` (the value Keycloak has), sorted. */
export function driftOf(provider: KeycloakProvider, kept: ProviderSettings): string[] {
  return Object.entries(kept).filter(([key, value]) => settingOf(provider, key) !== value)
    .map(([key, value]) => `${key.replace(/^config\./, '')}=${JSON.stringify(settingOf(provider, key))} (should be ${JSON.stringify(value)})`).sort();
}

/**
 * The representation an apply writes: the config's fields, every kept
 * setting, fedctl's own keys; the rest of an existing provider's config
 * (what an admin set that fedctl does not keep) carried over.
 */
export function providerRepresentation(provider: IdentityProvider, kept: ProviderSettings, current: KeycloakProvider | null, secret: { value: string; digest: string } | null): Record<string, unknown> {
  const config: Record<string, string> = { ...(current?.config ?? {}) };
  const top: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(kept)) {
    if (key.startsWith('config.')) config[key.slice('config.'.length)] = value;
    else top[key] = value === 'true' ? true : value === 'false' ? false : value;
  }
  config[ORGANIZATIONS_KEY] = JSON.stringify(provider.organizations);
  config[REQUIRED_KEY] = String(provider.required);
  if (secret !== null) {
    config.clientSecret = secret.value;
    config[SECRET_DIGEST_KEY] = secret.digest;
  }
  return {
    ...(current ?? {}), ...top, alias: provider.alias, providerId: provider.type, enabled: provider.enabled, hideOnLogin: !provider.onLoginPage,
    displayName: provider.displayName ?? '', config,
  };
}

/** A mapper of a provider, as Keycloak's admin API gives it. */
export interface KeycloakMapper {
  readonly id?: string;
  readonly name: string;
  readonly identityProviderAlias?: string;
  readonly identityProviderMapper: string;
  readonly config?: Readonly<Record<string, string>>;
}

/** fedctl's mappers of a provider are named so: those are the ones it keeps; an admin's others are left alone. */
const FILL_MAPPER = 'fedctl fills ';
const USER_ATTRIBUTE: Readonly<Record<string, string>> = { firstname: 'firstName', lastname: 'lastName', email: 'email' };
const MAPPER_TYPE: Readonly<Record<IdentityProviderType, { readonly id: string; readonly claimKey: string }>> = {
  oidc: { id: 'oidc-user-attribute-idp-mapper', claimKey: 'claim' },
  saml: { id: 'saml-user-attribute-idp-mapper', claimKey: 'attribute.name' },
};

/** The mapper that fills a user's field from a claim (`field=claim`) at every sign-in (sync mode FORCE). */
export function fillMapper(alias: string, type: IdentityProviderType, fill: string): KeycloakMapper {
  const field = filledField(fill);
  return {
    name: `${FILL_MAPPER}${field}`, identityProviderAlias: alias, identityProviderMapper: MAPPER_TYPE[type].id,
    config: { syncMode: 'FORCE', [MAPPER_TYPE[type].claimKey]: fill.slice(field.length + 1), 'user.attribute': USER_ATTRIBUTE[field] ?? field },
  };
}

/** Whether a mapper is fedctl's. */
export const isFillMapper = (mapper: KeycloakMapper): boolean => mapper.name.startsWith(FILL_MAPPER);

/**
 * What a provider's mappers of fedctl fill in, as the config says it
 * (`field=claim`); one that does otherwise than fedctl made it (another
 * type, attribute or sync mode) is told by what it does.
 */
export function fillsOfMappers(type: IdentityProviderType, mappers: readonly KeycloakMapper[]): string[] {
  return mappers.filter(isFillMapper).map((mapper) => {
    const field = mapper.name.slice(FILL_MAPPER.length);
    const made = fillMapper('', type, `${field}=${mapper.config?.[MAPPER_TYPE[type].claimKey] ?? ''}`);
    const same = mapper.identityProviderMapper === made.identityProviderMapper
      && Object.entries(made.config ?? {}).every(([key, value]) => mapper.config?.[key] === value);
    return same ? `${field}=${mapper.config?.[MAPPER_TYPE[type].claimKey] ?? ''}` : `${field}: ${mapper.identityProviderMapper} ${JSON.stringify(mapper.config ?? {})}`;
  }).sort();
}
