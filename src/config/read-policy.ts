import {
  DEFAULT_ROLE_NAMES, OPERATIONS, OPERATION_SPELLINGS, SCOPES, SCOPE_SPELLINGS, parseRuleKey, spelledValues,
} from '../catalog/rule-catalog.js';
import { describeServer, type ServerProfile } from '../catalog/server-profile.js';
import { STORE_RESOURCE_PREFIX, storeCatalog, storeReleaseFor } from '../catalog/store-catalog.js';
import type { Guardrail, GuardrailRequirement, RoleMatcher, RulePattern } from '../federation.js';
import type { Diagnostic, DocumentPath } from '../diagnostic.js';
import type { ConfigDocument } from './load-config.js';
import { didYouMean } from '../suggest.js';

/** A guardrail and where the config declares it. */
export interface LocatedGuardrail {
  readonly guardrail: Guardrail;
  readonly document: ConfigDocument;
  readonly path: DocumentPath;
}

/** What the rest of the config declares, for checking what guardrails name. */
export interface PolicyContext {
  readonly usernames: ReadonlySet<string>;
  readonly roleNames: ReadonlySet<string>;
  /** The store roles the config declares, at any store. */
  readonly storeRoleNames: ReadonlySet<string>;
  readonly server: ServerProfile;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const strings = (value: unknown): string[] | undefined =>
  (typeof value === 'string' ? [value] : Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : undefined);

/**
 * The guardrails of every document's `policy:`, merged in file order. The
 * schema has checked their shape; here: names unique across files, and a
 * warning for users, roles and resources the config and the server do not
 * have (a guardrail may name users the config does not manage).
 */
export function readPolicy(documents: readonly ConfigDocument[], context: PolicyContext, diagnostics: Diagnostic[]): LocatedGuardrail[] {
  const guardrails: LocatedGuardrail[] = [];
  const seen = new Map<string, { document: ConfigDocument; path: DocumentPath }>();
  const resources = new Set(context.server.rules.map((key) => parseRuleKey(key).resource));
  const storeCatalogue = storeCatalog(storeReleaseFor(context.server.keycloak));
  const storeResources = new Set(storeCatalogue.rules.map((rule) => `${STORE_RESOURCE_PREFIX}${rule.resource}`));
  const storeRoleNames = [...context.storeRoleNames, ...storeCatalogue.defaultRoles.map((role) => role.name)];
  for (const document of documents) {
    if (!isRecord(document.value) || !isRecord(document.value.policy) || !Array.isArray(document.value.policy.guardrails)) continue;
    document.value.policy.guardrails.forEach((item: unknown, index) => {
      const path: DocumentPath = ['policy', 'guardrails', index];
      const problem = (severity: Diagnostic['severity'], sub: DocumentPath, message: string, hint?: string): void => {
        diagnostics.push({ severity, location: document.locate([...path, ...sub]), path: [...path, ...sub], message, hint });
      };
      const guardrail = guardrailOf(item);
      if (guardrail === null) return;
      if (Object.keys(guardrail.rules).length === 0) {
        problem('error', ['rules'], 'rules: {} matches every rule', 'name the resource, scope or operation of the rules the guardrail is about');
        return;
      }
      if (guardrail.only === undefined && guardrail.atMost === undefined && guardrail.require === undefined) {
        problem('error', [], `guardrail ${JSON.stringify(guardrail.name)} limits nothing`,
          'add only: (who may hold its rules), at_most: (how many users may) or require: [two_factor] (what they must have)');
        return;
      }
      if (guardrail.require !== undefined && !context.server.keycloak) {
        problem('error', ['require'], `${describeServer(context.server)} keeps no user's two-factor authentication for fedctl to check: vantage6 5 keeps it in Keycloak`,
          'a 4.x server requires it of every user with two_factor_auth: true in its configuration; remove require: here');
        return;
      }
      const first = seen.get(guardrail.name);
      if (first !== undefined) {
        const at = first.document.locate([...first.path, 'name']);
        problem('error', ['name'], `duplicate guardrail ${JSON.stringify(guardrail.name)}`, `already declared at ${at.file}:${at.line}:${at.column}`);
        return;
      }
      seen.set(guardrail.name, { document, path });
      const atStores = (guardrail.rules.resources ?? []).filter((resource) => resource.startsWith(STORE_RESOURCE_PREFIX));
      if (guardrail.stores && atStores.length < (guardrail.rules.resources ?? []).length) {
        problem('error', ['rules', 'resource'], 'a guardrail is about the server\'s rules or the stores\', not both', 'make two guardrails: one for the server\'s resources, one for store.* resources');
        return;
      }
      if (guardrail.stores && guardrail.rules.scopes !== undefined) {
        problem('error', ['rules', 'scope'], 'a store\'s rules have no scope', 'remove scope: from a guardrail about store.* resources');
        return;
      }
      for (const resource of guardrail.rules.resources ?? []) {
        if (guardrail.stores ? !storeResources.has(resource) : !resources.has(resource)) {
          const server = guardrail.stores ? `algorithm store ${storeCatalogue.release}` : describeServer(context.server);
          problem('warning', ['rules', 'resource'], `${server} has no rules for ${resource}: the guardrail matches none`);
        }
      }
      guardrail.only?.users.forEach((username, i) => {
        if (context.usernames.has(username)) return;
        problem('warning', ['only', 'users', i], `${JSON.stringify(username)} is not a user of the config`,
          didYouMean(username, context.usernames) ?? 'fine when the server has this user; otherwise a misspelling');
      });
      guardrail.only?.roles.forEach((role, i) => {
        if (guardrail.stores) {
          if (role.organization !== undefined) problem('error', ['only', 'roles', i], 'a store role belongs to no organization', 'name the store role alone');
          else if (!storeRoleNames.includes(role.name)) {
            problem('warning', ['only', 'roles', i], `no store role of the config is named ${JSON.stringify(role.name)}`,
              didYouMean(role.name, storeRoleNames) ?? 'fine when the store has this role; otherwise a misspelling');
          }
          return;
        }
        if (context.roleNames.has(role.name) || DEFAULT_ROLE_NAMES.has(role.name)) return;
        problem('warning', ['only', 'roles', i], `no role of the config is named ${JSON.stringify(role.name)}`,
          didYouMean(role.name, [...context.roleNames, ...DEFAULT_ROLE_NAMES]) ?? 'fine when the server has this role; otherwise a misspelling');
      });
      guardrails.push({ guardrail, document, path });
    });
  }
  return guardrails;
}

/** One guardrail as the domain has it; null when malformed (the schema has reported it). */
function guardrailOf(item: unknown): Guardrail | null {
  if (!isRecord(item) || typeof item.name !== 'string' || !isRecord(item.rules)) return null;
  const { resource, scope, operation } = item.rules;
  const scopes = scope === undefined ? undefined : spelledValues(scope, SCOPE_SPELLINGS, SCOPES);
  const operations = operation === undefined ? undefined : spelledValues(operation, OPERATION_SPELLINGS, OPERATIONS);
  if (scopes === null || operations === null) return null;
  const rules: RulePattern = {
    ...(resource === undefined ? {} : { resources: strings(resource) ?? [] }),
    ...(scopes === undefined ? {} : { scopes }),
    ...(operations === undefined ? {} : { operations }),
  };
  const only = isRecord(item.only)
    ? { users: strings(item.only.users) ?? [], roles: Array.isArray(item.only.roles) ? item.only.roles.flatMap(roleMatcherOf) : [] }
    : undefined;
  const atMost = typeof item.at_most === 'number' ? item.at_most : undefined;
  const require = Array.isArray(item.require) ? item.require.filter((r): r is GuardrailRequirement => r === 'two_factor') : [];
  const stores = (rules.resources ?? []).some((r) => r.startsWith(STORE_RESOURCE_PREFIX));
  return {
    name: item.name, stores, rules, ...(only === undefined ? {} : { only }), ...(atMost === undefined ? {} : { atMost }), ...(require.length === 0 ? {} : { require }),
  };
}

/** `Name` (of any organization) or `{ name, organization }` (of one; without organization when it is absent). */
function roleMatcherOf(value: unknown): RoleMatcher[] {
  if (typeof value === 'string') return [{ name: value }];
  if (!isRecord(value) || typeof value.name !== 'string') return [];
  return [{ name: value.name, organization: typeof value.organization === 'string' ? value.organization : null }];
}
