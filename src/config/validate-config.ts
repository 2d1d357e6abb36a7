import {
  DEFAULT_ROLE_NAMES, OPERATIONS, OPERATION_SPELLINGS, RESERVED_ROLE_NAMES, SCOPES, SCOPE_SPELLINGS,
  parseRuleKey, readableSpelling, ruleKey, spelledValues, type RuleKey, type RuleTriple,
} from '../catalog/rule-catalog.js';
import { referenceCatalog } from '../catalog/reference-catalog.js';
import { describeServer, releaseProfile, type ServerProfile } from '../catalog/server-profile.js';
import {
  DOTTED_LOGIN_REFUSED, FEATURES, HQ_MINOR, NEWEST_MINOR, NODE_POLICIES_OF_4X_ONLY, NEWEST_OF_EACH_LINE, VERSION_SYNTAX, formatMinor, parseRelease, type Release,
} from '../catalog/vantage6-versions.js';
import {
  ENTITY_KINDS, FOREIGN_ROLE_REFUSAL, NO_PRUNING, REQUIRED_ACTIONS, apiUrlOf, isLoopback, defaultNodeName, isForeignRole, looksLikeRegex, roleRefKey, sortRoleRefs, sortedUnique,
  type AlgorithmStore, type Collaboration, type DesiredState, type ManagedStore, type StorePolicies, type StorePolicyValue, type StoreRole, type StoreUser, type DesiredUser, type EntityKind, type Node, type NodePolicies, type Organization, type PasswordSource,
  type PreviousNames, type PruneSettings, type RequiredAction, type Role, type RoleRef, type SecretsSettings, type ServerAddress, type Study,
} from '../federation.js';
import type { Diagnostic, DocumentPath, SourceLocation } from '../diagnostic.js';
import { hasErrors } from '../diagnostic.js';
import { interpolateValue, referencedVariable, type Environment, type InterpolationProblem } from './interpolate.js';
import type { ConfigDocument, LoadedConfig } from './load-config.js';
import { checkSchema } from './schema-check.js';
import { guardrailDiagnostics, type LocateUser } from './check-guardrails.js';
import { readPolicy } from './read-policy.js';
import { didYouMean } from '../suggest.js';
import { idna2003Ascii, idna2008Ascii, idnaFormsDiffer } from '../email-domain.js';
import { STORE_POLICIES, storeCatalog, storeReleaseFor, storeRuleKey, whitelistsAtStore, type StoreRuleKey } from '../catalog/store-catalog.js';
import { ownValue } from '../own-property.js';
import { messageOf } from '../errors.js';

/** The resources of the newest releases fedctl knows: those the schema accepts. */
const NEWEST_RESOURCES: ReadonlySet<string> = new Set(NEWEST_OF_EACH_LINE.flatMap((release) => referenceCatalog(release).rules.map((rule) => rule.resource)));

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

const KINDS = ['organizations', 'roles', 'users', 'collaborations', 'studies', 'algorithm_stores'] as const;
type ListKind = (typeof KINDS)[number];

/** One list item of the merged config, and where it came from. */
interface Entry {
  readonly document: ConfigDocument;
  readonly path: DocumentPath;
  readonly value: Readonly<Record<string, unknown>>;
}

const isPasswordPath = (path: DocumentPath): boolean =>
  path.length === 3 && path[0] === 'users' && typeof path[1] === 'number' && path[2] === 'password';

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
  const entries: Record<ListKind, Entry[]> = { organizations: [], roles: [], users: [], collaborations: [], studies: [], algorithm_stores: [] };

  for (const document of loaded.documents) {
    const problems: InterpolationProblem[] = [];
    const value = document.mayHoldReferences ? interpolateValue(document.value, env, isPasswordPath, problems) : document.value;
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

  const checker = new SemanticChecker(diagnostics, env, server);
  const checked = checker.check(entries, pruneSettings(loaded.documents), loaded.documents);
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
  algorithm_stores: 'algorithm_store', store_roles: 'store_role', store_users: 'store_user',
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

/** A `server:` block's address, with the defaults filled in; null when it has no URL (the schema check says why). */
function serverAddressOf(value: unknown): ServerAddress | null {
  if (!isRecord(value) || typeof value.url !== 'string') return null;
  return {
    url: value.url,
    port: typeof value.port === 'number' ? value.port : value.url.startsWith('https:') ? 443 : 7601,
    apiPath: typeof value.api_path === 'string' ? value.api_path : null,
    keycloak: isRecord(value.keycloak) && typeof value.keycloak.url === 'string'
      ? { url: value.keycloak.url.replace(/\/+$/, ''), realm: typeof value.keycloak.realm === 'string' ? value.keycloak.realm : 'vantage6' }
      : null,
  };
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

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function text(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** An optional text field: empty is none, as the server reads it. */
function optionalText(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

class SemanticChecker {
  /** The server's rules by resource, and all their keys (checked for every rule of every role and user). */
  private readonly rules = new Map<string, RuleTriple[]>();
  private readonly ruleKeys: ReadonlySet<string>;
  private readonly serverName: string;

  constructor(
    private readonly diagnostics: Diagnostic[],
    private readonly env: Environment,
    private readonly server: ServerProfile,
  ) {
    this.serverName = describeServer(server);
    for (const key of server.rules) {
      const rule = parseRuleKey(key);
      this.rules.set(rule.resource, [...(this.rules.get(rule.resource) ?? []), rule]);
    }
    this.ruleKeys = new Set(server.rules);
  }

  private error(entry: Entry, sub: DocumentPath, message: string, hint?: string): void {
    const path = [...entry.path, ...sub];
    this.diagnostics.push({ severity: 'error', location: entry.document.locate(path), path, message, hint });
  }

  private warning(entry: Entry, sub: DocumentPath, message: string, hint?: string): void {
    const path = [...entry.path, ...sub];
    this.diagnostics.push({ severity: 'warning', location: entry.document.locate(path), path, message, hint });
  }

  private where(entry: Entry, sub: DocumentPath = []): string {
    const location: SourceLocation = entry.document.locate([...entry.path, ...sub]);
    return `${location.file}:${location.line}:${location.column}`;
  }

  /** Registers identities, reporting the second of two equal ones with the place of the first. */
  private unique<K>(what: string, identity: (entry: Entry) => K | null, keyOf: (k: K) => string, entries: Entry[], field: string, describe: (k: K) => string): Map<string, Entry> {
    const seen = new Map<string, Entry>();
    for (const entry of entries) {
      const id = identity(entry);
      if (id === null) continue;
      const key = keyOf(id);
      const first = seen.get(key);
      if (first) {
        this.error(entry, [field], `duplicate ${what} ${describe(id)}`, `already declared at ${this.where(first, [field])}`);
      } else {
        seen.set(key, entry);
      }
    }
    return seen;
  }

  check(entries: Record<ListKind, Entry[]>, prune: PruneSettings, documents: readonly ConfigDocument[]): Omit<DesiredState, 'policy'> {
    const organizations = this.checkOrganizations(entries.organizations);
    const orgNames = new Set(organizations.map((o) => o.name));
    const usernames = new Set(entries.users.flatMap((entry) => text(entry.value.username) ?? []));
    // Which collaborations a store serves, as the config says it (its stores are checked after the collaborations they name).
    const servedByStores = (collaboration: string): boolean => entries.algorithm_stores.some(({ value }) =>
      value.collaborations === 'all' || (Array.isArray(value.collaborations) && value.collaborations.includes(collaboration)));
    const { collaborations, nodes, nodePolicies } = this.checkCollaborations(entries.collaborations, orgNames, usernames, servedByStores);
    const studies = this.checkStudies(entries.studies, collaborations, orgNames);
    const roles = this.checkRoles(entries.roles, orgNames);
    const users = this.checkUsers(entries.users, orgNames, roles, configuredApi(documents) !== null);
    const { algorithmStores, storeRoles, storeUsers, managedStores, storePolicies } = this.checkAlgorithmStores(entries.algorithm_stores, new Set(collaborations.map((c) => c.name)));
    const byName = (field: string) => (entry: Entry): string | null => text(entry.value[field]);
    const roleKey = (entry: Entry, name: string): string =>
      roleRefKey({ name, organization: text(entry.value.organization) });
    const previousNames: PreviousNames = {
      organization: this.previousNames('organization', entries.organizations, 'previous_names', byName('name'), (_, n) => n),
      collaboration: this.previousNames('collaboration', entries.collaborations, 'previous_names', byName('name'), (_, n) => n),
      study: this.previousNames('study', entries.studies, 'previous_names', byName('name'), (_, n) => n),
      role: this.previousNames('role', entries.roles, 'previous_names', byName('name'), roleKey),
      user: this.previousNames('user', entries.users, 'previous_usernames', byName('username'), (_, n) => n),
    };
    // One document saying `history: false` is enough: a policy against extra tables wins.
    const history = !documents.some((d) => isRecord(d.value) && d.value.history === false);
    const nodeStores = Object.fromEntries(collaborations.flatMap(({ name }) => {
      const urls = algorithmStores.filter((st) => st.everyCollaboration || st.collaborations.includes(name)).map((st) => st.url);
      return urls.length === 0 ? [] : [[name, urls] as const];
    }));
    return {
      organizations, collaborations, nodes, studies, roles, users, algorithmStores, storeRoles, storeUsers, managedStores, storePolicies, previousNames, prune, history,
      secrets: {
        ...this.secretsSettings(documents, orgNames), ...(Object.keys(nodeStores).length > 0 ? { nodeStores } : {}),
        ...(Object.keys(nodePolicies).length > 0 ? { nodePolicies } : {}),
      },
      api: configuredApi(documents),
    };
  }

  /**
   * `secrets:` and `server:` of every document: recipients are merged; an
   * organization's recipients need the organization, and a server to point
   * its node files at; `server:` is given once.
   */
  private secretsSettings(documents: readonly ConfigDocument[], orgNames: ReadonlySet<string>): SecretsSettings {
    const recipients = new Set<string>();
    const organizations = new Map<string, Set<string>>();
    let server: { address: ServerAddress; entry: Entry } | null = null;
    const needsServer: Entry[] = [];
    for (const document of documents) {
      if (!isRecord(document.value)) continue;
      const { secrets, server: serverValue } = document.value;
      if (isRecord(secrets)) {
        for (const item of list(secrets.recipients)) if (typeof item === 'string') recipients.add(item);
        if (isRecord(secrets.organizations)) {
          for (const [organization, keys] of Object.entries(secrets.organizations)) {
            const entry: Entry = { document, path: ['secrets', 'organizations'], value: secrets.organizations };
            if (!this.reference(entry, [organization], 'organization', organization, orgNames)) continue;
            const set = organizations.get(organization) ?? new Set<string>();
            for (const key of list(keys)) if (typeof key === 'string') set.add(key);
            organizations.set(organization, set);
            needsServer.push(entry);
          }
        }
      }
      const address = serverAddressOf(serverValue);
      if (address !== null) {
        const entry: Entry = { document, path: ['server'], value: serverValue as Record<string, unknown> };
        if (server !== null && JSON.stringify(server.address) !== JSON.stringify(address)) {
          this.error(entry, [], 'server is given twice, differently', `first at ${this.where(server.entry)}; a federation has one server`);
        } else {
          server ??= { address, entry };
        }
      }
    }
    if (server === null && needsServer[0]) {
      this.error(needsServer[0], [], 'organizations have recipients, but there is no server: block',
        'add server: { url: https://… } so that their node configuration files point at the server');
    }
    return {
      recipients: [...recipients],
      organizations: Object.fromEntries([...organizations].map(([name, keys]) => [name, [...keys]])),
      server: server?.address ?? null,
    };
  }

  /**
   * Previous names of renamed entities, by the identity key of the entity now.
   * A previous name must not be another entity's name, nor claimed twice.
   */
  private previousNames(kind: string, entries: Entry[], field: string, nameOf: (entry: Entry) => string | null,
    keyOf: (entry: Entry, name: string) => string): Record<string, string[]> {
    const current = new Set(entries.flatMap((entry) => {
      const name = nameOf(entry);
      return name === null ? [] : [keyOf(entry, name)];
    }));
    const claimed = new Map<string, Entry>();
    const out = new Map<string, string[]>();
    for (const entry of entries) {
      const name = nameOf(entry);
      if (name === null) continue;
      list(entry.value[field]).forEach((item, index) => {
        if (typeof item !== 'string') return;
        const key = keyOf(entry, item);
        if (item === name) {
          this.error(entry, [field, index], `a previous name cannot be the current name ${JSON.stringify(name)}`);
        } else if (current.has(key)) {
          this.error(entry, [field, index], `${JSON.stringify(item)} is the name of another ${kind} in the config`, 'a rename needs the old name to be free');
        } else if (claimed.has(key)) {
          this.error(entry, [field, index], `${JSON.stringify(item)} is also a previous name of another ${kind}`,
            `at ${this.where(claimed.get(key) as Entry, [field])}; only one can take over the old ${kind}`);
        } else {
          claimed.set(key, entry);
          const now = keyOf(entry, name);
          out.set(now, [...(out.get(now) ?? []), item]);
        }
      });
    }
    return Object.fromEntries(out);
  }

  private reference(entry: Entry, sub: DocumentPath, kind: string, name: string, known: ReadonlySet<string>): boolean {
    if (known.has(name)) return true;
    this.error(entry, sub, `unknown ${kind} ${JSON.stringify(name)}`, didYouMean(name, known) ?? `declare it under ${kind === 'organization' ? 'organizations' : `${kind}s`}`);
    return false;
  }

  private checkOrganizations(entries: Entry[]): Organization[] {
    const byName = this.unique('organization', (e) => text(e.value.name), String, entries, 'name', (n) => JSON.stringify(n));
    return [...byName.values()].map(({ value }) => ({
      name: value.name as string,
      domain: optionalText(value.domain),
      address1: optionalText(value.address1),
      address2: optionalText(value.address2),
      zipcode: optionalText(value.zipcode),
      country: optionalText(value.country),
    }));
  }

  private checkCollaborations(entries: Entry[], orgNames: ReadonlySet<string>, usernames: ReadonlySet<string>, servedByStores: (collaboration: string) => boolean): { collaborations: Collaboration[]; nodes: Node[]; nodePolicies: Record<string, NodePolicies> } {
    const byName = this.unique('collaboration', (e) => text(e.value.name), String, entries, 'name', (n) => JSON.stringify(n));
    const collaborations: Collaboration[] = [];
    const nodes: Node[] = [];
    const nodePolicies: Record<string, NodePolicies> = Object.create(null) as Record<string, NodePolicies>;
    const policiesOf: { entry: Entry; index: number; node: string; value: Record<string, unknown> }[] = [];
    const nodeNames = new Map<string, { entry: Entry; sub: DocumentPath }>();
    for (const entry of byName.values()) {
      const name = entry.value.name as string;
      const members = new Map<string, number>();
      list(entry.value.members).forEach((member, index) => {
        if (!isRecord(member)) return;
        const organization = text(member.organization);
        if (organization === null) return;
        const sub = ['members', index, 'organization'];
        if (members.has(organization)) {
          this.error(entry, sub, `organization ${JSON.stringify(organization)} is listed twice as a member`, `first at ${this.where(entry, ['members', members.get(organization) ?? 0])}`);
          return;
        }
        members.set(organization, index);
        if (!this.reference(entry, sub, 'organization', organization, orgNames)) return;
        if (member.node === false) return;
        const fallback = defaultNodeName(organization, name, this.server.keycloak);
        const nodeName = isRecord(member.node) ? text(member.node.name) ?? fallback : fallback;
        const nodeSub = ['members', index, ...(isRecord(member.node) && typeof member.node.name === 'string' ? ['node', 'name'] : ['organization'])];
        if (this.server.keycloak && /\s/.test(nodeName)) {
          this.error(entry, nodeSub, `${this.serverName} refuses node name ${JSON.stringify(nodeName)}: vantage6 5 names a node's Keycloak client after it, without spaces`,
            'set node.name to a name without spaces');
          return;
        }
        const clash = nodeNames.get(nodeName);
        if (clash) {
          this.error(entry, nodeSub, `node name ${JSON.stringify(nodeName)} is already used`, `by the node at ${this.where(clash.entry, clash.sub)}; node names are unique on the server, set node.name`);
          return;
        }
        nodeNames.set(nodeName, { entry, sub: nodeSub });
        nodes.push({ organization, collaboration: name, name: nodeName });
        if (isRecord(member.node) && isRecord(member.node.policies)) policiesOf.push({ entry, index, node: nodeName, value: member.node.policies });
      });
      collaborations.push({
        name,
        encrypted: typeof entry.value.encrypted === 'boolean' ? entry.value.encrypted : true,
        members: sortedUnique(members.keys()),
      });
    }
    const membersOf = new Map(collaborations.map((c) => [c.name, new Set(c.members)]));
    for (const { entry, index, node, value } of policiesOf) {
      const collaboration = entry.value.name as string;
      nodePolicies[node] = this.nodePolicies(entry, ['members', index, 'node', 'policies'], value,
        { orgNames, usernames, members: membersOf.get(collaboration) ?? new Set(), storesServe: servedByStores(collaboration) });
    }
    return { collaborations, nodes, nodePolicies };
  }

  /**
   * A node's policies: organizations the config declares (a warning for one
   * outside the collaboration, whose users cannot send it tasks), users it
   * declares (their ids are written, which fedctl knows only of users it
   * manages), and algorithm patterns the node reads as regular expressions
   * checked to be such.
   */
  private nodePolicies(entry: Entry, sub: DocumentPath, value: Record<string, unknown>,
    known: { orgNames: ReadonlySet<string>; usernames: ReadonlySet<string>; members: ReadonlySet<string>; storesServe: boolean }): NodePolicies {
    const { orgNames, members } = known;
    // The node's file names users by the id the server gave them: only users of the config have one fedctl knows.
    const users = list(value.allowed_users).flatMap((item, i) =>
      (typeof item === 'string' && this.reference(entry, [...sub, 'allowed_users', i], 'user', item, known.usernames) ? [item] : []));
    const organizations = list(value.allowed_organizations).flatMap((item, i) => {
      if (typeof item !== 'string' || !this.reference(entry, [...sub, 'allowed_organizations', i], 'organization', item, orgNames)) return [];
      if (!members.has(item)) {
        this.warning(entry, [...sub, 'allowed_organizations', i], `organization ${JSON.stringify(item)} is not a member of ${JSON.stringify(entry.value.name)}: its users cannot send this node tasks`,
          'add it to the collaboration\'s members, or remove it here');
      }
      return [item];
    });
    const algorithms = list(value.allowed_algorithms).flatMap((item, i) => {
      if (typeof item !== 'string') return [];
      if (looksLikeRegex(item)) {
        try {
          // Without the u flag JavaScript reads escapes as leniently as Python's re (\- and the like).
          new RegExp(item);
        } catch (error) {
          this.error(entry, [...sub, 'allowed_algorithms', i], `the node reads ${JSON.stringify(item)} as a regular expression, and it is not one: ${messageOf(error)}`,
            'escape the special characters of an image name (\\. for a dot), or write the image name without them');
          return [];
        }
      }
      return [item];
    });
    // The node reads an empty list as no limit at all, not as "none".
    for (const key of ['allowed_algorithms', 'allowed_organizations', 'allowed_users']) {
      if (Array.isArray(value[key]) && value[key].length === 0) {
        this.warning(entry, [...sub, key], `the node reads an empty ${key} as no limit: ${key === 'allowed_algorithms' ? 'every algorithm runs' : 'every user of the collaboration may send it tasks'}`,
          'list what it allows, or remove the key');
      }
    }
    if (value.allow_either_whitelist_or_store === true) {
      const lifted = !(Array.isArray(value.allowed_algorithms) && value.allowed_algorithms.length > 0)
        ? 'without allowed_algorithms, this lets the node run every algorithm, from any store'
        : known.storesServe ? null : 'no algorithm store serves this collaboration: this lets the node run every algorithm, not only allowed_algorithms';
      if (lifted !== null) this.warning(entry, [...sub, 'allow_either_whitelist_or_store'], lifted, 'remove allow_either_whitelist_or_store, or give the node both limits');
    }
    for (const key of NODE_POLICIES_OF_4X_ONLY) {
      if (this.server.keycloak && key in value) {
        this.error(entry, [...sub, key], `${describeServer(this.server)} nodes have no policy ${key} (it is a policy of 4.x's nodes)`, 'remove it');
      }
    }
    return {
      ...(value.allowed_algorithms === undefined ? {} : { allowedAlgorithms: algorithms }),
      ...(value.allowed_organizations === undefined ? {} : { allowedOrganizations: sortedUnique(organizations) }),
      ...(value.allowed_users === undefined ? {} : { allowedUsers: sortedUnique(users) }),
      ...(typeof value.require_algorithm_pull === 'boolean' ? { requireAlgorithmPull: value.require_algorithm_pull } : {}),
      ...(typeof value.allow_either_whitelist_or_store === 'boolean' ? { allowEitherWhitelistOrStore: value.allow_either_whitelist_or_store } : {}),
      ...(typeof value.allow_basics_algorithm === 'boolean' && !this.server.keycloak ? { allowBasicsAlgorithm: value.allow_basics_algorithm } : {}),
    };
  }

  private checkStudies(entries: Entry[], collaborations: readonly Collaboration[], orgNames: ReadonlySet<string>): Study[] {
    const byName = this.unique('study', (e) => text(e.value.name), String, entries, 'name', (n) => JSON.stringify(n));
    const collabByName = new Map(collaborations.map((c) => [c.name, c]));
    const studies: Study[] = [];
    if (!this.server.studies) {
      for (const entry of byName.values()) {
        this.error(entry, ['name'], `${describeServer(this.server)} has no studies`,
          `studies come with vantage6 ${formatMinor(FEATURES.studies.since)}; remove the study or upgrade the server first`);
      }
      return studies;
    }
    for (const entry of byName.values()) {
      const collaborationName = text(entry.value.collaboration);
      if (collaborationName === null) continue;
      const collaboration = collabByName.get(collaborationName);
      if (!collaboration) {
        this.error(entry, ['collaboration'], `unknown collaboration ${JSON.stringify(collaborationName)}`, didYouMean(collaborationName, collabByName.keys()) ?? 'declare it under collaborations');
        continue;
      }
      const organizations: string[] = [];
      list(entry.value.organizations).forEach((item, index) => {
        const organization = text(item);
        if (organization === null) return;
        if (organizations.includes(organization)) {
          this.error(entry, ['organizations', index], `organization ${JSON.stringify(organization)} is listed twice`);
          return;
        }
        if (!this.reference(entry, ['organizations', index], 'organization', organization, orgNames)) return;
        if (!collaboration.members.includes(organization)) {
          this.error(entry, ['organizations', index], `organization ${JSON.stringify(organization)} is not a member of collaboration ${JSON.stringify(collaborationName)}`, 'a study can only include members of its collaboration; add it to the collaboration\'s members');
          return;
        }
        organizations.push(organization);
      });
      studies.push({ name: entry.value.name as string, collaboration: collaborationName, organizations: sortedUnique(organizations) });
    }
    return studies;
  }

  /**
   * Stores by URL (as the server compares them: without a trailing slash),
   * linked to declared collaborations; their own roles and users, checked
   * against the store release the server's line links to.
   */
  private checkAlgorithmStores(entries: Entry[], collaborationNames: ReadonlySet<string>): Pick<DesiredState, 'algorithmStores' | 'storeRoles' | 'storeUsers' | 'managedStores' | 'storePolicies'> {
    const none = { algorithmStores: [], storeRoles: [], storeUsers: [], managedStores: [], storePolicies: [] };
    const byUrl = this.unique('algorithm store', (e) => text(e.value.url), String, entries, 'url', (url) => url);
    if (!this.server.algorithmStores) {
      for (const entry of byUrl.values()) {
        this.error(entry, ['url'], `${this.serverName} has no algorithm stores`,
          `algorithm stores come with vantage6 ${formatMinor(FEATURES.algorithmStores.since)}; remove the store or upgrade the server first`);
      }
      return none;
    }
    const result: { algorithmStores: AlgorithmStore[]; storeRoles: StoreRole[]; storeUsers: StoreUser[]; managedStores: ManagedStore[]; storePolicies: StorePolicies[] } = {
      algorithmStores: [], storeRoles: [], storeUsers: [], managedStores: [], storePolicies: [],
    };
    for (const entry of byUrl.values()) {
      const url = entry.value.url as string;
      if (isLoopback(url) && whitelistsAtStore(this.server.keycloak)) {
        this.warning(entry, ['url'], `store ${url} is on this machine: fedctl links it with the server's force flag`,
          'fit for a development server only; give the address the server reaches the store at');
      }
      const all = entry.value.collaborations === 'all';
      const collaborations: string[] = [];
      list(entry.value.collaborations).forEach((item, index) => {
        const name = text(item);
        if (name !== null && this.reference(entry, ['collaborations', index], 'collaboration', name, collaborationNames)) collaborations.push(name);
      });
      result.algorithmStores.push({
        url,
        name: text(entry.value.name) ?? new URL(url).host,
        everyCollaboration: all,
        collaborations: sortedUnique(collaborations),
      });
      const users = Array.isArray(entry.value.users);
      const roles = Array.isArray(entry.value.roles);
      const policies = isRecord(entry.value.policies);
      if (!users && !roles && !policies) continue;
      result.managedStores.push({ url, users, roles, policies });
      if (policies) result.storePolicies.push({ store: url, policies: this.checkStorePolicies(entry, entry.value.policies as Record<string, unknown>) });
      const storeRoles = this.checkStoreRoles(entry, url);
      result.storeRoles.push(...storeRoles);
      result.storeUsers.push(...this.checkStoreUsers(entry, url, new Set(storeRoles.map((r) => r.name))));
    }
    return result;
  }

  /** A store's policies, as the store release the server's line links to takes them: each a value of its line. */
  private checkStorePolicies(store: Entry, policies: Readonly<Record<string, unknown>>): Record<string, StorePolicyValue> {
    const release = storeReleaseFor(this.server.keycloak);
    const known = STORE_POLICIES[release];
    const checked: Record<string, StorePolicyValue> = {};
    for (const [name, value] of Object.entries(policies)) {
      const allowed = ownValue(known, name);
      if (allowed === undefined) {
        const other = release === '5.0' ? '4.x' : 'vantage6 5';
        this.error(store, ['policies', name], `algorithm store ${release} has no policy ${name}`, `it is a policy of ${other}'s stores; this store takes: ${Object.keys(known).join(', ')}`);
        continue;
      }
      if (allowed !== null && !allowed.includes(String(value))) {
        this.error(store, ['policies', name], `algorithm store ${release} takes no ${name} ${JSON.stringify(value)}`, `it takes: ${allowed.join(', ')}`);
        continue;
      }
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') checked[name] = value;
      else if (Array.isArray(value)) checked[name] = sortedUnique(value.filter((item): item is string => typeof item === 'string'));
    }
    return checked;
  }

  /** A store's own roles: unique names that are not built-in ones, and rules its release has. */
  private checkStoreRoles(store: Entry, url: string): StoreRole[] {
    const catalog = storeCatalog(storeReleaseFor(this.server.keycloak));
    const builtIn = new Set(catalog.defaultRoles.map((r) => r.name));
    const entries = list(store.value.roles).flatMap((item, index) => (isRecord(item) ? [{ document: store.document, path: [...store.path, 'roles', index], value: item }] : []));
    const byName = this.unique('store role', (e) => text(e.value.name), String, entries, 'name', (n) => JSON.stringify(n));
    const roles: StoreRole[] = [];
    for (const entry of byName.values()) {
      const name = entry.value.name as string;
      if (builtIn.has(name)) {
        this.error(entry, ['name'], `${JSON.stringify(name)} is a built-in role of algorithm store ${catalog.release}`, 'give it to store users without declaring it, or choose another name');
        continue;
      }
      const rules: StoreRuleKey[] = [];
      list(entry.value.rules).forEach((item, index) => {
        if (!isRecord(item) || typeof item.resource !== 'string') return;
        const resource = item.resource;
        const available = catalog.rules.filter((rule) => rule.resource === resource).map((rule) => rule.operation);
        if (available.length === 0) {
          this.error(entry, ['rules', index, 'resource'], `algorithm store ${catalog.release} has no rules for ${resource}`,
            `its resources: ${[...new Set(catalog.rules.map((rule) => rule.resource))].join(', ')}`);
          return;
        }
        const operations = item.operation === 'all' ? available : list(item.operation).length > 0 ? list(item.operation) : [item.operation];
        for (const operation of operations) {
          if (typeof operation !== 'string') continue;
          if (available.includes(operation)) rules.push(storeRuleKey(resource, operation));
          else this.error(entry, ['rules', index, 'operation'], `algorithm store ${catalog.release} has no rule to ${operation} ${resource}`, `${resource} has: ${available.join(', ')}`);
        }
      });
      roles.push({ store: url, name, description: optionalText(entry.value.description), rules: sortedUnique(rules) });
    }
    return roles;
  }

  /** A store's users: each once, holding built-in roles or the store's own declared ones. */
  private checkStoreUsers(store: Entry, url: string, customRoles: ReadonlySet<string>): StoreUser[] {
    const catalog = storeCatalog(storeReleaseFor(this.server.keycloak));
    const known = new Set([...catalog.defaultRoles.map((r) => r.name), ...customRoles]);
    const entries = list(store.value.users).flatMap((item, index) => (isRecord(item) ? [{ document: store.document, path: [...store.path, 'users', index], value: item }] : []));
    const byName = this.unique('store user', (e) => text(e.value.username), String, entries, 'username', (n) => JSON.stringify(n));
    return [...byName.values()].map((entry) => {
      const roles: string[] = [];
      list(entry.value.roles).forEach((item, index) => {
        const role = text(item);
        if (role === null) return;
        if (known.has(role)) roles.push(role);
        else this.error(entry, ['roles', index], `unknown store role ${JSON.stringify(role)}`, didYouMean(role, known) ?? 'declare it under the store\'s roles, or use a built-in store role');
      });
      return { store: url, username: entry.value.username as string, roles: sortedUnique(roles) };
    });
  }

  private checkRoles(entries: Entry[], orgNames: ReadonlySet<string>): Role[] {
    const identity = (e: Entry): RoleRef | null => {
      const name = text(e.value.name);
      if (name === null) return null;
      const organization = e.value.organization === undefined ? null : text(e.value.organization);
      return { name, organization };
    };
    const describe = (r: RoleRef): string => `${JSON.stringify(r.name)}${r.organization === null ? '' : ` of organization ${JSON.stringify(r.organization)}`}`;
    const byKey = this.unique('role', identity, roleRefKey, entries, 'name', describe);
    const roles: Role[] = [];
    for (const entry of byKey.values()) {
      const ref = identity(entry) as RoleRef;
      if (RESERVED_ROLE_NAMES.has(ref.name)) {
        this.error(entry, ['name'], `a custom role cannot be named ${JSON.stringify(ref.name)}`, 'the server finds this built-in role by name alone; choose another name');
        continue;
      }
      if (DEFAULT_ROLE_NAMES.has(ref.name)) {
        this.error(entry, ['name'], `${JSON.stringify(ref.name)} is a built-in role`, 'give it to users without declaring it, or choose another name for a custom role');
        continue;
      }
      if (ref.organization !== null && !this.reference(entry, ['organization'], 'organization', ref.organization, orgNames)) continue;
      roles.push({ ...ref, description: optionalText(entry.value.description), rules: this.expandRules(entry, ['rules'], entry.value.rules) });
    }
    return roles;
  }

  /** `throughApi`: the config names the server's API as its way in (`server: manage: api`). */
  private checkUsers(entries: Entry[], orgNames: ReadonlySet<string>, roles: readonly Role[], throughApi: boolean): DesiredUser[] {
    const byName = this.unique('username', (e) => text(e.value.username), String, entries, 'username', (n) => JSON.stringify(n));
    this.unique('email', (e) => text(e.value.email), String, entries, 'email', (n) => JSON.stringify(n));
    const roleKeys = new Set(roles.map(roleRefKey));
    const roleNames = new Set([...roles.map((r) => r.name), ...DEFAULT_ROLE_NAMES]);
    const users: DesiredUser[] = [];
    // Every entry is checked, also one without a usable username (a schema error) or a duplicate, so that every error shows at once.
    for (const entry of entries) {
      const identified = byName.get(text(entry.value.username) ?? '') === entry;
      const named = text(entry.value.organization);
      const organization = named !== null && this.reference(entry, ['organization'], 'organization', named, orgNames) ? named : null;
      // The rest is checked also for a user whose organization is unknown, so that every error shows at once.
      const userRoles: RoleRef[] = [];
      list(entry.value.roles).forEach((item, index) => {
        const resolved = this.resolveRole(entry, ['roles', index], item, organization, roleKeys, roleNames);
        if (resolved) userRoles.push(resolved);
        if (resolved && throughApi && organization !== null && isForeignRole(resolved, organization)) {
          this.warning(entry, ['roles', index], `${FOREIGN_ROLE_REFUSAL}: role ${JSON.stringify(resolved.name)} is of organization ${JSON.stringify(resolved.organization)}, the user of ${JSON.stringify(organization)}`,
            'a plan through the server\'s API (server: manage: api) refuses this; give a role of the user\'s organization, or apply through the database');
        }
      });
      const rules = this.expandRules(entry, ['rules'], entry.value.rules);
      const password = this.passwordSource(entry);
      this.checkDottedLogin(entry);
      this.checkMailDomain(entry);
      this.checkDisabling(entry);
      const requiredActions = this.requiredActions(entry);
      if (organization === null || !identified) continue;
      users.push({
        username: entry.value.username as string,
        organization,
        firstname: optionalText(entry.value.firstname),
        lastname: optionalText(entry.value.lastname),
        email: text(entry.value.email),
        enabled: entry.value.enabled !== false,
        roles: sortRoleRefs(userRoles),
        rules,
        password,
        ...(requiredActions.length > 0 ? { requiredActions } : {}),
      });
    }
    return users;
  }

  /**
   * A bare name means: the user's organization's role, else a role without
   * organization, else a built-in role. When the user's organization is
   * unknown (null), which role is meant cannot be told: a name that some role
   * has passes, and only a name no role has is an error.
   */
  private resolveRole(entry: Entry, sub: DocumentPath, item: unknown, userOrganization: string | null, roleKeys: ReadonlySet<string>, roleNames: ReadonlySet<string>): RoleRef | null {
    const candidates: RoleRef[] = [];
    let name: string | null = null;
    if (typeof item === 'string') {
      name = item;
      if (userOrganization === null && roleNames.has(name)) return null;
      candidates.push(...(userOrganization === null ? [] : [{ name, organization: userOrganization }]), { name, organization: null });
    } else if (isRecord(item) && typeof item.name === 'string') {
      name = item.name;
      candidates.push({ name, organization: typeof item.organization === 'string' ? item.organization : null });
    }
    if (name === null) return null;
    for (const candidate of candidates) {
      if (roleKeys.has(roleRefKey(candidate))) return candidate;
      if (candidate.organization === null && DEFAULT_ROLE_NAMES.has(candidate.name)) return candidate;
    }
    this.error(entry, sub, `unknown role ${JSON.stringify(name)}`, didYouMean(name, roleNames) ?? 'declare it under roles, or use a built-in role');
    return null;
  }

  /**
   * Keycloak (vantage6 5) mails a user at the IDNA 2003 form of their
   * domain, in which ß, final ς and joiners are other letters than in the
   * IDNA 2008 form browsers and mail servers use: another domain.
   */
  private checkMailDomain(entry: Entry): void {
    const email = text(entry.value.email);
    const domain = email?.slice(email.lastIndexOf('@') + 1) ?? '';
    if (!this.server.keycloak || !idnaFormsDiffer(domain)) return;
    this.warning(entry, ['email'], `Keycloak sends mail for ${JSON.stringify(email)} to ${idna2003Ascii(domain) ?? ''} (IDNA 2003, where ß is ss and ς is σ), not to ${idna2008Ascii(domain) ?? ''}, the domain as written`,
      'check that the user receives mail there, or give an address without ß, final ς or joiners in its domain');
  }

  /** Disabling keeps a user and their history but takes every power: only vantage6 5's Keycloak can; a 4.x server has no such state. */
  private checkDisabling(entry: Entry): void {
    if (this.server.keycloak || entry.value.enabled !== false) return;
    this.error(entry, ['enabled'], `${this.serverName} cannot disable a user: a 4.x server keeps no such state`,
      'remove enabled: false, and take the user\'s roles and rules (they keep their history), or delete the user');
  }

  /** What a new user must do at the first login: Keycloak's required actions, which only vantage6 5 has. */
  private requiredActions(entry: Entry): RequiredAction[] {
    const listed = list(entry.value.required_actions).filter((a): a is RequiredAction => REQUIRED_ACTIONS.includes(a as RequiredAction));
    if (listed.length > 0 && !this.server.keycloak) {
      this.error(entry, ['required_actions'], `${this.serverName} has no required actions at the first login: they are Keycloak's, on vantage6 5`,
        'remove required_actions: here; a config shared with 4.x servers can keep it in a file given only to vantage6 5');
      return [];
    }
    return [...new Set(listed)].sort();
  }

  /** A username the server's login may refuse: a warning, since the user is still created and the server can be upgraded. */
  private checkDottedLogin(entry: Entry): void {
    const username = text(entry.value.username);
    if (!this.server.refusesDottedLogins || username === null || !username.includes('.')) return;
    const { minor, patches, fixedIn } = DOTTED_LOGIN_REFUSED;
    const releases = patches.map((patch) => `${formatMinor(minor)}.${patch}`).join(' and ');
    this.warning(entry, ['username'], `${JSON.stringify(username)} cannot log in to vantage6 ${releases}, which refuse a username with a dot `
      + `("Only letters, numbers, hyphens and underscores are allowed"); ${this.serverName} may be one of them`,
    `upgrade the server to ${fixedIn} or later (4.0 to 4.2 and ${fixedIn} onwards accept it), or rename the user without the dot (previous_usernames keeps its id)`);
  }

  private passwordSource(entry: Entry): PasswordSource {
    const raw = entry.value.password;
    if (typeof raw !== 'string') return null;
    if (raw === 'generate') return { from: 'generate' };
    if (raw === 'invite') return this.invitation(entry);
    const variable = referencedVariable(raw);
    if (variable === null) {
      this.error(entry, ['password'], 'a password must not be written in the config', 'write ${ENV_VAR} to read it from the environment at apply time, or generate');
      return null;
    }
    if (this.env[variable] === undefined) {
      this.warning(entry, ['password'], `environment variable ${variable} is not set`, 'it must be set when apply creates this user');
    }
    return { from: 'env', variable };
  }

  /** An invitation: Keycloak's e-mail to the user's address, which only vantage6 5 has. */
  private invitation(entry: Entry): PasswordSource {
    if (!this.server.keycloak) {
      this.error(entry, ['password'], `${this.serverName} sends no invitations: they are Keycloak's, on vantage6 5`,
        'write password: generate (or ${ENV_VAR}); a config shared with 4.x servers can keep the invitation in a file given only to vantage6 5');
      return null;
    }
    if (text(entry.value.email) === null) {
      this.error(entry, ['password'], 'an invitation is e-mailed to the user, who has no email: here', 'add email: (the address Keycloak sends the link to)');
      return null;
    }
    return { from: 'invite' };
  }

  private expandRules(entry: Entry, sub: DocumentPath, value: unknown): RuleKey[] {
    const keys: RuleKey[] = [];
    const server = this.serverName;
    list(value).forEach((item, index) => {
      if (!isRecord(item) || typeof item.resource !== 'string') return;
      const at = [...sub, index];
      const resource = item.resource;
      const scopes = spelledValues(item.scope, SCOPE_SPELLINGS, SCOPES);
      const operations = spelledValues(item.operation, OPERATION_SPELLINGS, OPERATIONS);
      if (scopes === null || operations === null) return;
      const available = this.rules.get(resource) ?? [];
      // A resource no release has is the schema's error, with what was meant; this one is for older servers.
      if (available.length === 0 && !NEWEST_RESOURCES.has(resource)) return;
      if (available.length === 0) {
        this.error(entry, at, `${server} has no rules for ${resource}`, 'the rules come from the server\'s own catalogue; upgrade the server or remove this rule');
        return;
      }
      const has = (): string => `${resource} has: ${available.map((r) => `${readableSpelling(r.operation)}/${readableSpelling(r.scope)}`).join(', ')}`;
      const explicit = item.scope !== 'all' && item.operation !== 'all';
      let found = 0;
      for (const scope of scopes) {
        for (const operation of operations) {
          const key = ruleKey({ resource, scope, operation });
          if (this.ruleKeys.has(key)) {
            keys.push(key);
            found++;
          } else if (explicit) {
            this.error(entry, at, `${server} has no rule to ${readableSpelling(operation)} ${resource} with scope ${readableSpelling(scope)}`, has());
          }
        }
      }
      if (!explicit && found === 0) this.error(entry, at, `no rule of ${resource} in ${server} matches these scopes and operations`, has());
    });
    return sortedUnique(keys);
  }
}
