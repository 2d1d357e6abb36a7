import { describeServer, releaseProfile, type ServerProfile } from '../catalog/server-profile.js';
import { HQ_MINOR, NEWEST_MINOR, VERSION_SYNTAX, formatMinor, parseRelease, type Release } from '../catalog/vantage6-versions.js';
import {
  ENTITY_KINDS, NO_PRUNING, apiUrlOf, roleRefKey, type DesiredState, type EntityKind, type PreviousNames, type PruneSettings,
} from '../federation.js';
import type { Diagnostic, DocumentPath, SourceLocation } from '../diagnostic.js';
import { hasErrors } from '../diagnostic.js';
import { interpolateValue, type Environment, type InterpolationProblem } from './interpolate.js';
import type { ConfigDocument, LoadedConfig } from './load-config.js';
import { checkSchema } from './schema-check.js';
import { guardrailDiagnostics, type LocateUser } from './check-guardrails.js';
import { readPolicy } from './read-policy.js';
import { CheckContext, isRecord, text, type Entry } from './checks/check-context.js';
import { checkAlgorithmStores } from './checks/check-algorithm-stores.js';
import { checkCollaborations } from './checks/check-collaborations.js';
import { checkIdentityProviders, checkSignIns } from './checks/check-identity-providers.js';
import { checkOrganizations } from './checks/check-organizations.js';
import { checkPreviousNames } from './checks/check-previous-names.js';
import { checkRoles } from './checks/check-roles.js';
import { secretsSettings, serverAddressOf } from './checks/check-secrets.js';
import { checkStudies } from './checks/check-studies.js';
import { checkUsers } from './checks/check-users.js';

export interface ValidationResult {
  /** The desired state, present only when there are no errors. */
  readonly desired: DesiredState | null;
  readonly diagnostics: readonly Diagnostic[];
  /** The server the rules and studies were checked against. */
  readonly server: ServerProfile;
}

export interface ValidationOptions {
  /** The database's own catalogue and features: plan and apply check against what the server has. */
  readonly server?: ServerProfile;
  /** `--vantage6-version`: the release to check against without a database, over the config's `vantage6:`. */
  readonly version?: Release;
}

const KINDS = ['organizations', 'roles', 'users', 'collaborations', 'studies', 'algorithm_stores', 'identity_providers'] as const;
type ListKind = (typeof KINDS)[number];

/** Secrets stay `${VAR}` references: a user's password, read at apply time, and a provider's client secret, read by plan and apply. */
const isSecretPath = (path: DocumentPath): boolean => path.length === 3 && typeof path[1] === 'number'
  && ((path[0] === 'users' && path[2] === 'password') || (path[0] === 'identity_providers' && path[2] === 'client_secret'));

/**
 * Turn loaded documents into the desired state: interpolate `${VAR}`, check
 * each document against the JSON Schema, then check what a schema cannot
 * (references, uniqueness, the rule catalogue). Problems are collected, never
 * thrown, so one run reports them all; entries with schema errors are still
 * checked as far as their well-formed fields allow.
 */
export function validateConfig(loaded: LoadedConfig, env: Environment, options: ValidationOptions = {}): ValidationResult {
  const diagnostics: Diagnostic[] = [...loaded.diagnostics];
  const declared = declaredVersion(loaded.documents, diagnostics);
  const server = options.server ?? releaseProfile(options.version ?? declared?.release ?? { minor: NEWEST_MINOR, patch: null });
  if (options.server && declared && (declared.release.minor < server.versions.from || declared.release.minor > server.versions.to)) {
    diagnostics.push({
      severity: 'warning', location: declared.locate(), path: ['vantage6'],
      message: `the config is for vantage6 ${formatMinor(declared.release.minor)}, but the server is ${describeServer(server)}`,
      hint: 'rules and studies are checked against the server\'s own catalogue; update vantage6: to the server\'s version',
    });
  }
  const entries: Record<ListKind, Entry[]> = { organizations: [], roles: [], users: [], collaborations: [], studies: [], algorithm_stores: [], identity_providers: [] };

  for (const document of loaded.documents) {
    const problems: InterpolationProblem[] = [];
    const value = document.mayHoldReferences ? interpolateValue(document.value, env, isSecretPath, problems) : document.value;
    for (const problem of problems) {
      diagnostics.push({ severity: 'error', location: document.locate(problem.path), path: problem.path, message: problem.message, hint: problem.hint });
    }
    diagnostics.push(...checkSchema(document, value));
    if (!isRecord(value)) continue;
    for (const kind of KINDS) {
      const list = value[kind];
      if (!Array.isArray(list)) continue;
      list.forEach((item, index) => {
        if (isRecord(item)) entries[kind].push({ document, path: [kind, index], value: item });
      });
    }
  }

  const checked = checkEntries(new CheckContext(diagnostics, env, server), entries, pruneSettings(loaded.documents), loaded.documents);
  const located = readPolicy(loaded.documents, {
    usernames: new Set([...checked.users.map((u) => u.username), ...checked.storeUsers.map((u) => u.username)]),
    roleNames: new Set(checked.roles.map((r) => r.name)), storeRoleNames: new Set(checked.storeRoles.map((r) => r.name)), server,
  }, diagnostics);
  const desired: DesiredState = { ...checked, policy: located.map((l) => l.guardrail) };
  if (!hasErrors(diagnostics)) {
    const userEntries = new Map(entries.users.map((e) => [e.value.username, e]));
    const locateUser: LocateUser = (username) => {
      const entry = userEntries.get(username);
      return entry === undefined ? null : { location: entry.document.locate(entry.path), path: entry.path };
    };
    diagnostics.push(...guardrailDiagnostics(desired, located, locateUser, server));
  }
  return { desired: hasErrors(diagnostics) ? null : desired, diagnostics: sortByLocation(diagnostics), server };
}

/**
 * The `vantage6:` release the documents declare; several files must agree.
 * A malformed one has been reported by the schema check. Places are looked
 * up only for a problem: finding one can mean reading the file again.
 */
function declaredVersion(documents: readonly ConfigDocument[], diagnostics: Diagnostic[]): { release: Release; locate: () => SourceLocation } | null {
  let first: { release: Release; locate: () => SourceLocation; text: string } | null = null;
  for (const document of documents) {
    const text = isRecord(document.value) && typeof document.value.vantage6 === 'string' ? document.value.vantage6 : null;
    if (text === null || !VERSION_SYNTAX.test(text)) continue;
    const locate = (): SourceLocation => document.locate(['vantage6']);
    const release = parseRelease(text);
    if (release === null) {
      diagnostics.push({ severity: 'error', location: locate(), path: ['vantage6'], message: `fedctl does not know vantage6 ${text}`,
        hint: `it knows vantage6 ${formatMinor(0)} to ${formatMinor(NEWEST_MINOR)} and ${formatMinor(HQ_MINOR)}` });
    } else if (first === null) {
      first = { release, locate, text };
    } else if (first.release.minor !== release.minor) {
      const at = first.locate();
      diagnostics.push({ severity: 'error', location: locate(), path: ['vantage6'], message: `vantage6 ${text} disagrees with vantage6 ${first.text}`,
        hint: `declared at ${at.file}:${at.line}:${at.column}; all files are for one server` });
    }
  }
  return first && { release: first.release, locate: first.locate };
}

/** In file order, as an editor lists problems; unlocated ones first. */
function sortByLocation(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const rank = (d: Diagnostic): [string, number, number] => [d.location?.file ?? '', d.location?.line ?? 0, d.location?.column ?? 0];
  return [...diagnostics].sort((a, b) => {
    const [fa, la, ca] = rank(a);
    const [fb, lb, cb] = rank(b);
    return fa < fb ? -1 : fa > fb ? 1 : la - lb || ca - cb;
  });
}

const PRUNE_KINDS: Readonly<Record<string, EntityKind>> = {
  organizations: 'organization', collaborations: 'collaboration', nodes: 'node', studies: 'study', roles: 'role', users: 'user',
  algorithm_stores: 'algorithm_store', identity_providers: 'identity_provider', store_roles: 'store_role', store_users: 'store_user',
};

/** `prune:` of every document: a kind is pruned when any document asks for it. */
function pruneSettings(documents: readonly ConfigDocument[]): PruneSettings {
  const prune: Record<EntityKind, boolean> = { ...NO_PRUNING };
  for (const { value } of documents) {
    if (!isRecord(value)) continue;
    if (value.prune === true) for (const kind of ENTITY_KINDS) prune[kind] = true;
    if (isRecord(value.prune)) {
      for (const [plural, kind] of Object.entries(PRUNE_KINDS)) if (value.prune[plural] === true) prune[kind] = true;
    }
  }
  return prune;
}

/**
 * The API URL of a `server:` block that says `manage: api`, read from the
 * documents as loaded: the way in must be known before the config can be
 * checked against the server.
 */
export function configuredApi(documents: readonly ConfigDocument[]): string | null {
  for (const { value } of documents) {
    const address = isRecord(value) && isRecord(value.server) && value.server.manage === 'api' ? serverAddressOf(value.server) : null;
    if (address !== null) return apiUrlOf(address);
  }
  return null;
}

/** Whether a document asks to prune anything (`prune: true`, or a kind set to true), read as loaded. */
export function configuresPruning(documents: readonly ConfigDocument[]): boolean {
  return documents.some(({ value }) => isRecord(value)
    && (value.prune === true || (isRecord(value.prune) && Object.values(value.prune).some((kind) => kind === true))));
}

/** Every kind's checks, in the order their references need: what a desired state holds but its guardrails. */
function checkEntries(ctx: CheckContext, entries: Record<ListKind, Entry[]>, prune: PruneSettings, documents: readonly ConfigDocument[]): Omit<DesiredState, 'policy'> {
  const organizations = checkOrganizations(ctx, entries.organizations);
  const orgNames = new Set(organizations.map((o) => o.name));
  const usernames = new Set(entries.users.flatMap((entry) => text(entry.value.username) ?? []));
  // Which collaborations a store serves, as the config says it (its stores are checked after the collaborations they name).
  const servedByStores = (collaboration: string): boolean => entries.algorithm_stores.some(({ value }) =>
    value.collaborations === 'all' || (Array.isArray(value.collaborations) && value.collaborations.includes(collaboration)));
  const { collaborations, nodes, nodePolicies } = checkCollaborations(ctx, entries.collaborations, orgNames, usernames, servedByStores);
  const studies = checkStudies(ctx, entries.studies, collaborations, orgNames);
  const roles = checkRoles(ctx, entries.roles, orgNames);
  const identityProviders = checkIdentityProviders(ctx, entries.identity_providers, orgNames);
  const users = checkUsers(ctx, entries.users, orgNames, roles, configuredApi(documents) !== null, new Map(identityProviders.map((p) => [p.alias, p])));
  checkSignIns(ctx, entries.users, users, identityProviders);
  const { algorithmStores, storeRoles, storeUsers, managedStores, storePolicies } = checkAlgorithmStores(ctx, entries.algorithm_stores, new Set(collaborations.map((c) => c.name)));
  const byName = (field: string) => (entry: Entry): string | null => text(entry.value[field]);
  const roleKey = (entry: Entry, name: string): string =>
    roleRefKey({ name, organization: text(entry.value.organization) });
  const previousNames: PreviousNames = {
    organization: checkPreviousNames(ctx, 'organization', entries.organizations, 'previous_names', byName('name'), (_, n) => n),
    collaboration: checkPreviousNames(ctx, 'collaboration', entries.collaborations, 'previous_names', byName('name'), (_, n) => n),
    study: checkPreviousNames(ctx, 'study', entries.studies, 'previous_names', byName('name'), (_, n) => n),
    role: checkPreviousNames(ctx, 'role', entries.roles, 'previous_names', byName('name'), roleKey),
    user: checkPreviousNames(ctx, 'user', entries.users, 'previous_usernames', byName('username'), (_, n) => n),
  };
  // One document saying `history: false` is enough: a policy against extra tables wins.
  const history = !documents.some((d) => isRecord(d.value) && d.value.history === false);
  const nodeStores = Object.fromEntries(collaborations.flatMap(({ name }) => {
    const urls = algorithmStores.filter((st) => st.everyCollaboration || st.collaborations.includes(name)).map((st) => st.url);
    return urls.length === 0 ? [] : [[name, urls] as const];
  }));
  return {
    organizations, collaborations, nodes, studies, roles, users, algorithmStores, storeRoles, storeUsers, managedStores, storePolicies, identityProviders, previousNames, prune, history,
    secrets: {
      ...secretsSettings(ctx, documents, orgNames), ...(Object.keys(nodeStores).length > 0 ? { nodeStores } : {}),
      ...(Object.keys(nodePolicies).length > 0 ? { nodePolicies } : {}),
    },
    api: configuredApi(documents),
  };
}
