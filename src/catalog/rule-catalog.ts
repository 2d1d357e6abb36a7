
/** Scopes as the database stores them (the Python enum member names). */
export const SCOPES = ['OWN', 'ORGANIZATION', 'COLLABORATION', 'GLOBAL'] as const;
export type Scope = (typeof SCOPES)[number];

/** Operations as the database stores them. */
export const OPERATIONS = ['VIEW', 'EDIT', 'CREATE', 'DELETE', 'SEND', 'RECEIVE'] as const;
export type Operation = (typeof OPERATIONS)[number];

/** A rule's identity; rule ids differ between servers, triples do not. */
export interface RuleTriple {
  readonly resource: string;
  readonly scope: Scope;
  readonly operation: Operation;
}

/** `resource:SCOPE:OPERATION`, e.g. `node:ORGANIZATION:VIEW`: a rule triple as one comparable string. */
export type RuleKey = string;

export function ruleKey(rule: RuleTriple): RuleKey {
  return `${rule.resource}:${rule.scope}:${rule.operation}`;
}

export function parseRuleKey(key: RuleKey): RuleTriple {
  const [resource = '', scope, operation] = key.split(':');
  return { resource, scope: scope as Scope, operation: operation as Operation };
}

/** Config spellings of scopes, readable and as the API's short values. */
export const SCOPE_SPELLINGS: Readonly<Record<string, Scope>> = {
  own: 'OWN',
  organization: 'ORGANIZATION',
  org: 'ORGANIZATION',
  collaboration: 'COLLABORATION',
  col: 'COLLABORATION',
  global: 'GLOBAL',
  glo: 'GLOBAL',
};

export const OPERATION_SPELLINGS: Readonly<Record<string, Operation>> = {
  view: 'VIEW', v: 'VIEW',
  edit: 'EDIT', e: 'EDIT',
  create: 'CREATE', c: 'CREATE',
  delete: 'DELETE', d: 'DELETE',
  send: 'SEND', s: 'SEND',
  receive: 'RECEIVE', r: 'RECEIVE',
};

/** A config's scope or operation field (one spelling, a list, or `all`) as stored values; null when malformed (the schema reports it). */
export function spelledValues<T extends Scope | Operation>(value: unknown, map: Readonly<Record<string, T>>, all: readonly T[]): T[] | null {
  if (value === 'all') return [...all];
  const items = typeof value === 'string' ? [value] : Array.isArray(value) ? value : null;
  if (items === null) return null;
  const out: T[] = [];
  for (const item of items) {
    const mapped = typeof item === 'string' && Object.hasOwn(map, item) ? map[item] : undefined;
    if (mapped === undefined) return null;
    out.push(mapped);
  }
  return out;
}

/** The readable config spelling of a stored scope or operation (`ORGANIZATION` → `organization`). */
export function readableSpelling(value: Scope | Operation): string {
  return value.toLowerCase();
}

/** `task: view (collaboration)`: a rule as people read it. */
export function describeRule(key: RuleKey): string {
  const rule = parseRuleKey(key);
  return `${rule.resource}: ${readableSpelling(rule.operation)} (${readableSpelling(rule.scope)})`;
}

export interface CatalogRule extends RuleTriple {
  readonly id: number;
  readonly description: string;
}

export interface DefaultRole {
  readonly id: number;
  readonly name: string;
  readonly description: string;
  /** Distinct rules of the role. */
  readonly rules: readonly RuleKey[];
  /** Rules in the order and multiplicity the server writes its association rows (duplicates included). */
  readonly associationRows: readonly RuleKey[];
}

/** The names of the 7 built-in roles, the same in every 4.x release; fedctl references them and never changes them. */
export const DEFAULT_ROLE_NAMES: ReadonlySet<string> = new Set(['Root', 'container', 'node', 'Viewer', 'Researcher', 'Organization Admin', 'Collaboration Admin']);

/** Roles the server finds by name alone; a custom role with one of these names would hijack server permissions. */
export const RESERVED_ROLE_NAMES: ReadonlySet<string> = new Set(['Root', 'node', 'container']);
