import { DEFAULT_ROLE_NAMES, parseRuleKey, readableSpelling, type RuleKey } from '../catalog/rule-catalog.js';
import { formatMinor, usesKeycloak } from '../catalog/vantage6-versions.js';
import { defaultNodeName, filledField, nodeKey, roleRefKey, type RoleRef } from '../federation.js';
import { STORE_POLICIES, storeReleaseFor } from '../catalog/store-catalog.js';
import type { LiveState } from '../state/live-state.js';
import { literal } from '../config/interpolate.js';

/** Objects export leaves out, each with the reason. */
export interface ExportSkip {
  readonly what: string;
  readonly reason: string;
}

export interface ExportResult {
  /** A config in the format of schemas/federation.schema.json. */
  readonly config: Record<string, unknown>;
  readonly skipped: readonly ExportSkip[];
}

/** A store's URL as a config can name it (the schema's pattern): with a path, without a trailing slash. */
const STORE_URL = /^https?:\/\/[^/\s?#]+\/[^\s?#]*[^/\s?#]$/;

/**
 * A store's own roles (not its built-in ones), its users of the server (not
 * fedctl's account) and its policies, where they were read (`export --store`):
 * a store read has at least its built-in roles. Policies the config cannot
 * name for the store's line are left out, each said.
 */
function exportStoreState(live: LiveState, url: string, skipped: ExportSkip[]): Record<string, unknown> {
  const roles = live.storeRoles.filter((role) => role.store === url);
  if (roles.length === 0) return {};
  const known = STORE_POLICIES[storeReleaseFor(usesKeycloak(live.server.versions.to))];
  const policies = Object.entries(live.storePolicies.find((p) => p.store === url)?.policies ?? {}).filter(([name]) => {
    if (name in known) return true;
    skipped.push({ what: `policy ${name} of store "${url}"`, reason: 'a config cannot name it for this store\'s line' });
    return false;
  });
  const rulesOf = (keys: readonly string[]): Record<string, unknown>[] => {
    const byResource = new Map<string, string[]>();
    for (const key of keys) {
      const [resource = '', operation = ''] = key.split(':');
      byResource.set(resource, [...(byResource.get(resource) ?? []), operation]);
    }
    return [...byResource].map(([resource, operations]) => ({ resource, operation: operations.length === 1 ? operations[0] : operations }));
  };
  return {
    roles: roles.filter((role) => !role.isDefault).map((role) => ({
      name: literal(role.name), ...present({ description: role.description }), rules: rulesOf(role.rules),
    })),
    users: live.storeUsers.filter((user) => user.store === url && user.account !== true)
      .map((user) => ({ username: literal(user.username), roles: user.roles.map(literal) })),
    ...(policies.length > 0 ? { policies: Object.fromEntries(policies) } : {}),
  };
}

/** Set only the fields that have a value: an omitted field is NULL on load. */
function present(fields: Record<string, string | null>): Record<string, string> {
  return Object.fromEntries(Object.entries(fields).flatMap(([key, value]) => (value === null ? [] : [[key, literal(value)]])));
}

/** Rules grouped by resource and scope, with readable spellings. */
function exportRules(keys: readonly RuleKey[]): Record<string, unknown>[] {
  const groups = new Map<string, { resource: string; scope: string; operations: string[] }>();
  for (const key of keys) {
    const rule = parseRuleKey(key);
    const group = `${rule.resource}:${rule.scope}`;
    const entry = groups.get(group) ?? { resource: rule.resource, scope: readableSpelling(rule.scope), operations: [] };
    entry.operations.push(readableSpelling(rule.operation));
    groups.set(group, entry);
  }
  return [...groups.values()].map(({ resource, scope, operations }) => ({
    resource, scope, operation: operations.length === 1 ? operations[0] : operations,
  }));
}

/**
 * The live federation as a config, such that planning it against the same
 * database shows no changes. No secrets; the server's own administrator,
 * fedctl's account and the built-in roles are left out (the root
 * organization too, unless something exported belongs to it).
 */
export function exportConfig(live: LiveState): ExportResult {
  const skipped: ExportSkip[] = [];
  const nodesByKey = new Map<string, LiveState['nodes'][number]>();
  for (const node of [...live.nodes].sort((a, b) => a.id - b.id)) {
    if (node.organization === null || node.collaboration === null) {
      skipped.push({ what: `node "${node.name}"`, reason: 'it has no organization or collaboration' });
      continue;
    }
    const key = nodeKey({ organization: node.organization, collaboration: node.collaboration });
    if (nodesByKey.has(key)) skipped.push({ what: `node "${node.name}"`, reason: 'its organization already has a node in this collaboration' });
    else nodesByKey.set(key, node);
  }
  const keycloak = usesKeycloak(live.server.versions.to);
  const collaborations = live.collaborations.map((collab) => ({
    name: literal(collab.name),
    encrypted: collab.encrypted,
    members: collab.members.map((organization) => {
      const node = nodesByKey.get(nodeKey({ organization, collaboration: collab.name }));
      nodesByKey.delete(nodeKey({ organization, collaboration: collab.name }));
      if (!node) return { organization: literal(organization), node: false };
      if (node.name === defaultNodeName(organization, collab.name, keycloak)) return { organization: literal(organization) };
      return { organization: literal(organization), node: { name: literal(node.name) } };
    }),
  }));
  for (const node of nodesByKey.values()) {
    skipped.push({ what: `node "${node.name}"`, reason: `organization "${node.organization}" is not a member of collaboration "${node.collaboration}"` });
  }

  const memberSets = new Map(live.collaborations.map((c) => [c.name, new Set(c.members)]));
  const studies = live.studies.map((study) => {
    const members = memberSets.get(study.collaboration) ?? new Set<string>();
    const outside = study.organizations.filter((o) => !members.has(o));
    if (outside.length > 0) skipped.push({ what: `study "${study.name}" organizations ${outside.map((o) => `"${o}"`).join(', ')}`, reason: 'they are not members of its collaboration' });
    return {
      name: literal(study.name),
      collaboration: literal(study.collaboration),
      organizations: study.organizations.filter((o) => members.has(o)).map(literal),
    };
  });

  const customRoles = live.roles.filter((role) => {
    if (role.isDefault) return false;
    if (DEFAULT_ROLE_NAMES.has(role.name)) {
      skipped.push({ what: `role "${role.name}"`, reason: 'a custom role with a built-in role\'s name cannot be managed' });
      return false;
    }
    return true;
  });
  const customKeys = new Set(customRoles.map(roleRefKey));
  const roles = customRoles.map((role) => ({
    name: literal(role.name),
    ...(role.organization === null ? {} : { organization: literal(role.organization) }),
    ...present({ description: role.description }),
    rules: exportRules(role.rules),
  }));

  /** A reference that resolves back to the same role from a user of `organization`. */
  const roleReference = (ref: RoleRef, organization: string): unknown => {
    if (ref.organization === organization) return literal(ref.name);
    if (ref.organization === null && !customKeys.has(roleRefKey({ name: ref.name, organization }))) return literal(ref.name);
    return ref.organization === null ? { name: literal(ref.name) } : { name: literal(ref.name), organization: literal(ref.organization) };
  };
  const identityProviders = exportIdentityProviders(live, skipped);
  const adopted = new Set(identityProviders.map((p) => p.alias));
  const filled = new Map((live.identityProviders ?? []).map((p) => [p.alias, new Set(p.fills.map(filledField))]));
  const filledBy = (alias: string | undefined): ReadonlySet<string> | undefined => (alias === undefined || !adopted.has(alias) ? undefined : filled.get(alias));
  const users = live.users.flatMap((user) => {
    if (user.username === live.server.owned.user || user.username === live.server.owned.account) return [];
    if (user.organization === null) {
      skipped.push({ what: `user "${user.username}"`, reason: 'it has no organization' });
      return [];
    }
    const organization = user.organization;
    return [{
      username: literal(user.username),
      organization: literal(organization),
      // What the user's provider fills in at every sign-in is the provider's, not the config's.
      ...present(Object.fromEntries(Object.entries({ firstname: user.firstname, lastname: user.lastname, email: user.email })
        .map(([field, value]) => [field, filledBy(user.signIn?.provider)?.has(field) === true ? null : value]))),
      ...(user.enabled ? {} : { enabled: false }),
      roles: user.roles.filter((ref) => ref.organization !== null || customKeys.has(roleRefKey(ref)) || DEFAULT_ROLE_NAMES.has(ref.name))
        .map((ref) => roleReference(ref, organization)),
      ...(user.rules.length > 0 ? { rules: exportRules(user.rules) } : {}),
      ...(user.signIn !== undefined && adopted.has(user.signIn.provider) ? { sign_in: { provider: literal(user.signIn.provider), subject: literal(user.signIn.subject) } } : {}),
    }];
  });

  const referenced = new Set<string>([
    ...users.map((u) => u.organization),
    ...roles.flatMap((r) => ('organization' in r ? [r.organization as string] : [])),
    ...collaborations.flatMap((c) => c.members.map((m) => m.organization)),
  ]);
  const organizations = live.organizations
    .filter((org) => org.name !== live.server.owned.organization || referenced.has(org.name))
    .map((org) => ({ name: literal(org.name), ...present({ domain: org.domain, address1: org.address1, address2: org.address2, zipcode: org.zipcode, country: org.country }) }));

  const algorithmStores = live.algorithmStores.flatMap((store) => {
    if (!STORE_URL.test(store.url)) {
      skipped.push({ what: `algorithm store "${store.url}"`, reason: 'its URL has no API path (a config names a store by its API\'s URL, e.g. https://store.example.org/api)' });
      return [];
    }
    return [{
      url: literal(store.url),
      ...(store.name === new URL(store.url).host ? {} : { name: literal(store.name) }),
      collaborations: store.everyCollaboration ? 'all' : store.collaborations.map(literal),
      ...exportStoreState(live, store.url, skipped),
    }];
  });

  // The oldest release the database fits: `fedctl validate` then checks the export against its catalogue.
  return {
    config: {
      version: 1, vantage6: formatMinor(live.server.versions.from), organizations, roles, users, collaborations, studies,
      ...(algorithmStores.length > 0 ? { algorithm_stores: algorithmStores } : {}),
      ...(identityProviders.length > 0 ? { identity_providers: identityProviders } : {}),
    },
    skipped,
  };
}

/** The environment variable an exported provider's client secret is read from: Keycloak shows the secret to nobody. */
export function secretVariableFor(alias: string): string {
  return `FEDCTL_IDP_${alias.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_SECRET`;
}

/**
 * Keycloak's identity providers as the config keeps them, those fedctl can
 * keep: read from a discovery document or metadata, serving organizations
 * (what fedctl wrote). Their client secrets are references to set.
 */
function exportIdentityProviders(live: LiveState, skipped: ExportSkip[]): { alias: string; [field: string]: unknown }[] {
  return (live.identityProviders ?? []).flatMap((p) => {
    const reason = p.metadata === '' ? `it names no ${p.type === 'oidc' ? 'discovery document' : 'metadata'} URL (fedctl reads a provider's endpoints and keys from there)`
      : p.organizations.length === 0 ? 'it serves no organization (add it to the config with organizations: to keep it)' : null;
    if (reason !== null) {
      skipped.push({ what: `identity provider "${p.alias}"`, reason });
      return [];
    }
    return [{
      alias: p.alias, type: p.type, ...present({ display_name: p.displayName }),
      ...(p.type === 'oidc'
        ? { discovery: literal(p.metadata), ...present({ client_id: p.clientId }), ...(p.clientSecret === null ? {} : { client_secret: `\${${secretVariableFor(p.alias)}}` }) }
        : { metadata: literal(p.metadata) }),
      organizations: p.organizations.map(literal),
      ...(p.required ? { required: true } : {}),
      ...(p.fills.length > 0 ? { fills: Object.fromEntries(p.fills.map((fill) => [filledField(fill), literal(fill.slice(filledField(fill).length + 1))])) } : {}),
      ...(p.onLoginPage ? {} : { on_login_page: false }), ...(p.enabled ? {} : { enabled: false }),
    }];
  });
}
