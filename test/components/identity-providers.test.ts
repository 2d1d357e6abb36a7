import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IdentityProvider } from '../../src/federation.js';
import { isDigestOf, secretDigest } from '../../src/components/keycloak/client-secret.js';
import { liveProvider } from '../../src/components/keycloak/keycloak-providers.js';
import {
  FIRST_LOGIN_FLOW, driftOf, fillMapper, keptSettings, oidcSettings, providerRepresentation, samlSettings, type KeycloakMapper, type KeycloakProvider,
} from '../../src/components/keycloak/provider-settings.js';

const DISCOVERY = 'https://login.example.org/tenant/v2.0/.well-known/openid-configuration';

/** Metadata as institutions publish it: prefixed namespaces, several keys and bindings, certificates folded over lines. */
const METADATA = `<?xml version="1.0" encoding="UTF-8"?>
<!-- the university's IdP -->
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://idp.uni.example/saml">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>
      MIIBsigningA
      BBBB==
    </ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:KeyDescriptor use="encryption"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>MIIencrypt</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:KeyDescriptor><ds:KeyInfo><ds:X509Data><ds:X509Certificate>MIInext&#43;key</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.uni.example/slo"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.uni.example/sso/redirect"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`;

const provider = (fields: Partial<IdentityProvider> = {}): IdentityProvider => ({
  alias: 'umc', type: 'oidc', displayName: 'UMC & Co 🏥', metadata: DISCOVERY, clientId: 'vantage6', clientSecret: '${UMC_SECRET}',
  organizations: ['UMC'], required: false, fills: ['email=email', 'firstname=given_name'], onLoginPage: true, enabled: true, drift: [], ...fields,
});

describe('identity providers in Keycloak', () => {
  it('reads an OpenID Connect discovery document into the endpoints Keycloak keeps, and refuses one without them', () => {
    const settings = oidcSettings({
      issuer: 'https://login.example.org/tenant/v2.0', authorization_endpoint: 'https://login.example.org/authorize', token_endpoint: 'https://login.example.org/token',
      jwks_uri: 'https://login.example.org/keys', userinfo_endpoint: 'https://graph.example.org/oidc/userinfo',
    }, DISCOVERY);
    assert.equal(settings['config.tokenUrl'], 'https://login.example.org/token');
    assert.equal(settings['config.metadataDescriptorUrl'], DISCOVERY);
    assert.equal(settings['config.logoutUrl'], undefined, 'none where the document has none');
    assert.throws(() => oidcSettings({ issuer: 'x' }, DISCOVERY), /has no authorization_endpoint, token_endpoint, jwks_uri/);
  });

  it('reads SAML metadata: entity, the binding it takes, signing certificates without whitespace, persistent NameIDs; refuses metadata of no IdP', () => {
    const settings = samlSettings(METADATA, 'https://idp.uni.example/metadata');
    assert.equal(settings['config.idpEntityId'], 'https://idp.uni.example/saml');
    assert.equal(settings['config.singleSignOnServiceUrl'], 'https://idp.uni.example/sso/redirect');
    assert.equal(settings['config.postBindingAuthnRequest'], 'false');
    assert.equal(settings['config.signingCertificate'], 'MIIBsigningABBBB==,MIInext+key');
    assert.equal(settings['config.nameIDPolicyFormat'], 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent');
    assert.throws(() => samlSettings('<EntityDescriptor entityID="sp"><SPSSODescriptor/></EntityDescriptor>', 'https://x'), /describes no SAML identity provider/);
  });

  it('holds every provider to the first login that denies and no trust in its e-mail: what Keycloak has otherwise is drift, read back as none once written', () => {
    const want = provider();
    const kept = keptSettings(want, oidcSettings({ issuer: 'i', authorization_endpoint: 'a', token_endpoint: 't', jwks_uri: 'j' }, DISCOVERY));
    const written = providerRepresentation(want, kept, null, { value: 'Geheim!', digest: secretDigest('Geheim!') }) as unknown as KeycloakProvider;
    assert.deepEqual(driftOf(written, kept), []);
    assert.equal(written.firstBrokerLoginFlowAlias, FIRST_LOGIN_FLOW);
    const mappers = want.fills.map((fill) => fillMapper(want.alias, want.type, fill));
    assert.deepEqual(liveProvider(written, mappers, 1, want, kept, { UMC_SECRET: 'Geheim!' }), { ...want, id: 1 });
    // The console's edits: e-mail trusted, accounts made at a first login, the token URL elsewhere, the button hidden, the secret rotated.
    const edited: KeycloakProvider = {
      ...written, trustEmail: true, firstBrokerLoginFlowAlias: 'first broker login', hideOnLogin: true,
      config: { ...written.config, tokenUrl: 'https://evil.example/token' },
    };
    const live = liveProvider(edited, [{ ...mappers[0] as KeycloakMapper, config: { ...mappers[0]?.config, syncMode: 'IMPORT' } }], 1, want, kept, { UMC_SECRET: 'rotated' });
    assert.deepEqual(live.drift, [
      'firstBrokerLoginFlowAlias="first broker login" (should be "fedctl-deny-unlinked")', 'tokenUrl="https://evil.example/token" (should be "t")', 'trustEmail="true" (should be "false")',
    ]);
    assert.equal(live.onLoginPage, false);
    assert.deepEqual(live.fills, ['email: oidc-user-attribute-idp-mapper {"syncMode":"IMPORT","claim":"email","user.attribute":"email"}'], 'a mapper changed, one deleted');
    assert.equal(live.clientSecret, '(another secret)');
    // What an admin set that fedctl does not keep is carried over by a rewrite.
    const rewritten = providerRepresentation(want, kept, { ...edited, config: { ...edited.config, guiOrder: '3' } }, null) as { config: Record<string, string> };
    assert.equal(rewritten.config.guiOrder, '3');
    assert.equal(rewritten.config.tokenUrl, 't');
  });

  it('tells a secret by a salted digest that never shows it', () => {
    const digest = secretDigest('s3cr3t-Ω');
    assert.ok(!digest.includes('s3cr3t'));
    assert.notEqual(digest, secretDigest('s3cr3t-Ω'), 'salted');
    assert.ok(isDigestOf(digest, 's3cr3t-Ω'));
    assert.ok(!isDigestOf(digest, 's3cr3t'));
    assert.ok(!isDigestOf(undefined, 's3cr3t-Ω'));
    assert.ok(!isDigestOf('scrypt:bad', 's3cr3t-Ω'));
  });
});
